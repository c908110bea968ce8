package bench

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Result is the outcome of one request.
type Result struct {
	// Start is when the request was issued.
	Start time.Time
	// Took is how long it took, as the client saw it.
	Took time.Duration
	// Err is the error's text, empty on success.
	Err string
}

// Percentiles are the points of the latency distribution a report prints.
var Percentiles = []float64{10, 25, 50, 75, 90, 95, 99, 99.9}

// histogramBuckets is the number of equal-width latency buckets between the
// fastest and the slowest request; the report prints one more line, for the
// fastest itself.
const histogramBuckets = 10

// Stats summarises the results of one run.
type Stats struct {
	// Total is the wall time of the run.
	Total time.Duration
	// Lats holds the latencies of the successful requests, ascending.
	Lats []time.Duration
	// Errors counts failed requests by error text.
	Errors map[string]int
	// Fastest, Slowest, Average and Stddev describe Lats (zero when empty);
	// Stddev is the population standard deviation.
	Fastest, Slowest, Average, Stddev time.Duration
	// RPS is successful requests per second of wall time.
	RPS float64
	// Seconds holds per-second statistics by request start, ascending.
	Seconds []SecondStats
}

// SecondStats describes the requests that started within one wall-clock
// second.
type SecondStats struct {
	Unix          int64
	Min, Avg, Max time.Duration
	// Count is the number of successful requests that started that second.
	Count int
}

// Bucket is one line of the response time histogram: Count latencies lie in
// (previous bucket's Upper, Upper]; the first bucket holds those equal to
// the fastest.
type Bucket struct {
	Upper time.Duration
	Count int
}

// NewStats summarises results collected over a run that took total.
func NewStats(results []Result, total time.Duration) *Stats {
	s := &Stats{Total: total, Errors: map[string]int{}}
	s.Lats = make([]time.Duration, 0, len(results))
	perSecond := map[int64]*SecondStats{}
	for _, r := range results {
		if r.Err != "" {
			s.Errors[r.Err]++
			continue
		}
		s.Lats = append(s.Lats, r.Took)
		sec := r.Start.Unix()
		ss := perSecond[sec]
		if ss == nil {
			ss = &SecondStats{Unix: sec, Min: r.Took, Max: r.Took}
			perSecond[sec] = ss
		}
		ss.Min = min(ss.Min, r.Took)
		ss.Max = max(ss.Max, r.Took)
		ss.Avg += r.Took // a sum until divided below
		ss.Count++
	}
	for _, ss := range perSecond {
		ss.Avg /= time.Duration(ss.Count)
		s.Seconds = append(s.Seconds, *ss)
	}
	sort.Slice(s.Seconds, func(i, j int) bool { return s.Seconds[i].Unix < s.Seconds[j].Unix })
	slices.Sort(s.Lats)

	n := len(s.Lats)
	if n == 0 {
		return s
	}
	s.Fastest, s.Slowest = s.Lats[0], s.Lats[n-1]
	var sum float64
	for _, l := range s.Lats {
		sum += float64(l)
	}
	mean := sum / float64(n)
	var sq float64
	for _, l := range s.Lats {
		d := float64(l) - mean
		sq += d * d
	}
	s.Average = time.Duration(math.Round(mean))
	s.Stddev = time.Duration(math.Round(math.Sqrt(sq / float64(n))))
	if total > 0 {
		s.RPS = float64(n) / total.Seconds()
	}
	return s
}

// Count is the number of successful requests.
func (s *Stats) Count() int { return len(s.Lats) }

// ErrorCount is the number of failed requests.
func (s *Stats) ErrorCount() int {
	n := 0
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of the
// successful latencies: the smallest latency such that at least p% of them
// are no larger. It returns 0 when there are none.
func (s *Stats) Percentile(p float64) time.Duration {
	return percentile(s.Lats, p)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// rank = ceil(p/100 * n), computed in integers of a millionth of a
	// percent so that 99.9% of 1000 is exactly rank 999: in floating point
	// 99.9*1000/100 is 999.0000000000001, and its ceiling one too many.
	ppm := int64(math.Round(p * 1e4))
	rank := int((ppm*int64(n) + 1e6 - 1) / 1e6)
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// Histogram splits [Fastest, Slowest] into histogramBuckets equal widths
// and counts the latencies in each; the first bucket counts those equal to
// the fastest.
func (s *Stats) Histogram() []Bucket {
	if len(s.Lats) == 0 {
		return nil
	}
	width := float64(s.Slowest-s.Fastest) / histogramBuckets
	buckets := make([]Bucket, histogramBuckets+1)
	for i := range buckets {
		buckets[i].Upper = s.Fastest + time.Duration(math.Round(width*float64(i)))
	}
	buckets[histogramBuckets].Upper = s.Slowest
	b := 0
	for _, l := range s.Lats {
		for b < histogramBuckets && l > buckets[b].Upper {
			b++
		}
		buckets[b].Count++
	}
	return buckets
}

// mergeStats returns the statistics of all parts' requests together, over
// the longest part's wall time, without per-second samples.
func mergeStats(parts ...*Stats) *Stats {
	var results []Result
	var total time.Duration
	for _, p := range parts {
		total = max(total, p.Total)
		for _, l := range p.Lats {
			results = append(results, Result{Took: l})
		}
		for msg, n := range p.Errors {
			for range n {
				results = append(results, Result{Err: msg})
			}
		}
	}
	s := NewStats(results, total)
	s.Seconds = nil
	return s
}
