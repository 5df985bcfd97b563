package orgmodel

import (
	"context"
	"errors"
	"fmt"
)

// MergeCheck is one precondition of a merge and whether it passes.
type MergeCheck struct {
	Rule   string `json:"rule"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// MergePreflight lists, rule by rule, what would let or stop a merge of
// candidate into prime (R-MERGE-2, R-MERGE-3, R-MERGE-4, R-HIER-3).
type MergePreflight struct {
	Prime     OrgSID       `json:"prime"`
	Candidate OrgSID       `json:"candidate"`
	Checks    []MergeCheck `json:"checks"`
	OK        bool         `json:"ok"`
}

// MergeResult is what a merge moved.
type MergeResult struct {
	Prime         OrgSID `json:"prime"`
	Candidate     OrgSID `json:"candidate"`
	AccountsMoved int    `json:"accounts_moved"`
	UsersMoved    int    `json:"users_moved"`
	SessionsEnded int    `json:"sessions_ended"`
}

// mergeState is everything the merge rules look at.
type mergeState struct {
	prime, cand     *Org
	primeDomains    []*Domain
	candDomains     []*Domain
	candOwner       *User
	primeN, candN   int
	enforcedByPrime map[string]bool // prime's verified domains that enforce SSO
	verifiedByPrime map[string]bool
}

// checks evaluates R-MERGE-2..4 and R-HIER-3 on st, pure.
func (st *mergeState) checks() []MergeCheck {
	var out []MergeCheck
	nv := len(st.verifiedByPrime)
	out = append(out, MergeCheck{Rule: "R-MERGE-2", OK: nv > 0,
		Detail: fmt.Sprintf("the prime has %d verified domains (at least one is needed)", nv)})
	od := st.candOwner.Domain()
	out = append(out, MergeCheck{Rule: "R-MERGE-3", OK: st.verifiedByPrime[od],
		Detail: fmt.Sprintf("the candidate's Owner %s has an email on %s, which must be a verified domain of the prime", st.candOwner.Email, od)})
	var own []string
	for _, d := range st.candDomains {
		if d.Status == DomainVerified {
			own = append(own, d.Name)
		}
	}
	detail := "the candidate has no verified domains"
	if len(own) > 0 {
		detail = fmt.Sprintf("the candidate still has verified domains %v; remove them first", own)
	}
	out = append(out, MergeCheck{Rule: "R-MERGE-4", OK: len(own) == 0, Detail: detail})
	total := st.primeN + st.candN
	out = append(out, MergeCheck{Rule: "R-HIER-3", OK: total <= st.prime.AccountLimit,
		Detail: fmt.Sprintf("after the merge the prime would hold %d managed accounts; its limit is %d", total, st.prime.AccountLimit)})
	return out
}

func (s *Service) loadMerge(ctx context.Context, tx Tx, a Actor, prime, cand OrgSID, lock bool) (*mergeState, error) {
	if err := prime.check("prime"); err != nil {
		return nil, err
	}
	if err := cand.check("candidate"); err != nil {
		return nil, err
	}
	if prime == cand {
		return nil, Breaks("R-MERGE-1", KindInvalid, "an organization cannot be merged into itself")
	}
	get := tx.GetOrg
	if lock {
		get = tx.LockOrg
	}
	// Lock in SID order so that two merges never deadlock. A missing
	// candidate is not reported yet: it must look like a hidden one.
	first, second := prime, cand
	if second < first {
		first, second = second, first
	}
	orgs := map[OrgSID]*Org{}
	for _, sid := range []OrgSID{first, second} {
		o, err := get(ctx, sid)
		if errors.Is(err, ErrNotFound) && sid == cand {
			continue
		} else if err != nil {
			return nil, notFoundAs(err, "organization", string(sid))
		}
		orgs[sid] = o
	}
	if _, err := s.authorize(ctx, tx, a, prime, permAdmin, "merge organizations"); err != nil {
		return nil, err
	}
	st := &mergeState{prime: orgs[prime], cand: orgs[cand], enforcedByPrime: map[string]bool{}, verifiedByPrime: map[string]bool{}}
	var err error
	if st.primeDomains, err = tx.ListDomains(ctx, prime); err != nil {
		return nil, err
	}
	for _, d := range st.primeDomains {
		if d.Status == DomainVerified {
			st.verifiedByPrime[d.Name] = true
			if d.SSOEnforced {
				st.enforcedByPrime[d.Name] = true
			}
		}
	}
	if len(st.verifiedByPrime) == 0 {
		return nil, Breaks("R-MERGE-2", KindConflict, "cannot merge: this organization has no verified domain; verify one first")
	}
	// An organization whose Owner is not on one of the prime's verified
	// domains is none of the prime's business (R-MERGE-3): it is answered
	// exactly like one that does not exist, revealing nothing of it.
	hidden := &RuleError{Rule: "R-MERGE-3", Kind: KindNotFound, Field: "candidate",
		Msg: fmt.Sprintf("organization %s not found among those whose Owner has an email on a verified domain of this organization", cand)}
	if st.cand == nil {
		return nil, hidden
	}
	if st.candOwner, err = tx.GetUser(ctx, st.cand.OwnerSID); err != nil {
		return nil, err
	}
	if !st.verifiedByPrime[st.candOwner.Domain()] {
		return nil, hidden
	}
	if st.candDomains, err = tx.ListDomains(ctx, cand); err != nil {
		return nil, err
	}
	if st.primeN, err = managedCount(ctx, tx, prime); err != nil {
		return nil, err
	}
	if st.candN, err = tx.CountAccounts(ctx, AccountFilter{OrgSID: cand, TopLevel: true, NotClosed: true}); err != nil {
		return nil, err
	}
	return st, nil
}

// PreflightMerge tells, rule by rule, whether candidate can merge into
// prime, without changing anything.
func (s *Service) PreflightMerge(ctx context.Context, a Actor, prime, cand OrgSID) (*MergePreflight, error) {
	var out *MergePreflight
	err := s.store.Read(ctx, func(tx Tx) error {
		st, err := s.loadMerge(ctx, tx, a, prime, cand, false)
		if err != nil {
			return err
		}
		out = &MergePreflight{Prime: prime, Candidate: cand, Checks: st.checks(), OK: true}
		for _, c := range out.Checks {
			out.OK = out.OK && c.OK
		}
		return nil
	})
	return out, err
}

// MergeOrgs merges candidate into prime (R-MERGE-1): the prime must have a
// verified domain (R-MERGE-2) on which the candidate's Owner has an email
// (R-MERGE-3), the candidate must have no verified domains (R-MERGE-4), and
// the prime must stay within its account limit (R-HIER-3). Then every
// account and user of the candidate belongs to the prime, its Owner becomes
// an Administrator, and the candidate ceases to exist (R-MERGE-5, R-ORG-1).
// Merged users on a domain where the prime enforces SSO lose their sessions
// and must log in through the prime's IdP from now on (R-MERGE-6). It all
// happens in one transaction (R-MERGE-7). Owner or Administrator of the prime.
func (s *Service) MergeOrgs(ctx context.Context, a Actor, prime, cand OrgSID) (*MergeResult, error) {
	var res *MergeResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		st, err := s.loadMerge(ctx, tx, a, prime, cand, true)
		if err != nil {
			return err
		}
		for _, c := range st.checks() {
			if !c.OK {
				return Breaks(c.Rule, KindConflict, "cannot merge: %s", c.Detail)
			}
		}
		now := s.Now()
		res = &MergeResult{Prime: prime, Candidate: cand}
		// Users on a domain the prime enforces SSO for must log in through
		// its IdP from this moment (R-MERGE-6): end their sessions now.
		users, err := tx.ListUsers(ctx, UserFilter{OrgSID: cand})
		if err != nil {
			return err
		}
		for _, u := range users {
			if st.enforcedByPrime[u.Domain()] {
				n, err := tx.EndUserSessions(ctx, u.SID, "merged_into_sso_org", now)
				if err != nil {
					return err
				}
				res.SessionsEnded += n
			}
		}
		owner := st.candOwner
		beforeOwner := clone(owner)
		owner.Role = RoleAdministrator
		if err := s.saveUser(ctx, tx, owner); err != nil {
			return err
		}
		if res.UsersMoved, err = tx.MoveUsers(ctx, cand, prime, now); err != nil {
			return err
		}
		if res.AccountsMoved, err = tx.MoveAccounts(ctx, cand, prime, now); err != nil {
			return err
		}
		if err := tx.MoveGrants(ctx, cand, prime); err != nil {
			return err
		}
		if err := s.dropOrgState(ctx, tx, cand, prime); err != nil {
			return err
		}
		if err := tx.DeleteOrg(ctx, cand); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, prime, "user.role", string(owner.SID), beforeOwner, owner); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, cand, "org.merge", string(cand), st.cand, res); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, prime, "org.merge", string(cand), st.cand, res)
	})
	return res, err
}

// dropOrgState clears links that the merge made pointless: the prime's
// own independent or pending links to accounts it now manages. What belonged
// to the candidate itself (domains, links, invitations, SCIM tokens, OAuth
// clients, IdP) goes with its row (ON DELETE CASCADE); users, accounts and
// grants must have moved first (the store refuses to delete an organization
// that still holds any).
func (s *Service) dropOrgState(ctx context.Context, tx Tx, cand, prime OrgSID) error {
	links, err := tx.ListLinks(ctx, prime, "")
	if err != nil {
		return err
	}
	for _, l := range links {
		acct, err := tx.GetAccount(ctx, l.AccountSID)
		if err != nil {
			return err
		}
		if acct.OrgSID == prime {
			if err := tx.DeleteLink(ctx, l.OrgSID, l.AccountSID); err != nil {
				return err
			}
		}
	}
	return nil
}
