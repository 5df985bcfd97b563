package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// report is everything a run prints.
type report struct {
	cfg               config
	started, finished time.Time
	load0, load1      string
	seed              *state
	servers           []*server
	results           []*result
	notes             []string
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func (r *report) write(w io.Writer) {
	c := r.cfg
	dialect := "SQLite"
	if strings.HasPrefix(c.db, "postgres") {
		dialect = "PostgreSQL"
	}
	fmt.Fprintf(w, "orgbench, %s: %s, %d users and %d groups in one organization, %d `orgd serve` (%d CPUs), %d clients, %v per scenario; load average %s at the start, %s at the end.\n\n",
		r.started.UTC().Format("2006-01-02 15:04 MST"), dialect, c.users, c.groups, max(len(r.servers), len(c.urls)), runtime.NumCPU(), c.conc, c.duration, r.load0, r.load1)
	writeTable(w, r.results)
	fmt.Fprintln(w)
	if r.seed != nil && !r.seed.Reused {
		fmt.Fprintf(w, "- seeding: %v (%d users through store.SeedUsers, the rest through orgmodel.Service)\n", r.seed.SeedTime.Round(time.Millisecond), c.users)
	}
	for i, s := range r.servers {
		fmt.Fprintf(w, "- orgd serve %d: ready (/readyz 200) %v after its start; resident memory %s at the end, %s at its peak\n",
			i+1, s.startup.Round(time.Millisecond), mib(s.rssNow), mib(s.rssPeak))
	}
	for _, n := range r.notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	for _, res := range r.results {
		if res.Errors > 0 {
			fmt.Fprintf(w, "- %s: %d unexpected answers; the first: %s\n", res.Name, res.Errors, escapeCell(res.FirstErr))
		}
	}
}
