package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/orgd/orgd/sso"
)

// Limits of abuse that cmd/orgd enforces in front of every surface. The
// token buckets live in each process's memory: with several replicas, a
// client gets each limit once per replica it reaches (README, SECURITY.md).
type limitsConfig struct {
	// tokenRate and tokenBurst limit requests per presented credential to
	// SCIM and the Twilio-compatible API (a SCIM or OAuth bearer token, an
	// HTTP Basic user: account SID, API key SID or OAuth client id).
	tokenRate  rate.Limit
	tokenBurst int
	// failRate and failBurst limit, per client IP, requests to SCIM and
	// the API that fail authentication (401): guessing credentials.
	failRate  rate.Limit
	failBurst int
}

// surface is which adapter's error format a path answers in.
type surface int

const (
	surfaceOps surface = iota
	surfaceSCIM
	surfaceAPI
	surfaceHTML
)

func surfaceOf(path string) surface {
	switch {
	case strings.HasPrefix(path, scimPrefix+"/"), path == scimPrefix,
		strings.HasPrefix(path, "/Organizations/") && strings.Contains(path, "/scim/"):
		return surfaceSCIM
	case strings.HasPrefix(path, "/2010-04-01/"), strings.HasPrefix(path, "/Organizations/"), path == "/v2/token", path == "/openapi.json":
		return surfaceAPI
	case path == "/console", strings.HasPrefix(path, "/console/"), strings.HasPrefix(path, "/sso/"),
		path == "/login", strings.HasPrefix(path, "/login/"), path == "/logout", path == "/signup",
		strings.HasPrefix(path, "/signup/"), path == "/reset", path == "/forgot":
		return surfaceHTML
	}
	return surfaceOps
}

var refusalPage = template.Must(template.New("refusal").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · orgd</title></head>
<body><main><h1>{{.Title}}</h1><p>{{.Message}}</p><p><a href="/login">Back to login</a></p></main></body></html>
`))

// refuse answers status with msg in the error format of r's surface: the
// SCIM error schema, Twilio's error JSON, an HTML page, or {"error"}.
// retryAfter, when positive, is sent as Retry-After in whole seconds.
func refuse(w http.ResponseWriter, r *http.Request, status int, msg string, retryAfter time.Duration) {
	h := w.Header()
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	switch surfaceOf(r.URL.Path) {
	case surfaceSCIM:
		h.Set("Content-Type", "application/scim+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
			"status":  strconv.Itoa(status), "detail": msg,
		})
	case surfaceAPI:
		code := 20000 + status // Twilio's 20xxx codes follow the status: 20413, 20429
		h.Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"code": code, "message": msg, "status": status,
			"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		})
	case surfaceHTML:
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(status)
		_ = refusalPage.Execute(w, map[string]string{"Title": http.StatusText(status), "Message": msg})
	default:
		writeHTTP(w, status, map[string]string{"error": msg})
	}
}

// tooLargeMsg says what limit a body broke.
func tooLargeMsg(limit int64) string {
	return fmt.Sprintf("the request body is larger than %d bytes, the most this server accepts", limit)
}

// limitBody bounds request bodies: a declared length over the limit is
// refused before any handler runs (413 in the surface's format), and any
// body is cut at the limit, which each adapter answers with 413 too.
// Adapters that accept less cut earlier.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBodyBytes {
			w.Header().Set("Connection", "close")
			refuse(w, r, http.StatusRequestEntityTooLarge, tooLargeMsg(maxBodyBytes), 0)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// rateLimits limits SCIM and the API per presented credential, and per
// client IP the requests whose authentication fails.
func rateLimits(cfg limitsConfig) func(http.Handler) http.Handler {
	perToken := sso.NewBuckets(cfg.tokenRate, cfg.tokenBurst)
	perIP := sso.NewBuckets(cfg.failRate, cfg.failBurst)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := surfaceOf(r.URL.Path)
			if s != surfaceSCIM && s != surfaceAPI {
				next.ServeHTTP(w, r)
				return
			}
			now := time.Now()
			ip := peerIP(r)
			if d := perIP.Wait(ip, now); d > 0 {
				refuse(w, r, http.StatusTooManyRequests, "too many failed authentications from your address; wait and try again", d)
				return
			}
			if key := credentialKey(r); key != "" {
				if ok, d := perToken.Take(key, now); !ok {
					refuse(w, r, http.StatusTooManyRequests, "too many requests with this credential; wait and try again", d)
					return
				}
			}
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if sw.status == http.StatusUnauthorized {
				perIP.Take(ip, now)
			}
		})
	}
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// credentialKey names the credential a request presents, unchecked: the
// SHA-256 of a bearer token, or the user of HTTP Basic (an account SID,
// API key SID or OAuth client id) — or the client_id of a token request's
// form. A made-up credential gets a bucket of its own, but fails
// authentication, which the per-IP bucket counts.
func credentialKey(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(a, "Bearer "); ok && tok != "" {
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		return "bearer:" + hex.EncodeToString(sum[:12])
	}
	if b, ok := strings.CutPrefix(a, "Basic "); ok {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b))
		if err == nil {
			if user, _, ok := strings.Cut(string(raw), ":"); ok && user != "" && len(user) <= 64 {
				return "basic:" + user
			}
		}
	}
	return ""
}

// peerIP is the address of the connection's peer: orgd trusts no
// forwarding header. IPv6 clients are counted by their /64.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return host
}
