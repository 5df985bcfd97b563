package sso

import "testing"

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
