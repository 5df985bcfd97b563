package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// result is one scenario's measurements.
type result struct {
	Name     string
	What     string // what one request is, for the table
	Requests int    // answered as expected
	Errors   int    // unexpected status or transport error
	Elapsed  time.Duration
	Lat      []time.Duration // one per answered request
	// FirstErr is the first unexpected answer, to say what went wrong.
	FirstErr string
	// ServerCPU is the CPU time the servers spent during the scenario (0:
	// unknown), which other load on the machine changes less than latency.
	ServerCPU time.Duration
}

// cpuPerRequest is the servers' CPU time per answered request.
func (r *result) cpuPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Requests)
}

// Throughput is answered requests per second.
func (r *result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It is 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// stats are a result's summary.
type stats struct {
	P50, P99, Max time.Duration
	RPS           float64
}

func (r *result) stats() stats {
	s := slices.Clone(r.Lat)
	slices.Sort(s)
	st := stats{RPS: r.Throughput(), P50: percentile(s, 50), P99: percentile(s, 99)}
	if len(s) > 0 {
		st.Max = s[len(s)-1]
	}
	return st
}

// ms formats a duration in milliseconds with 2 significant decimals
// below 10 ms.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v == 0:
		return "–"
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func rate(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// ratio formats a/b, "–" when b is 0.
func ratio(a, b float64) string {
	if b == 0 || a == 0 {
		return "–"
	}
	r := a / b
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// writeTable writes the results as a markdown table; the first result
// whose name is "baseline" is the reference of the ratio columns.
func writeTable(w io.Writer, results []*result) {
	var base stats
	for _, r := range results {
		if r.Name == "baseline" {
			base = r.stats()
			break
		}
	}
	fmt.Fprintln(w, "| scenario | one request | requests | errors | req/s | p50 ms | p99 ms | max ms | req/s ÷ baseline | p99 ÷ baseline | server CPU ms/req |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		s := r.stats()
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", escapeCell(r.Name), escapeCell(r.What), r.Requests, r.Errors,
			rate(s.RPS), ms(s.P50), ms(s.P99), ms(s.Max), ratio(s.RPS, base.RPS), ratio(float64(s.P99), float64(base.P99)), ms(r.cpuPerRequest()))
	}
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
