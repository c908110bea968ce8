package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// barWidth is the length of the longest histogram bar.
const barWidth = 40

// barMark draws the histogram bars.
const barMark = "∎"

// ReportOptions choose what a report prints.
type ReportOptions struct {
	// Precise prints times with full floating point precision instead of
	// four decimals.
	Precise bool
	// Sample adds per-second statistics.
	Sample bool
}

// WriteReport prints s the way etcd's benchmark tool does: a blank line, the
// summary, the response time histogram and the latency distribution, then
// the per-second samples when asked, then the error distribution when any
// request failed, and a closing blank line. With no successful request only
// the errors are printed.
func WriteReport(w io.Writer, s *Stats, o ReportOptions) {
	var b strings.Builder
	secs := func(d time.Duration) string {
		if o.Precise {
			return strconv.FormatFloat(d.Seconds(), 'g', -1, 64)
		}
		return fmt.Sprintf("%4.4f", d.Seconds())
	}
	if s.Count() > 0 {
		b.WriteString("\nSummary:\n")
		fmt.Fprintf(&b, "  Total:\t%s secs.\n", secs(s.Total))
		fmt.Fprintf(&b, "  Slowest:\t%s secs.\n", secs(s.Slowest))
		fmt.Fprintf(&b, "  Fastest:\t%s secs.\n", secs(s.Fastest))
		fmt.Fprintf(&b, "  Average:\t%s secs.\n", secs(s.Average))
		fmt.Fprintf(&b, "  Stddev:\t%s secs.\n", secs(s.Stddev))
		if o.Precise {
			fmt.Fprintf(&b, "  Requests/sec:\t%s\n", strconv.FormatFloat(s.RPS, 'g', -1, 64))
		} else {
			fmt.Fprintf(&b, "  Requests/sec:\t%4.4f\n", s.RPS)
		}

		b.WriteString("\nResponse time histogram:\n")
		buckets := s.Histogram()
		most := 0
		for _, bk := range buckets {
			most = max(most, bk.Count)
		}
		for _, bk := range buckets {
			bar := 0
			if most > 0 {
				bar = bk.Count * barWidth / most
			}
			fmt.Fprintf(&b, "  %s [%d]\t|%s\n", secs(bk.Upper), bk.Count, strings.Repeat(barMark, bar))
		}

		b.WriteString("\nLatency distribution:\n")
		for _, p := range Percentiles {
			fmt.Fprintf(&b, "  %s%% in %s secs.\n", strconv.FormatFloat(p, 'g', -1, 64), secs(s.Percentile(p)))
		}

		if o.Sample {
			b.WriteString("\nSample in one second (unix latency throughput):\n")
			b.WriteString("UNIX-SECOND,MIN-LATENCY-MS,AVG-LATENCY-MS,MAX-LATENCY-MS,AVG-THROUGHPUT\n")
			for _, ss := range s.Seconds {
				fmt.Fprintf(&b, "%d,%s,%s,%s,%d\n", ss.Unix, ss.Min, ss.Avg, ss.Max, ss.Count)
			}
		}
	}
	if len(s.Errors) > 0 {
		b.WriteString("\nError distribution:\n")
		type errCount struct {
			msg string
			n   int
		}
		var errs []errCount
		for m, n := range s.Errors {
			errs = append(errs, errCount{m, n})
		}
		sort.Slice(errs, func(i, j int) bool {
			if errs[i].n != errs[j].n {
				return errs[i].n > errs[j].n
			}
			return errs[i].msg < errs[j].msg
		})
		for _, e := range errs {
			fmt.Fprintf(&b, "  [%d]\t%s\n", e.n, e.msg)
		}
	}
	b.WriteString("\n")
	io.WriteString(w, b.String())
}

// Summary is the machine-readable form of a run, printed as the last line
// of output. Times are in milliseconds except DurationS; a command with
// several measured parts (txn-mixed, watch) summarises its main part at the
// top level and lists every part in Parts.
type Summary struct {
	Bench     string    `json:"bench"`
	Ops       int       `json:"ops"`
	Errors    int       `json:"errors"`
	DurationS float64   `json:"duration_s"`
	RPS       float64   `json:"rps"`
	AvgMS     float64   `json:"avg_ms"`
	P50MS     float64   `json:"p50_ms"`
	P90MS     float64   `json:"p90_ms"`
	P99MS     float64   `json:"p99_ms"`
	P999MS    float64   `json:"p999_ms"`
	MinMS     float64   `json:"min_ms"`
	MaxMS     float64   `json:"max_ms"`
	Parts     []Summary `json:"parts,omitempty"`
}

// Summarize returns the summary of s under the name bench.
func Summarize(bench string, s *Stats) Summary {
	ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }
	return Summary{
		Bench:     bench,
		Ops:       s.Count(),
		Errors:    s.ErrorCount(),
		DurationS: round(s.Total.Seconds(), 3),
		RPS:       round(s.RPS, 1),
		AvgMS:     ms(s.Average),
		P50MS:     ms(s.Percentile(50)),
		P90MS:     ms(s.Percentile(90)),
		P99MS:     ms(s.Percentile(99)),
		P999MS:    ms(s.Percentile(99.9)),
		MinMS:     ms(s.Fastest),
		MaxMS:     ms(s.Slowest),
	}
}

// WriteJSON prints sum as one line of JSON.
func WriteJSON(w io.Writer, sum Summary) error {
	line, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", line)
	return err
}

func round(f float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(f*p) / p
}
