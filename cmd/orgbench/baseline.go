package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// baselineBody is the fixed answer of the baseline server, about the size
// of a SCIM user.
var baselineBody = []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"US00000000000000000000000000000000","userName":"u0000000@bench.test","name":{"givenName":"User","familyName":"0000000","formatted":"User 0000000"},"displayName":"User 0000000","active":true,"emails":[{"value":"u0000000@bench.test","type":"work","primary":true}],"externalId":"ext-0000000","meta":{"resourceType":"User","created":"2026-11-27T09:00:00Z","lastModified":"2026-11-27T09:00:00Z","version":"W/\"1\"","location":"http://127.0.0.1/scim/v2/Users/US00000000000000000000000000000000"}}`)

// baselineServe is the baseline server's process: a bare net/http handler
// returning a fixed JSON body. It prints its address, then serves until
// its standard input closes.
func baselineServe(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		os.Exit(0)
	}()
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(baselineBody)
	}))
}

type baseline struct {
	url  string
	cmd  *exec.Cmd
	stop func()
}

// startBaseline runs the baseline server in a process of its own (this
// binary again), as orgd runs in its own.
func startBaseline() (*baseline, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-baseline-serve", "127.0.0.1:0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("the baseline server did not start: %w", err)
	}
	b := &baseline{url: "http://" + strings.TrimSpace(line), cmd: cmd}
	b.stop = func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	return b, nil
}
