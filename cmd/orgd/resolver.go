package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/orgd/orgd/orgmodel"
)

// newResolver returns the TXT resolver domain verification uses: Go's own
// resolver sending every query to server (UDP, and TCP when an answer is
// truncated, as the Go resolver does) when server is given, otherwise the
// system's resolver.
func newResolver(server string) (orgmodel.TXTResolver, error) {
	if server == "" {
		return rootedResolver{net.DefaultResolver}, nil
	}
	host, port, err := net.SplitHostPort(server)
	if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
		return nil, &usageError{fmt.Sprintf("--dns-server %q is not HOST:PORT (such as 127.0.0.1:53)", server)}
	}
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}
	return rootedResolver{r}, nil
}

// rootedResolver asks for fully-qualified names, so that the host's DNS
// search list never turns _orgd.corp.example into a query for
// _orgd.corp.example.<search domain>: the proof must sit at the name itself.
type rootedResolver struct{ r *net.Resolver }

func (rr rootedResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return rr.r.LookupTXT(ctx, name)
}
