package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
	"github.com/orgd/orgd/sso/ssotest"
	"github.com/orgd/orgd/store"
)

// driver runs scenarios against the servers.
type driver struct {
	c      *config
	st     *state
	base   string // the baseline server
	client *http.Client
	rr     atomic.Uint64
	notes  []string
	pids   []int // the servers orgbench started, whose CPU time it reads
}

func newDriver(c *config, st *state, baseline string) *driver {
	tr := &http.Transport{MaxIdleConns: 4 * c.conc, MaxIdleConnsPerHost: 2 * c.conc, DisableCompression: true, IdleConnTimeout: 30 * time.Second}
	return &driver{c: c, st: st, base: baseline, client: &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// scenario is how one kind of request is made.
type scenario struct {
	what   string
	expect int
	// next makes worker w's i-th request against the server at base.
	next func(w, i int, base string) (*http.Request, error)
	// sticky sends all of a worker's requests to one server (w mod the
	// number of servers), as a client that pages keeps its connection.
	sticky bool
	// warmup requests per worker are made but not counted.
	warmup int
	// limit bounds the requests of all workers together (0: none).
	limit int64
	// setup runs before the clock starts.
	setup func(ctx context.Context) error
	// done runs after the scenario with the per-worker latencies.
	done func(perWorker [][]time.Duration)
}

func (d *driver) scimReq(method, base, path string, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, base+"/scim/v2"+path, r)
	req.Header.Set("Authorization", "Bearer "+d.st.SCIMToken)
	req.Header.Set("Accept", "application/scim+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	return req
}

func (d *driver) sample(w, i int) sampledUser {
	s := d.st.Sample
	return s[(w*7919+i*104729)%len(s)]
}

func (d *driver) scenario(name string) (*scenario, error) {
	st := d.st
	switch name {
	case "baseline":
		return &scenario{what: "GET of a fixed 0.5 KB JSON body from a bare net/http handler", expect: 200,
			next: func(w, i int, _ string) (*http.Request, error) {
				return http.NewRequest(http.MethodGet, d.base+"/", nil)
			}}, nil
	case "scim-create":
		run := time.Now().UnixNano()
		var seq atomic.Int64
		return &scenario{what: "POST /Users as Okta sends it", expect: 201, next: func(w, i int, base string) (*http.Request, error) {
			n := seq.Add(1)
			email := fmt.Sprintf("new%d-%d@%s", run, n, st.Domain)
			given, family := store.BenchName(int(n) + int(run%1_000_000))
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"name":{"givenName":%q,"familyName":%q},"displayName":%q,"locale":"en-US","emails":[{"primary":true,"value":%q,"type":"work"}],"externalId":"00u%d-%d","groups":[],"password":"1mz050nq","active":true}`, email, given, family, given+" "+family, email, run, n)
			return d.scimReq(http.MethodPost, base, "/Users", body), nil
		}}, nil
	case "scim-get":
		return &scenario{what: "GET /Users/{id}", expect: 200, next: func(w, i int, base string) (*http.Request, error) {
			return d.scimReq(http.MethodGet, base, "/Users/"+d.sample(w, i).SID, ""), nil
		}}, nil
	case "scim-filter":
		return &scenario{what: `GET /Users?filter=userName eq "…"`, expect: 200, next: func(w, i int, base string) (*http.Request, error) {
			f := url.QueryEscape(fmt.Sprintf("userName eq %q", d.sample(w, i).Email))
			return d.scimReq(http.MethodGet, base, "/Users?filter="+f, ""), nil
		}}, nil
	case "scim-list":
		return d.listScenario(), nil
	case "group-patch":
		return &scenario{what: "PATCH /Groups/{id} adding one member", expect: 204, next: func(w, i int, base string) (*http.Request, error) {
			g := st.Groups[(w+i*31)%len(st.Groups)]
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":%q}]}]}`, d.sample(w, i+1).SID)
			return d.scimReq(http.MethodPatch, base, "/Groups/"+g, body), nil
		}}, nil
	case "acs":
		return d.acsScenario(), nil
	case "api-fetch":
		return &scenario{what: "GET /2010-04-01/Accounts/{AC}.json, HTTP Basic", expect: 200, next: func(w, i int, base string) (*http.Request, error) {
			req, err := http.NewRequest(http.MethodGet, base+"/2010-04-01/Accounts/"+st.AccountSID+".json", nil)
			if err == nil {
				req.SetBasicAuth(st.AccountSID, st.AuthToken)
			}
			return req, err
		}}, nil
	}
	return nil, fmt.Errorf("unknown scenario")
}

