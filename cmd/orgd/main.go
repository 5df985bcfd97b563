// Command orgd is the identity governance server and its operator CLI: one
// binary whose verbs (and whose HTTP surfaces, under `orgd serve`) all go
// through orgmodel.Service, so every rule and the audit log apply alike.
//
// main only handles signals and the exit status; run does everything else,
// so that tests drive the binary in-process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}
