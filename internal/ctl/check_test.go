package ctl

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The check commands' bad paths are golden cases; these tests run the loads
// themselves, shortened, against our server. Their results depend on the
// machine, so the tests pin the shape of the report, not its verdict.

// runCheck runs one command line in-process with the given seams.
func runCheck(t *testing.T, o Options, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	o.Stdin, o.Stdout, o.Stderr, o.Environ = strings.NewReader(""), &stdout, &stderr, []string{}
	code := Main(o, args)
	return result{stdout: stdout.String(), stderr: stderr.String(), exit: code}
}

// matchLines checks that out has one line per pattern, each matching it.
func matchLines(t *testing.T, out string, patterns ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(patterns) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(patterns), out)
	}
	for i, p := range patterns {
		if !regexp.MustCompile("^" + p + "$").MatchString(lines[i]) {
			t.Errorf("line %d: %q does not match %q", i+1, lines[i], p)
		}
	}
}

func assertPrefixEmpty(t *testing.T, ep, prefix string) {
	t.Helper()
	resp, err := testClient(t, ep).Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Count != 0 {
		t.Errorf("%d keys left under %q", resp.Count, prefix)
	}
}

func TestCheckPerf(t *testing.T) {
	ep := startServer(t)
	r := runCheck(t, Options{checkPerfDuration: 2 * time.Second},
		"--endpoints="+ep, "check", "perf", "--auto-compact", "--auto-defrag")
	const num = `[0-9]+\.[0-9]{6}s`
	matchLines(t, r.stdout,
		`Compacting with revision [0-9]+`,
		`Compacted with revision [0-9]+`,
		fmt.Sprintf("Defragmenting %q", ep),
		fmt.Sprintf("Defragmented %q", ep),
		`(PASS: Throughput is|FAIL: Throughput too low:) [0-9]+ writes/s`,
		`(PASS: Slowest request took|Slowest request took too long:) `+num,
		`(PASS: Stddev is|Stddev too high:) `+num,
		`PASS|FAIL`,
	)
	if want := map[bool]int{true: 0, false: 1}[strings.HasSuffix(r.stdout, "\nPASS\n")]; r.exit != want {
		t.Errorf("exit %d, want %d", r.exit, want)
	}
	if !strings.HasPrefix(r.stderr, "0 / 2 [") || !regexp.MustCompile(`2 / 2 \[-+\] 100\.00% [0-9]+ p/s$`).MatchString(r.stderr) {
		t.Errorf("stderr lacks the progress bar: %q", r.stderr)
	}
	assertPrefixEmpty(t, ep, "/etcdctl-check-perf/")
}

// TestCheckPerfInterrupt: an interrupt ends the writes early; the keys are
// still deleted and the results printed.
func TestCheckPerfInterrupt(t *testing.T) {
	ep := startServer(t)
	interrupt := make(chan struct{})
	cl := testClient(t, ep)
	go func() {
		defer close(interrupt)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			resp, err := cl.Get(context.Background(), "/own/", clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err == nil && resp.Count > 10 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	start := time.Now()
	r := runCheck(t, Options{Interrupt: interrupt, checkPerfDuration: time.Minute},
		"--endpoints="+ep, "check", "perf", "--prefix=/own/")
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("took %v after the interrupt", took)
	}
	if !strings.Contains(r.stdout, "writes/s\n") || !regexp.MustCompile(`(PASS|FAIL)\n$`).MatchString(r.stdout) {
		t.Errorf("no results:\n%s", r.stdout)
	}
	assertPrefixEmpty(t, ep, "/own/")
}

func TestCheckDatascale(t *testing.T) {
	ep := startServer(t)
	r := runCheck(t, Options{checkDatascaleKeys: 300},
		"--endpoints="+ep, "check", "datascale", "--load=small", "--auto-compact")
	matchLines(t, r.stdout,
		`Start data scale check for work load \[300 key-value pairs, 1024 bytes per key-value, 50 concurrent clients\]\.`,
		`Compacting with revision [0-9]+`,
		`Compacted with revision [0-9]+`,
		`PASS: Approximate system memory used : -?[0-9]+\.[0-9]{2} MB\.`,
	)
	if r.exit != 0 {
		t.Errorf("exit %d, stderr:\n%s", r.exit, r.stderr)
	}
	if !regexp.MustCompile(`300 / 300 \[-+\] 100\.00% [0-9]+ p/s$`).MatchString(r.stderr) {
		t.Errorf("stderr lacks the finished progress bar: %q", r.stderr)
	}
	assertPrefixEmpty(t, ep, "/etcdctl-check-datascale/")
}

// TestCheckDatascaleNoMetrics: an endpoint whose /metrics lacks the
// resident memory fails before writing anything.
func TestCheckDatascaleNoMetrics(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"missing", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "go_goroutines 7") },
			"could not find: process_resident_memory_bytes\n"},
		{"unparsable", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "process_resident_memory_bytes x") },
			"parse error: strconv.ParseFloat: parsing \"x\": invalid syntax\n"},
		{"found", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, "# HELP process_resident_memory_bytes Resident memory size in bytes.")
			fmt.Fprintln(w, "process_resident_memory_bytes 2.5e+07")
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			var out bytes.Buffer
			cl := &cli{}
			got := cl.residentMemory(&out, srv.URL)
			if out.String() != c.want {
				t.Errorf("printed %q, want %q", out.String(), c.want)
			}
			if (c.want == "") != (got == 2.5e7) {
				t.Errorf("got %v", got)
			}
		})
	}
}

// TestProgressFrame compares frames with ones etcdctl 3.6.16 drew.
func TestProgressFrame(t *testing.T) {
	cases := []struct {
		cur, total int
		elapsed    time.Duration
		want       string
	}{
		{0, 60, 0, "0 / 60 [_______________________________________________________________________________] 0.00% ? p/s"},
		{6, 60, 6 * time.Second, "6 / 60 [------->______________________________________________________________________] 10.00% 1 p/s"},
		{60, 60, 60 * time.Second, "60 / 60 [----------------------------------------------------------------------------] 100.00% 1 p/s"},
		{5601, 10000, 3146 * time.Millisecond, "5601 / 10000 [-------------------------------------->______________________________] 56.01% 1780 p/s"},
	}
	for _, c := range cases {
		if got := progressFrame(c.cur, c.total, c.elapsed); got != c.want {
			t.Errorf("progressFrame(%d, %d)\n got %q\nwant %q", c.cur, c.total, got, c.want)
		}
	}
}
