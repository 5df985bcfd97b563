package sso

import (
	"net/http"
	"testing"
)

// TestLocalPath: every redirect target the login side takes from a
// request — ?next= on the login pages, ?relay= of an SP-initiated login,
// the RelayState an IdP posts — goes through localPath, which keeps a
// path on this server and refuses everything that could leave it.
func TestLocalPath(t *testing.T) {
	for _, p := range []string{"/console/", "/console/users?x=1", "/console/accounts/AC1#top", "/a%2F%2Fb"} {
		if got := localPath(p); got != p {
			t.Errorf("localPath(%q) = %q, want it kept", p, got)
		}
	}
	for _, p := range []string{"", "https://evil.example/", "//evil.example", "///evil.example", "/\\evil.example",
		"\\\\evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "evil.example",
		"/\t/evil.example", "/\n/evil.example", "/\r\nLocation: https://evil.example", "http:/evil.example",
		" /console/", "/\x00", "/" + string(make([]byte, 3000))} {
		if got := localPath(p); got != "" {
			t.Errorf("localPath(%q) = %q, want it refused", p, got)
		}
	}
}

func TestClientNet(t *testing.T) {
	for addr, want := range map[string]string{
		"198.51.100.7:4242":          "198.51.100.7",
		"[2001:db8:1:2::1]:4242":     "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::9]:1":   "2001:db8:1:2::/64",
		"[::ffff:198.51.100.7]:4242": "::ffff:198.51.100.7",
		"not an address":             "not an address",
	} {
		r := &http.Request{RemoteAddr: addr}
		if got := clientNet(r); got != want {
			t.Errorf("clientNet(%q) = %q, want %q", addr, got, want)
		}
	}
}