// listScenario pages through the whole list by 100: worker w starts at
// its share of the list (w/conc of the way) and walks on. Its first page
// is a seek and not counted; the pages after it are what an identity
// provider walking the list sees.
func (d *driver) listScenario() *scenario {
	n := d.st.Users
	conc := d.c.conc
	next := make([]int, conc)
	for w := range next {
		next[w] = 1 + (w*n/conc)/100*100
	}
	starts := append([]int(nil), next...)
	return &scenario{what: "GET /Users?startIndex=…&count=100, walking the list", expect: 200, sticky: true, warmup: 1,
		next: func(w, i int, base string) (*http.Request, error) {
			s := next[w]
			next[w] += 100
			if next[w] > n {
				next[w] = 1
			}
			return d.scimReq(http.MethodGet, base, fmt.Sprintf("/Users?startIndex=%d&count=100", s), ""), nil
		},
		done: func(per [][]time.Duration) {
			if len(per) < 2 {
				return
			}
			first, last := &result{Lat: per[0]}, &result{Lat: per[len(per)-1]}
			d.notes = append(d.notes, fmt.Sprintf("scim-list: the client walking from startIndex %d had p50 %s ms, p99 %s ms; the one walking from startIndex %d (of %d) had p50 %s ms, p99 %s ms.",
				starts[0], ms(first.stats().P50), ms(first.stats().P99), starts[len(starts)-1], n, ms(last.stats().P50), ms(last.stats().P99)))
		}}
}

// fakeT lets the test IdP of sso/ssotest sign outside a test: a failure
// panics with its message, which run turns into an error.
type fakeT struct{ testing.TB }

func (fakeT) Helper()                   {}
func (fakeT) Errorf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (fakeT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (fakeT) FailNow()                  { panic("failed") }
func (fakeT) Cleanup(func())            {}
func (fakeT) Logf(string, ...any)       {}
func (fakeT) Name() string              { return "orgbench" }
func (fakeT) TempDir() string           { return "" }
func (fakeT) Context() context.Context  { return context.Background() }
func (fakeT) Failed() bool              { return false }
func (fakeT) Skipped() bool             { return false }
func (fakeT) Setenv(string, string)     {}
func (fakeT) Attr(string, string)       {}
func (fakeT) Chdir(string)              {}
func (fakeT) Fail()                     { panic("failed") }
func (fakeT) Error(a ...any)            { panic(fmt.Sprint(a...)) }
func (fakeT) Fatal(a ...any)            { panic(fmt.Sprint(a...)) }
func (fakeT) Log(...any)                {}
func (fakeT) Skip(...any)               {}
func (fakeT) SkipNow()                  {}
func (fakeT) Skipf(string, ...any)      {}
func (fakeT) Output() io.Writer         { return io.Discard }
func (fakeT) ArtifactDir() string       { return "" }

// acsScenario configures a fresh test IdP for the organization (through
// orgmodel.Service, IdP-initiated logins allowed), signs --acs-logins
// responses for sampled users before the clock starts, and posts each
// once to the ACS.
func (d *driver) acsScenario() *scenario {
	var docs []string
	var used atomic.Int64
	sc := &scenario{what: "POST /sso/saml/{OR}/acs, a signed IdP-initiated response", expect: http.StatusSeeOther,
		limit: int64(d.c.acsLogins)}
	sc.setup = func(ctx context.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("signing: %v", p)
			}
		}()
		db, err := store.Open(ctx, d.c.db, slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		defer db.Close()
		svc := orgmodel.NewService(db, orgmodel.Config{BaseURL: d.c.baseURL, Hasher: password.Fast})
		t := fakeT{}
		idp := ssotest.NewIdP(t, "https://idp.orgbench.test/metadata", "idp.orgbench.test", time.Now())
		if _, err := svc.SetIdP(ctx, orgmodel.OperatorActor("cli"), orgmodel.OrgSID(d.st.Org), orgmodel.IdPConfig{
			EntityID: idp.EntityID, SSOURL: idp.SSOURL, MetadataXML: string(idp.Metadata()), AllowIdPInitiated: true}); err != nil {
			return fmt.Errorf("configuring the IdP: %w", err)
		}
		acs := d.c.baseURL + "/sso/saml/" + d.st.Org + "/acs"
		aud := d.c.baseURL + "/sso/saml/" + d.st.Org + "/metadata"
		docs = make([]string, d.c.acsLogins)
		var wg sync.WaitGroup
		var next atomic.Int64
		var failure atomic.Value
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if p := recover(); p != nil {
						failure.Store(fmt.Sprint(p))
					}
				}()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(docs) {
						return
					}
					u := d.st.Sample[i%len(d.st.Sample)]
					doc := idp.Build(t, ssotest.Response{NameID: u.Email}, acs, aud, time.Now())
					docs[i] = url.Values{"SAMLResponse": {ssotest.Encode(t, doc)}}.Encode()
				}
			}()
		}
		wg.Wait()
		if f := failure.Load(); f != nil {
			return fmt.Errorf("signing: %v", f)
		}
		return nil
	}
	sc.next = func(w, i int, base string) (*http.Request, error) {
		k := used.Add(1) - 1
		if int(k) >= len(docs) {
			return nil, nil
		}
		req, err := http.NewRequest(http.MethodPost, base+"/sso/saml/"+d.st.Org+"/acs", strings.NewReader(docs[k]))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	}
	return sc
}

