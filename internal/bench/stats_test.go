package bench

import (
	"math"
	"testing"
	"time"
)

// ms makes latencies readable in tables.
func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// okResults returns one successful result per latency, all started at t0.
func okResults(lats ...time.Duration) []Result {
	t0 := time.Unix(1700000000, 0)
	rs := make([]Result, len(lats))
	for i, l := range lats {
		rs[i] = Result{Start: t0, Took: l}
	}
	return rs
}

func seq(n int) []time.Duration {
	lats := make([]time.Duration, n)
	for i := range lats {
		lats[i] = ms(float64(i + 1)) // 1ms .. n ms
	}
	return lats
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		lats []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample is every percentile", seq(1), 10, ms(1)},
		{"one sample p99.9", seq(1), 99.9, ms(1)},
		{"p50 of 10 is the 5th", seq(10), 50, ms(5)},
		{"p10 of 10 is the 1st", seq(10), 10, ms(1)},
		{"p95 of 10 rounds the rank up", seq(10), 95, ms(10)},
		{"p99.9 of 1000 is the 999th, not the max", seq(1000), 99.9, ms(999)},
		{"p99 of 1000", seq(1000), 99, ms(990)},
		{"p99.9 of 300 is the max", seq(300), 99.9, ms(300)},
		{"p25 of 4", seq(4), 25, ms(1)},
		{"p100 is the max", seq(7), 100, ms(7)},
		{"p99.99 of 10000", seq(10000), 99.99, ms(9999)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStats(okResults(tt.lats...), time.Second)
			if got := s.Percentile(tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestPercentileUnsortedInput(t *testing.T) {
	s := NewStats(okResults(ms(5), ms(1), ms(4), ms(2), ms(3)), time.Second)
	if got, want := s.Percentile(50), ms(3); got != want {
		t.Errorf("p50 = %v, want %v", got, want)
	}
	if s.Fastest != ms(1) || s.Slowest != ms(5) {
		t.Errorf("fastest, slowest = %v, %v; want 1ms, 5ms", s.Fastest, s.Slowest)
	}
}

func TestStatsMoments(t *testing.T) {
	// 2, 4, 4, 4, 5, 5, 7, 9 ms: mean 5, population stddev 2.
	lats := []time.Duration{ms(2), ms(4), ms(4), ms(4), ms(5), ms(5), ms(7), ms(9)}
	results := okResults(lats...)
	results = append(results, Result{Err: "boom"}, Result{Err: "boom"}, Result{Err: "bang"})
	s := NewStats(results, 2*time.Second)
	if s.Count() != 8 || s.ErrorCount() != 3 {
		t.Fatalf("count, errors = %d, %d; want 8, 3", s.Count(), s.ErrorCount())
	}
	if s.Errors["boom"] != 2 || s.Errors["bang"] != 1 {
		t.Errorf("errors = %v", s.Errors)
	}
	if s.Average != ms(5) {
		t.Errorf("average = %v, want 5ms", s.Average)
	}
	if s.Stddev != ms(2) {
		t.Errorf("stddev = %v, want 2ms", s.Stddev)
	}
	if s.RPS != 4 {
		t.Errorf("rps = %v, want 4 (8 successes in 2s; errors do not count)", s.RPS)
	}
}

func TestStatsEmpty(t *testing.T) {
	s := NewStats([]Result{{Err: "x"}}, time.Second)
	if s.Count() != 0 || s.Average != 0 || s.Stddev != 0 || s.RPS != 0 || s.Histogram() != nil {
		t.Errorf("stats of no success = %+v", s)
	}
}

func TestHistogram(t *testing.T) {
	tests := []struct {
		name   string
		lats   []time.Duration
		counts []int
	}{
		{
			name:   "one per bucket",
			lats:   []time.Duration{ms(0), ms(1), ms(2), ms(3), ms(4), ms(5), ms(6), ms(7), ms(8), ms(9), ms(10)},
			counts: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		},
		{
			name:   "upper bounds are inclusive",
			lats:   []time.Duration{ms(10), ms(11), ms(11), ms(15), ms(19), ms(20)},
			counts: []int{1, 2, 0, 0, 0, 1, 0, 0, 0, 1, 1},
		},
		{
			name:   "all equal fall in the first bucket",
			lats:   []time.Duration{ms(3), ms(3), ms(3)},
			counts: []int{3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStats(okResults(tt.lats...), time.Second)
			h := s.Histogram()
			if len(h) != histogramBuckets+1 {
				t.Fatalf("%d buckets, want %d", len(h), histogramBuckets+1)
			}
			if h[0].Upper != s.Fastest || h[len(h)-1].Upper != s.Slowest {
				t.Errorf("bounds %v..%v, want fastest..slowest %v..%v", h[0].Upper, h[len(h)-1].Upper, s.Fastest, s.Slowest)
			}
			total := 0
			for i, b := range h {
				total += b.Count
				if b.Count != tt.counts[i] {
					t.Errorf("bucket %d (<= %v) has %d, want %d", i, b.Upper, b.Count, tt.counts[i])
				}
			}
			if total != len(tt.lats) {
				t.Errorf("buckets hold %d latencies, want %d", total, len(tt.lats))
			}
		})
	}
}

func TestSecondStats(t *testing.T) {
	t0 := time.Unix(100, 0)
	results := []Result{
		{Start: t0, Took: ms(1)},
		{Start: t0.Add(500 * time.Millisecond), Took: ms(3)},
		{Start: t0.Add(time.Second), Took: ms(2)},
		{Start: t0.Add(time.Second), Err: "x"},
	}
	s := NewStats(results, 2*time.Second)
	want := []SecondStats{
		{Unix: 100, Min: ms(1), Avg: ms(2), Max: ms(3), Count: 2},
		{Unix: 101, Min: ms(2), Avg: ms(2), Max: ms(2), Count: 1},
	}
	if len(s.Seconds) != len(want) {
		t.Fatalf("seconds = %+v, want %+v", s.Seconds, want)
	}
	for i := range want {
		if s.Seconds[i] != want[i] {
			t.Errorf("second %d = %+v, want %+v", i, s.Seconds[i], want[i])
		}
	}
}

func TestMergeStats(t *testing.T) {
	a := NewStats(append(okResults(ms(1), ms(3)), Result{Err: "x"}), time.Second)
	b := NewStats(okResults(ms(2)), 2*time.Second)
	m := mergeStats(a, b)
	if m.Count() != 3 || m.ErrorCount() != 1 || m.Total != 2*time.Second {
		t.Fatalf("merged = %d ok, %d errors over %v", m.Count(), m.ErrorCount(), m.Total)
	}
	if m.Percentile(50) != ms(2) || math.Abs(m.RPS-1.5) > 1e-9 {
		t.Errorf("merged p50 %v rps %v, want 2ms, 1.5", m.Percentile(50), m.RPS)
	}
}
