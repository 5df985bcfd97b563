package orgmodel

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// AuditHead is the end of one organization's audit chain ("" is the chain
// of events that belong to no organization).
type AuditHead struct {
	OrgSID  OrgSID `json:"organization_sid"`
	LastSeq int64  `json:"last_seq"`
	Hash    string `json:"hash"`
	Events  int64  `json:"events"`
}

// NoAuditHead is the LastSeq of the head Tx.AuditHeads answers for a
// chain whose head row is missing: the walk reads all its events and finds
// that no head accounts for them.
const NoAuditHead = int64(1) << 62

// auditHashVersion names the canonical encoding; a change of encoding
// changes it, so that old and new hashes never collide silently.
const auditHashVersion = "orgd-audit-v1"

// AuditHash is the hex SHA-256 of e's canonical encoding: the version,
// then prev, SID, organization, actor, via, remote address, action,
// target, before, after and the time in Unix milliseconds, each as a
// 4-byte big-endian length and its bytes. Seq is left out: the chain, not
// the database's counter, orders an organization's events.
func AuditHash(prev string, e *AuditEvent) string {
	h := sha256.New()
	var n [4]byte
	for _, f := range []string{auditHashVersion, prev, string(e.SID), string(e.OrgSID), e.Actor, e.Via,
		e.RemoteAddr, e.Action, e.Target, e.Before, e.After, strconv.FormatInt(e.At.UnixMilli(), 10)} {
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditChainReport is what VerifyAudit found.
type AuditChainReport struct {
	Status string           `json:"status"` // "ok" or "broken"
	Chains int              `json:"chains"`
	Events int64            `json:"events"`
	Heads  []*AuditHead     `json:"heads"`
	Broken *AuditBrokenLink `json:"broken,omitempty"`
}

// AuditBrokenLink names the first event at which a chain stops holding.
type AuditBrokenLink struct {
	OrgSID   OrgSID   `json:"organization_sid"`
	EventSID AuditSID `json:"event_sid,omitempty"`
	Seq      int64    `json:"seq,omitempty"`
	Reason   string   `json:"reason"`
}

func (b *AuditBrokenLink) Error() string {
	org := string(b.OrgSID)
	if org == "" {
		org = "(no organization)"
	}
	if b.EventSID == "" {
		return fmt.Sprintf("R-AUDIT-1: the audit chain of %s is broken: %s", org, b.Reason)
	}
	return fmt.Sprintf("R-AUDIT-1: the audit chain of %s is broken at event %s (seq %d): %s", org, b.EventSID, b.Seq, b.Reason)
}

// auditVerifyPage is how many events one read of VerifyAudit takes.
const auditVerifyPage = 1000

// VerifyAudit walks the audit chains of orgs (every chain when orgs is
// empty) from their first event to their head, recomputing each hash
// (operator only). It answers the report; when a chain is broken the
// report's Broken names the first broken link and the error is a
// R-AUDIT-1 Conflict carrying the same text. Events appended while it
// walks, after the head it read, are left for the next run.
func (s *Service) VerifyAudit(ctx context.Context, a Actor, orgs []OrgSID) (*AuditChainReport, error) {
	if !a.Operator {
		return nil, Breaks("R-ROLE-3", KindForbidden, "only the operator verifies the audit log")
	}
	for _, o := range orgs {
		if o == "" { // the chain of events of no organization
			continue
		}
		if err := o.check("org"); err != nil {
			return nil, err
		}
	}
	var heads []*AuditHead
	if err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		heads, err = tx.AuditHeads(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	rep := &AuditChainReport{Status: "ok", Heads: []*AuditHead{}}
	byOrg := map[OrgSID]*AuditHead{}
	for _, h := range heads {
		byOrg[h.OrgSID] = h
	}
	if len(orgs) > 0 {
		heads = heads[:0]
		for _, o := range orgs {
			h, ok := byOrg[o]
			if !ok {
				h = &AuditHead{OrgSID: o, LastSeq: NoAuditHead}
			}
			heads = append(heads, h)
		}
	}
	for _, h := range heads {
		if err := s.verifyChain(ctx, h); err != nil {
			rep.Status = "broken"
			var b *AuditBrokenLink
			if errors.As(err, &b) {
				rep.Broken = b
				return rep, Breaks("R-AUDIT-1", KindConflict, "%s", b.Error()[len("R-AUDIT-1: "):])
			}
			return nil, err
		}
		rep.Chains++
		rep.Events += h.Events
		rep.Heads = append(rep.Heads, h)
	}
	return rep, nil
}

func (s *Service) verifyChain(ctx context.Context, h *AuditHead) error {
	var prev string
	var after, n int64
	for {
		var page []*AuditEvent
		if err := s.store.Read(ctx, func(tx Tx) error {
			var err error
			page, err = tx.AuditChain(ctx, h.OrgSID, after, h.LastSeq, auditVerifyPage)
			return err
		}); err != nil {
			return err
		}
		for _, e := range page {
			switch {
			case e.OrgSID != h.OrgSID:
				return &AuditBrokenLink{OrgSID: h.OrgSID, EventSID: e.SID, Seq: e.Seq, Reason: "the event belongs to another organization"}
			case e.PrevHash != prev:
				reason := "its previous hash does not match the event before it: an event before it was changed, removed or moved"
				if n == 0 {
					reason = "it is the first event of the chain but names a previous event: the events before it were removed"
				}
				return &AuditBrokenLink{OrgSID: h.OrgSID, EventSID: e.SID, Seq: e.Seq, Reason: reason}
			case e.Hash != AuditHash(prev, e):
				return &AuditBrokenLink{OrgSID: h.OrgSID, EventSID: e.SID, Seq: e.Seq, Reason: "its content does not match its hash: the event was changed"}
			}
			prev, after = e.Hash, e.Seq
			n++
		}
		if len(page) < auditVerifyPage {
			break
		}
	}
	switch {
	case n != h.Events || prev != h.Hash:
		reason := fmt.Sprintf("the chain holds %d events ending with hash %q, but its head records %d ending with %q: events were removed or the head was changed", n, short(prev), h.Events, short(h.Hash))
		return &AuditBrokenLink{OrgSID: h.OrgSID, Reason: reason}
	}
	return nil
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}
