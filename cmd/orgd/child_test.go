package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// execMainEnv makes the test binary run as orgd itself (TestMain calls
// main), so that the crash and load tests drive a real `orgd serve`
// process — the same code as the built binary — that they can SIGKILL.
const execMainEnv = "ORGD_TEST_EXEC_MAIN"

// child is `orgd serve` in a process of its own.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	done   chan struct{}
}

// startChild starts `orgd serve --addr 127.0.0.1:0 --db dsn` and waits
// until it prints where it serves.
func startChild(t *testing.T, dsn string, extra ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--mail-interval", "1h"}, extra...)...)
	cmd.Env = append(os.Environ(), execMainEnv+"=1", "ORGD_DB=", "ORGD_BASE_URL=")
	if _, err := sqlitePath("--db", dsn); err != nil {
		cmd.Env = append(cmd.Env, "ORGD_SECRET_KEY_FILE="+testKeyFile(t, dsn))
	}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	c := &child{t: t, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { c.kill() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	select {
	case c.url = <-urls:
	case <-c.done:
		t.Fatalf("orgd serve exited before serving: %s", c.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("orgd serve did not start: %s", c.stderr.String())
	}
	return c
}

// kill ends the process with SIGKILL: no handler, no shutdown, no flush.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop ends the process with SIGTERM and waits for its graceful exit.
func (c *child) stop() {
	c.t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.kill()
		c.t.Fatalf("orgd serve did not stop on SIGTERM")
	}
	require.Truef(c.t, c.cmd.ProcessState.Success(), "orgd serve exited with %v: %s", c.cmd.ProcessState, c.stderr.String())
}

// rssKiB is the process's resident set size, from /proc.
func (c *child) rssKiB() int {
	c.t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/status")
	require.NoError(c.t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(c.t, err)
			return n
		}
	}
	c.t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// httpClient is shared by the workers of the crash and load tests.
var httpClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}

type reply struct {
	status int
	body   []byte
	doc    map[string]any
}

// call sends one request; err is a transport error (the server is gone).
func send(method, url string, header map[string]string, body any) (reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return reply{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: res.StatusCode, body: b}
	_ = json.Unmarshal(b, &r.doc)
	return r, nil
}

func scimHeader(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/scim+json"}
}

func basicHeader(user, secret string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret)),
		"Content-Type": "application/x-www-form-urlencoded"}
}

// serverURL is the address of the current server process; the crash
// test's workers read it before every request and wait while it is down.
type serverURL struct {
	mu  sync.RWMutex
	url string
}

func (s *serverURL) get() string  { s.mu.RLock(); defer s.mu.RUnlock(); return s.url }
func (s *serverURL) set(u string) { s.mu.Lock(); defer s.mu.Unlock(); s.url = u }
