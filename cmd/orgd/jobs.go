package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

// job is a background task of the server, run every so often until the
// server stops.
type job struct {
	name    string
	every   time.Duration
	timeout time.Duration // bound on one run
	// finish lets a run in progress complete on shutdown instead of
	// cancelling it: mail delivery, so that a message the SMTP server
	// accepted is also recorded as sent and never goes out twice.
	finish bool
	run    func(ctx context.Context) (int, error)
}

// Batch sizes and timing of the background jobs. A mail run stays well
// inside the outbox lease (two minutes), so no other replica takes its mail.
const (
	mailBatch         = 10
	mailRunTimeout    = 100 * time.Second
	logMailBatch      = 100
	domainBatch       = 50
	domainEvery       = time.Hour
	domainRunTimeout  = 30 * time.Minute
	importBatch       = 500
	importEvery       = time.Hour
	importRunTimeout  = 5 * time.Minute
	defaultMailPeriod = 5 * time.Second
)

// serverJobs are the jobs of orgd serve. With sender nil, mail is written
// to the log once and kept in the outbox for `orgd mail list`.
func serverJobs(svc *orgmodel.Service, sender orgmodel.MailSender, mailEvery time.Duration, log *slog.Logger) []job {
	mail := job{name: "mail", every: mailEvery, timeout: mailRunTimeout, finish: true,
		run: func(ctx context.Context) (int, error) { return svc.DeliverMail(ctx, sender, mailBatch) }}
	if sender == nil {
		mail.name = "mail-log"
		mail.run = func(ctx context.Context) (int, error) {
			return svc.LogMail(ctx, func(m *orgmodel.Mail) {
				// The body holds the link's token: it stays in the outbox
				// and never reaches the log.
				log.InfoContext(ctx, "mail kept in the outbox (no --smtp given); read it with: orgd mail list",
					"mail_id", m.ID, "kind", m.Kind, "to", m.To, "subject", m.Subject)
			}, logMailBatch)
		}
	}
	return []job{
		mail,
		{name: "domain-recheck", every: domainEvery, timeout: domainRunTimeout, run: func(ctx context.Context) (int, error) {
			return drain(ctx, domainBatch, svc.RecheckDomains)
		}},
		{name: "import-expiry", every: importEvery, timeout: importRunTimeout, run: func(ctx context.Context) (int, error) {
			return drain(ctx, importBatch, svc.ExpireImports)
		}},
	}
}

// drain calls fn with batches of limit until a batch comes back short.
func drain(ctx context.Context, limit int, fn func(context.Context, int) (int, error)) (int, error) {
	total := 0
	for {
		n, err := fn(ctx, limit)
		total += n
		if err != nil || n < limit || ctx.Err() != nil {
			return total, err
		}
	}
}

// startJobs runs each job at once and then every job.every, until ctx ends.
// The returned func waits for them to stop.
func startJobs(ctx context.Context, log *slog.Logger, m *metrics, jobs []job) (wait func()) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { j.loop(ctx, log, m) })
	}
	return wg.Wait
}

func (j job) loop(ctx context.Context, log *slog.Logger, m *metrics) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		j.once(ctx, log, m)
		t.Reset(j.every)
	}
}

func (j job) once(ctx context.Context, log *slog.Logger, m *metrics) {
	runCtx := ctx
	if j.finish {
		runCtx = context.WithoutCancel(ctx)
	}
	runCtx, cancel := context.WithTimeout(runCtx, j.timeout)
	defer cancel()
	start := time.Now()
	n, err := j.run(runCtx)
	result := "ok"
	switch {
	case err == nil:
		if n > 0 {
			log.Info("job done", "job", j.name, "items", n)
		}
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		result = "cancelled"
	default:
		result = "error"
		log.Error("job failed; it runs again at its next period", "job", j.name, "items", n, "error", err.Error())
	}
	m.observeJob(j.name, result, n, time.Since(start))
}
