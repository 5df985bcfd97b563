package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// pinger is what readiness asks: is the database reachable and migrated.
type pinger interface {
	Ping(ctx context.Context) error
}

// readyTimeout bounds one readiness check.
const readyTimeout = 2 * time.Second

// newRouter returns the one handler orgd serves. Every surface of
// CONTRACT.md mounts here; the operations endpoints are its own.
//
// extra middlewares (serve's rate limits) run after the body limit.
func newRouter(log *slog.Logger, db pinger, m *metrics, extra ...func(http.Handler) http.Handler) *chi.Mux {
	r := chi.NewRouter()
	r.Use(dropBadRequestID, middleware.RequestID, echoRequestID, baseHeaders,
		observe(log, m), recoverer(log), limitBody)
	r.Use(extra...)
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeHTTP(w, http.StatusNotFound, map[string]string{"error": "not found"})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeHTTP(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	})

	// Operations.
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeHTTP(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), readyTimeout)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			log.WarnContext(req.Context(), "not ready", "error", err.Error())
			writeHTTP(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeHTTP(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	r.Method(http.MethodGet, "/metrics", m.handler())

	// The surfaces of CONTRACT.md, each an adapter's http.Handler over the
	// same orgmodel.Service, mount here as their issues land:
	//   package scim (/scim/v2, and /Organizations/{OR}/scim/Users for package api) is mounted by mountSCIM in scim.go
	//   package sso (SAML, /login, /signup, …) is mounted by mountSSO in sso.go
	//   package api (/2010-04-01, /Organizations, /v2/token, /openapi.json) is mounted by mountAPI in api.go
	//   package console (/console/) is mounted by mountConsole in console.go
	return r
}

// baseHeaders sets the security headers every answer carries, whatever
// the surface; the HTML surfaces add their Content-Security-Policy.
func baseHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// hsts tells browsers to use https only, when the base URL is https.
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}

// dropBadRequestID ignores a client's X-Request-Id unless it is short and
// plain, so that what reaches the logs and the response header is sane;
// middleware.RequestID then makes one of its own.
func dropBadRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get(middleware.RequestIDHeader); id != "" && !plainID(id) {
			r.Header.Del(middleware.RequestIDHeader)
		}
		next.ServeHTTP(w, r)
	})
}

func plainID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/') {
			return false
		}
	}
	return true
}

// echoRequestID returns the request id to the client, which can quote it.
func echoRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(middleware.RequestIDHeader, middleware.GetReqID(r.Context()))
		next.ServeHTTP(w, r)
	})
}

// observe logs each request and counts it by route pattern and status.
// Only the path is logged: query strings may carry link tokens.
func observe(log *slog.Logger, m *metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			defer func() {
				route := chi.RouteContext(r.Context()).RoutePattern()
				if route == "" {
					route = "unmatched"
				}
				code := ww.Status()
				if code == 0 {
					code = http.StatusOK
				}
				d := time.Since(start)
				m.observeHTTP(r.Method, route, code, d)
				level := slog.LevelInfo
				if route == "/healthz" || route == "/readyz" || route == "/metrics" {
					level = slog.LevelDebug // probes would drown the log
				}
				log.LogAttrs(r.Context(), level, "http request",
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
					slog.Int("status", code), slog.Int("bytes", ww.BytesWritten()),
					slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("remote", r.RemoteAddr))
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

// recoverer turns a panic into a generic 500 with a reference; the panic
// and its stack go to the log only.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				ref := newRef()
				log.ErrorContext(r.Context(), "panic while serving a request", "ref", ref,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeHTTP(w, http.StatusInternalServerError, map[string]string{"error": "internal error", "ref": ref})
			}()
			next.ServeHTTP(w, r)
		})
	}
}

func writeHTTP(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// requestIDHandler adds the request id of the context to every log line
// written while serving that request.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := middleware.GetReqID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
