package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentileNearestRank(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, 50*time.Millisecond, percentile(s, 50))
	require.Equal(t, 99*time.Millisecond, percentile(s, 99))
	require.Equal(t, 100*time.Millisecond, percentile(s, 100))
	require.Equal(t, 1*time.Millisecond, percentile(s, 0.001))
	require.Equal(t, time.Duration(0), percentile(nil, 99))
	// Few values: p99 of three is the largest, p50 the middle one.
	three := []time.Duration{1, 2, 3}
	require.Equal(t, time.Duration(3), percentile(three, 99))
	require.Equal(t, time.Duration(2), percentile(three, 50))
}

func TestStatsSortsAndCountsThroughput(t *testing.T) {
	r := &result{Name: "x", Requests: 4, Elapsed: 2 * time.Second,
		Lat: []time.Duration{4 * time.Millisecond, 1 * time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}}
	s := r.stats()
	require.Equal(t, 2.0, s.RPS)
	require.Equal(t, 2*time.Millisecond, s.P50)
	require.Equal(t, 4*time.Millisecond, s.P99)
	require.Equal(t, 4*time.Millisecond, s.Max)
	// stats does not reorder the caller's latencies.
	require.Equal(t, 4*time.Millisecond, r.Lat[0])
}

func TestTableRatiosAgainstBaseline(t *testing.T) {
	base := &result{Name: "baseline", What: "fixed JSON", Requests: 1000, Elapsed: time.Second,
		Lat: []time.Duration{time.Millisecond}}
	slow := &result{Name: "scim-get", What: "GET /Users/{id}", Requests: 250, Errors: 1, Elapsed: time.Second,
		Lat: []time.Duration{4 * time.Millisecond}, ServerCPU: 500 * time.Millisecond}
	var b strings.Builder
	writeTable(&b, []*result{base, slow})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 4)
	require.Equal(t, "| baseline | fixed JSON | 1000 | 0 | 1000 | 1.00 | 1.00 | 1.00 | 1.00× | 1.00× | – |", lines[2])
	require.Equal(t, "| scim-get | GET /Users/{id} | 250 | 1 | 250 | 4.00 | 4.00 | 4.00 | 0.25× | 4.00× | 2.00 |", lines[3])
}

func TestTableWithoutBaselineHasNoRatio(t *testing.T) {
	var b strings.Builder
	writeTable(&b, []*result{{Name: "a|b", Requests: 1, Elapsed: time.Second, Lat: []time.Duration{time.Millisecond}}})
	require.Contains(t, b.String(), `| a\|b |`)
	require.Contains(t, b.String(), "| – | – | – |")
}
