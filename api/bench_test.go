package api_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgd/orgd/api"
)

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(s int)           { d.status = s }

// BenchmarkFetchAccount is GET /2010-04-01/Accounts/{AC}.json with Basic
// auth through the handler alone (no network), on SQLite: the credential
// cache, the account read and the JSON.
//
//	go test ./api -run '^$' -bench FetchAccount -benchtime 5s
func BenchmarkFetchAccount(b *testing.B) {
	for _, ttl := range []time.Duration{api.DefaultCredentialTTL, -1} {
		name := "cached"
		if ttl < 0 {
			name = "uncached"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnvWith(b, api.AuthOptions{CredentialTTL: ttl})
			r := e.signup("owner@acme.test")
			h := api.NewHandler(api.Config{Service: e.svc, Auth: e.auth})
			path := "/2010-04-01/Accounts/" + string(r.AccountSID) + ".json"
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest("GET", path, nil)
				req.SetBasicAuth(string(r.AccountSID), r.AuthToken)
				w := &discard{h: http.Header{}}
				for pb.Next() {
					w.status = 0
					h.ServeHTTP(w, req)
					if w.status != 200 {
						b.Fatalf("status %d", w.status)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkFetchAccountHTTP is the same request over real loopback TCP
// with keep-alive connections, client and server in this process.
func BenchmarkFetchAccountHTTP(b *testing.B) {
	e := newEnv(b)
	r := e.signup("owner@acme.test")
	url := e.srv.URL + "/2010-04-01/Accounts/" + string(r.AccountSID) + ".json"
	tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 4096)
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.SetBasicAuth(string(r.AccountSID), r.AuthToken)
			res, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := res.Body.Read(buf); err != nil {
					break
				}
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// TestServeForLoad serves the API on a fixed loopback address for an
// external load generator (wrk, hey), for ORGD_API_LOAD_SECONDS seconds,
// and prints the request to send. Skipped unless that variable is set:
//
//	ORGD_API_LOAD_SECONDS=40 go test ./api -run TestServeForLoad -v &
//	wrk -t2 -c32 -d30s -H "Authorization: Basic …" http://127.0.0.1:…/2010-04-01/Accounts/AC….json
func TestServeForLoad(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("ORGD_API_LOAD_SECONDS"))
	if secs <= 0 {
		t.Skip("ORGD_API_LOAD_SECONDS is not set: nothing to serve a load generator")
	}
	e := newEnv(t)
	r := e.signup("owner@acme.test")
	var n atomic.Int64
	h := api.NewHandler(api.Config{Service: e.svc, Auth: e.auth})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, req)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(string(r.AccountSID), r.AuthToken)
	fmt.Printf("LOAD url=http://%s/2010-04-01/Accounts/%s.json auth=%q\n", ln.Addr(), r.AccountSID, req.Header.Get("Authorization"))
	time.Sleep(time.Duration(secs) * time.Second)
	require.NoError(t, srv.Close())
	fmt.Printf("LOAD served %d requests\n", n.Load())
}
