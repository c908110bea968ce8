package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestWriteReport(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	var results []Result
	for i := range 10 {
		results = append(results, Result{Start: t0, Took: ms(float64(i + 1))})
	}
	results = append(results, Result{Start: t0, Took: ms(50)})
	results = append(results, Result{Err: "etcdserver: request timed out"}, Result{Err: "etcdserver: request timed out"}, Result{Err: "a"})
	s := NewStats(results, 2*time.Second)

	var b bytes.Buffer
	WriteReport(&b, s, ReportOptions{Sample: true})
	want := "\nSummary:\n" +
		"  Total:\t2.0000 secs.\n" +
		"  Slowest:\t0.0500 secs.\n" +
		"  Fastest:\t0.0010 secs.\n" +
		"  Average:\t0.0095 secs.\n" +
		"  Stddev:\t0.0131 secs.\n" +
		"  Requests/sec:\t5.5000\n" +
		"\nResponse time histogram:\n" +
		"  0.0010 [1]\t|" + strings.Repeat("∎", 8) + "\n" +
		"  0.0059 [4]\t|" + strings.Repeat("∎", 32) + "\n" +
		"  0.0108 [5]\t|" + strings.Repeat("∎", 40) + "\n" +
		"  0.0157 [0]\t|\n" +
		"  0.0206 [0]\t|\n" +
		"  0.0255 [0]\t|\n" +
		"  0.0304 [0]\t|\n" +
		"  0.0353 [0]\t|\n" +
		"  0.0402 [0]\t|\n" +
		"  0.0451 [0]\t|\n" +
		"  0.0500 [1]\t|" + strings.Repeat("∎", 8) + "\n" +
		"\nLatency distribution:\n" +
		"  10% in 0.0020 secs.\n" +
		"  25% in 0.0030 secs.\n" +
		"  50% in 0.0060 secs.\n" +
		"  75% in 0.0090 secs.\n" +
		"  90% in 0.0100 secs.\n" +
		"  95% in 0.0500 secs.\n" +
		"  99% in 0.0500 secs.\n" +
		"  99.9% in 0.0500 secs.\n" +
		"\nSample in one second (unix latency throughput):\n" +
		"UNIX-SECOND,MIN-LATENCY-MS,AVG-LATENCY-MS,MAX-LATENCY-MS,AVG-THROUGHPUT\n" +
		"1700000000,1ms,9.545454ms,50ms,11\n" +
		"\nError distribution:\n" +
		"  [2]\tetcdserver: request timed out\n" +
		"  [1]\ta\n" +
		"\n"
	if got := b.String(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteReportPrecise(t *testing.T) {
	s := NewStats(okResults(1500*time.Microsecond, 250*time.Microsecond), time.Second)
	var b bytes.Buffer
	WriteReport(&b, s, ReportOptions{Precise: true})
	for _, line := range []string{
		"  Total:\t1 secs.\n",
		"  Slowest:\t0.0015 secs.\n",
		"  Fastest:\t0.00025 secs.\n",
		"  Average:\t0.000875 secs.\n",
		"  Requests/sec:\t2\n",
		"  0.000375 [0]\t|\n",
		"  50% in 0.00025 secs.\n",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("precise report lacks %q:\n%s", line, b.String())
		}
	}
}

func TestWriteReportOnlyErrors(t *testing.T) {
	s := NewStats([]Result{{Err: "etcdserver: mvcc: database space exceeded"}}, time.Second)
	var b bytes.Buffer
	WriteReport(&b, s, ReportOptions{})
	want := "\nError distribution:\n  [1]\tetcdserver: mvcc: database space exceeded\n\n"
	if b.String() != want {
		t.Errorf("report = %q, want %q", b.String(), want)
	}
}

func TestSummaryJSON(t *testing.T) {
	results := okResults(ms(1), ms(2), ms(3), ms(4))
	results = append(results, Result{Err: "x"})
	sum := Summarize("put", NewStats(results, 2*time.Second))
	sum.Parts = []Summary{Summarize("read", NewStats(okResults(ms(0.0004)), time.Second))}
	var b bytes.Buffer
	if err := WriteJSON(&b, sum); err != nil {
		t.Fatal(err)
	}
	line := b.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "}\n") {
		t.Fatalf("not one JSON line: %q", line)
	}
	want := `{"bench":"put","ops":4,"errors":1,"duration_s":2,"rps":2,"avg_ms":2.5,"p50_ms":2,"p90_ms":4,"p99_ms":4,"p999_ms":4,"min_ms":1,"max_ms":4,` +
		`"parts":[{"bench":"read","ops":1,"errors":0,"duration_s":1,"rps":1,"avg_ms":0,"p50_ms":0,"p90_ms":0,"p99_ms":0,"p999_ms":0,"min_ms":0,"max_ms":0}]}` + "\n"
	if line != want {
		t.Errorf("json line\n got %s want %s", line, want)
	}
	var back Summary
	if err := json.Unmarshal([]byte(line), &back); err != nil {
		t.Fatal(err)
	}
	if back.Ops != 4 || back.P50MS != 2 || len(back.Parts) != 1 {
		t.Errorf("round trip = %+v", back)
	}
}

func TestSummaryRoundsToMicroseconds(t *testing.T) {
	sum := Summarize("range", NewStats(okResults(1234567*time.Nanosecond), 3*time.Second))
	if sum.P50MS != 1.235 || sum.RPS != 0.3 || sum.DurationS != 3 {
		t.Errorf("summary = %+v", sum)
	}
}
