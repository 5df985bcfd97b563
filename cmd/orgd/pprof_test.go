package main

import (
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServe_PprofOnLoopbackOnly(t *testing.T) {
	c := newCLI(t, "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"))
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "example.com:6060", "nonsense"} {
		code, o := c.fail("serve", "--addr", "127.0.0.1:0", "--pprof-addr", addr)
		require.Equal(t, 2, code, addr)
		require.Contains(t, o.str("error"), "--pprof-addr", addr)
		require.Contains(t, o.str("error"), "loopback", addr)
	}

	// A free loopback port: the profiles answer there, not on the main listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	s := startServe(t, c, "--pprof-addr", addr)
	resp, body := get(t, "http://"+addr+"/debug/pprof/")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "goroutine")
	resp, body = get(t, "http://"+addr+"/debug/pprof/heap?debug=1")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "heap profile")
	resp, _ = get(t, s.url+"/debug/pprof/cmdline")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "the main listener serves no profiles")
}

func TestServe_NoPprofByDefault(t *testing.T) {
	c := newCLI(t, "sqlite:"+filepath.Join(t.TempDir(), "orgd.db"))
	s := startServe(t, c)
	resp, _ := get(t, s.url+"/debug/pprof/")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "127.3.4.5:1": true, "[::1]:1": true, "localhost:1": true,
		"0.0.0.0:1": false, ":1": false, "[::]:1": false, "10.0.0.1:1": false, "127.0.0.1": false} {
		require.Equal(t, want, loopbackAddr(addr), addr)
	}
}