// run drives scenario name with c.conc workers for c.duration.
func (d *driver) run(ctx context.Context, name string) (*result, error) {
	sc, err := d.scenario(name)
	if err != nil {
		return nil, err
	}
	if sc.setup != nil {
		if err := sc.setup(ctx); err != nil {
			return nil, err
		}
	}
	urls := d.c.urls
	if name == "baseline" {
		urls = []string{d.base}
	}
	res := &result{Name: name, What: sc.what}
	per := make([][]time.Duration, d.c.conc)
	var errs atomic.Int64
	var firstErr atomic.Value
	var issued atomic.Int64
	deadline := time.Now().Add(d.c.duration)
	cpu0 := d.serverCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range d.c.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for i := 0; time.Now().Before(deadline); i++ {
				if sc.limit > 0 && issued.Add(1) > sc.limit {
					break
				}
				base := urls[0]
				if len(urls) > 1 {
					if sc.sticky {
						base = urls[w%len(urls)]
					} else {
						base = urls[d.rr.Add(1)%uint64(len(urls))]
					}
				}
				req, err := sc.next(w, i, base)
				if err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
					errs.Add(1)
					continue
				}
				if req == nil {
					break
				}
				t0 := time.Now()
				res, err := d.client.Do(req.WithContext(ctx))
				var body []byte
				code := 0
				if err == nil {
					body, _ = io.ReadAll(io.LimitReader(res.Body, 8<<20))
					res.Body.Close()
					code = res.StatusCode
				}
				el := time.Since(t0)
				if err != nil || code != sc.expect {
					errs.Add(1)
					msg := fmt.Sprintf("%s %s: ", req.Method, req.URL.Path)
					if err != nil {
						msg += err.Error()
					} else {
						msg += fmt.Sprintf("%d %s", code, excerpt(string(body)))
					}
					firstErr.CompareAndSwap(nil, msg)
					continue
				}
				if i >= sc.warmup {
					lat = append(lat, el)
				}
			}
			per[w] = lat
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if name != "baseline" {
		res.ServerCPU = d.serverCPU() - cpu0
	}
	for _, l := range per {
		res.Lat = append(res.Lat, l...)
	}
	res.Requests = len(res.Lat)
	res.Errors = int(errs.Load())
	if v := firstErr.Load(); v != nil {
		res.FirstErr = v.(string)
	}
	if sc.done != nil {
		sc.done(per)
	}
	return res, nil
}

// serverCPU is the CPU time the servers orgbench started have used.
func (d *driver) serverCPU() time.Duration {
	var sum time.Duration
	for _, pid := range d.pids {
		sum += processCPU(pid)
	}
	return sum
}

func excerpt(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
