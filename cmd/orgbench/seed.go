package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
	"github.com/orgd/orgd/store"
)

// state is what orgbench keeps of a seeded organization, beside the
// database, so that a later run reuses it.
type state struct {
	DB         string        `json:"db"`
	Org        string        `json:"org"`
	Domain     string        `json:"domain"`
	Users      int           `json:"users"`
	SCIMToken  string        `json:"scim_token"`
	AccountSID string        `json:"account_sid"`
	AuthToken  string        `json:"auth_token"`
	Groups     []string      `json:"groups"`
	Sample     []sampledUser `json:"sample"` // random seeded users
	Ordered    []string      `json:"-"`
	SeedTime   time.Duration `json:"seed_time"`
	Reused     bool          `json:"-"`
}

type sampledUser struct {
	SID   string `json:"sid"`
	Email string `json:"email"`
}

const sampleSize = 20000

// txtZone answers domain verification from memory: the seeded domain is
// verified without DNS.
type txtZone map[string][]string

func (z txtZone) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := z[name]; ok {
		return v, nil
	}
	return nil, errors.New("no such record")
}

func loadOrSeed(ctx context.Context, c *config, rep *report, stderr io.Writer) (*state, error) {
	if raw, err := os.ReadFile(c.state); err == nil {
		var st state
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("the state file %s is not orgbench's: %v", c.state, err)
		}
		if st.DB != c.db {
			return nil, fmt.Errorf("the state file %s belongs to another database; remove it or give --state", c.state)
		}
		if st.Users != c.users || len(st.Groups) != c.groups {
			return nil, fmt.Errorf("the database was seeded with %d users and %d groups, not %d and %d; use a new database (or those numbers)", st.Users, len(st.Groups), c.users, c.groups)
		}
		st.Reused = true
		rep.seed = &st
		fmt.Fprintf(stderr, "orgbench: reusing the organization %s seeded with %d users (%s)\n", st.Org, st.Users, c.state)
		return &st, nil
	}
	st, err := seed(ctx, c, stderr)
	if err != nil {
		return nil, err
	}
	raw, _ := json.MarshalIndent(st, "", " ")
	if err := os.WriteFile(c.state, raw, 0o600); err != nil {
		return nil, err
	}
	rep.seed = st
	return st, nil
}

// seed creates an organization (through orgmodel.Service, with its rules
// and audit events) with a verified domain, a SCIM token and an account,
// then bulk-inserts c.users users through store.SeedUsers (keys in order,
// so that every index grows at its end) and c.groups groups.
func seed(ctx context.Context, c *config, stderr io.Writer) (*state, error) {
	db, err := store.Open(ctx, c.db, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	zone := txtZone{}
	svc := orgmodel.NewService(db, orgmodel.Config{BaseURL: "http://127.0.0.1", Hasher: password.Fast, Resolver: zone})
	op := orgmodel.OperatorActor("cli")
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	st := &state{DB: c.db, Domain: "b" + hex.EncodeToString(rnd[:]) + ".test", Users: c.users}
	t0 := time.Now()
	r, err := svc.SignUp(ctx, op, orgmodel.SignUpInput{Email: "owner@" + st.Domain, Password: "Corr3ct-Horse-Battery", Name: "Bench", EmailVerified: true})
	if err != nil {
		return nil, fmt.Errorf("sign-up: %w", err)
	}
	st.Org, st.AccountSID, st.AuthToken = string(r.OrgSID), string(r.AccountSID), r.AuthToken
	d, err := svc.AddDomain(ctx, op, r.OrgSID, st.Domain)
	if err != nil {
		return nil, err
	}
	zone[d.TXTName] = []string{d.TXTValue}
	if _, err := svc.VerifyDomain(ctx, op, r.OrgSID, st.Domain); err != nil {
		return nil, err
	}
	tok, err := svc.CreateSCIMToken(ctx, op, r.OrgSID, "orgbench")
	if err != nil {
		return nil, err
	}
	st.SCIMToken = tok.Token

	sids := make([]string, c.users)
	for i := range sids {
		sids[i] = orgmodel.NewSID(orgmodel.PrefixUser)
	}
	slices.Sort(sids)
	pick := map[int]bool{}
	for len(pick) < min(sampleSize, c.users) {
		pick[mrand.IntN(c.users)] = true
	}
	now := time.Now()
	batch := make([]*orgmodel.User, 0, 50000)
	for i := range c.users {
		email := fmt.Sprintf("u%07d@%s", i, st.Domain)
		given, family := store.BenchName(i)
		batch = append(batch, &orgmodel.User{
			SID: orgmodel.UserSID(sids[i]), Email: email, OrgSID: r.OrgSID,
			Role: orgmodel.RoleStandard, Status: orgmodel.UserActive, GivenName: given, FamilyName: family,
			DisplayName: given + " " + family, ExternalID: fmt.Sprintf("ext-%07d", i), Version: 1, CreatedAt: now, UpdatedAt: now,
		})
		if pick[i] {
			st.Sample = append(st.Sample, sampledUser{SID: sids[i], Email: email})
		}
		if len(batch) == cap(batch) || i == c.users-1 {
			if err := db.SeedUsers(ctx, batch); err != nil {
				return nil, err
			}
			batch = batch[:0]
			if (i+1)%200000 == 0 {
				fmt.Fprintf(stderr, "orgbench: seeded %d users in %v\n", i+1, time.Since(t0).Round(time.Second))
			}
		}
	}
	mrand.Shuffle(len(st.Sample), func(i, j int) { st.Sample[i], st.Sample[j] = st.Sample[j], st.Sample[i] })
	for i := range c.groups {
		g, err := svc.CreateGroup(ctx, op, r.OrgSID, orgmodel.GroupInput{DisplayName: fmt.Sprintf("Bench group %03d", i)})
		if err != nil {
			return nil, fmt.Errorf("creating a group: %w", err)
		}
		st.Groups = append(st.Groups, string(g.SID))
	}
	st.SeedTime = time.Since(t0)
	fmt.Fprintf(stderr, "orgbench: seeded %d users and %d groups in %v\n", c.users, c.groups, st.SeedTime.Round(time.Millisecond))
	return st, nil
}
