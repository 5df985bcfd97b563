package sso_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/orgd/orgd/sso"
	"github.com/orgd/orgd/sso/ssotest"
)

// BenchmarkACS measures complete IdP-initiated logins through the ACS
// handler: form parsing, the pre-checks, signature verification, the
// database replay cache, R-SSO-1 (orgmodel.SSOLogin) and a new session on
// SQLite. Responses are signed before the timer runs (each assertion once:
// the replay cache refuses repeats).
//
//	go test ./sso -run '^$' -bench ACS -benchtime 2000x
func BenchmarkACS(b *testing.B) {
	e := newEnv(b)
	e.setIdP(e.org, e.idp.Metadata(), true)
	e.member(e.org, "alice@acme.test")
	h := sso.NewHandler(sso.Config{Service: e.svc, BaseURL: e.base})
	docs := make([]string, b.N)
	for i := range docs {
		docs[i] = url.Values{"SAMLResponse": {ssotest.Encode(b, e.idp.Build(b, ssotest.Response{NameID: "alice@acme.test"}, e.acs(e.org), e.audience(e.org), e.clock.Now()))}}.Encode()
	}
	var next atomic.Int64
	var failed atomic.Int64
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			req := httptest.NewRequest(http.MethodPost, "/sso/saml/"+string(e.org)+"/acs", strings.NewReader(docs[i]))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusSeeOther {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	cpu := cpuTime() - cpu0
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d logins failed", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	// CPU per login does not depend on what else the machine runs; two
	// cores give at most 2 s of CPU per second.
	b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms/login")
	b.ReportMetric(float64(runtime.NumCPU())/(cpu.Seconds()/float64(b.N)), "cpu-bound-logins/s")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
