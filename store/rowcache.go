package store

import "github.com/orgd/orgd/orgmodel"

// rowCache holds the organizations and domains that the callers of one
// SQLite batch of writes have read (batchState): every SCIM create of a
// batch checks the same organization and the same domain (R-SCIM-1), and
// each read costs the single writer a statement. A write to either table
// through this transaction empties what it could have changed (an
// organization's delete takes its domains with it). A nil cache keeps
// nothing.
type rowCache struct {
	orgs    map[orgmodel.OrgSID]orgmodel.Org
	domains map[domainKey]orgmodel.Domain
}

type domainKey struct {
	org  orgmodel.OrgSID
	name string
}

func newRowCache() *rowCache {
	return &rowCache{orgs: map[orgmodel.OrgSID]orgmodel.Org{}, domains: map[domainKey]orgmodel.Domain{}}
}

// org returns a copy of the cached organization sid.
func (c *rowCache) org(sid orgmodel.OrgSID) (*orgmodel.Org, bool) {
	if c == nil {
		return nil, false
	}
	o, ok := c.orgs[sid]
	return &o, ok
}

func (c *rowCache) keepOrg(o *orgmodel.Org) {
	if c != nil {
		c.orgs[o.SID] = *o
	}
}

// domain returns a copy of org's cached domain name.
func (c *rowCache) domain(org orgmodel.OrgSID, name string) (*orgmodel.Domain, bool) {
	if c == nil {
		return nil, false
	}
	d, ok := c.domains[domainKey{org, name}]
	return &d, ok
}

func (c *rowCache) keepDomain(d *orgmodel.Domain) {
	if c != nil {
		c.domains[domainKey{d.OrgSID, d.Name}] = *d
	}
}

// orgsChanged forgets every organization and domain.
func (c *rowCache) orgsChanged() {
	if c != nil {
		clear(c.orgs)
		clear(c.domains)
	}
}

func (c *rowCache) domainsChanged() {
	if c != nil {
		clear(c.domains)
	}
}
