package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"
)

// parseLines decodes each output line as one JSON object, failing on
// anything else.
func parseLines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.SplitSeq(strings.TrimSuffix(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", line, err)
		}
		if dec.More() {
			t.Fatalf("line %q holds more than one JSON value", line)
		}
		recs = append(recs, m)
	}
	return recs
}

// line returns the line number of its caller.
func line() int {
	_, _, l, _ := runtime.Caller(1)
	return l
}

func TestJSONLine(t *testing.T) {
	var buf bytes.Buffer
	lg := slog.New(NewHandler(&buf, Options{}))
	l := line() + 1
	lg.Info("ready to serve client requests", "address", "127.0.0.1:2379", "took", 1500*time.Millisecond,
		"error", errors.New("boom"), "n", 3, "u", uint64(7), "ok", true, "ratio", 0.5,
		"members", []string{"a", "b"}, slog.Group("raft", "term", 2, "index", 9))

	raw := buf.String()
	if strings.Count(raw, "\n") != 1 || !strings.HasSuffix(raw, "}\n") {
		t.Fatalf("want exactly one line, got %q", raw)
	}
	// etcd's keys come first, in etcd's order.
	if re := regexp.MustCompile(`^\{"level":"info","ts":"[^"]+","caller":"logging/handler_test\.go:(\d+)","msg":"ready to serve client requests","address"`); !re.MatchString(raw) {
		t.Fatalf("line does not start with etcd's keys: %s", raw)
	} else if got := re.FindStringSubmatch(raw)[1]; got != strconv.Itoa(l) {
		t.Errorf("caller line = %s, want %d", got, l)
	}

	rec := parseLines(t, buf.Bytes())[0]
	ts, err := time.Parse(TimeLayout, rec["ts"].(string))
	if err != nil {
		t.Errorf("ts %q: %v", rec["ts"], err)
	} else if d := time.Since(ts); d < 0 || d > time.Minute {
		t.Errorf("ts %v is not now", ts)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d{4})$`).MatchString(rec["ts"].(string)) {
		t.Errorf("ts %q is not ISO 8601 with microseconds", rec["ts"])
	}
	want := map[string]string{
		"took":    `"1.5s"`,
		"error":   `"boom"`,
		"n":       `3`,
		"u":       `7`,
		"ok":      `true`,
		"ratio":   `0.5`,
		"members": `["a","b"]`,
		"raft":    `{"index":9,"term":2}`,
	}
	for k, w := range want {
		got, _ := json.Marshal(rec[k])
		if string(got) != w {
			t.Errorf("%s = %s, want %s", k, got, w)
		}
	}
}

func TestTimestampZone(t *testing.T) {
	ts := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	if got, want := ts.Format(TimeLayout), "2025-01-02T03:04:05.123456Z"; got != want {
		t.Errorf("UTC: %s, want %s", got, want)
	}
	ny := ts.In(time.FixedZone("EST", -5*3600))
	if got, want := ny.Format(TimeLayout), "2025-01-01T22:04:05.123456-0500"; got != want {
		t.Errorf("EST: %s, want %s", got, want)
	}
}

func TestLevels(t *testing.T) {
	levels := []struct {
		level slog.Level
		name  string
	}{
		{slog.LevelDebug, "debug"},
		{slog.LevelInfo, "info"},
		{slog.LevelWarn, "warn"},
		{slog.LevelError, "error"},
		{LevelPanic, "panic"},
		{LevelFatal, "fatal"},
		{slog.LevelInfo + 2, "info+2"},
	}
	for _, min := range []string{"debug", "info", "warn", "error", "panic", "fatal"} {
		t.Run(min, func(t *testing.T) {
			minLevel, err := ParseLevel(min)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			lg := slog.New(NewHandler(&buf, Options{Level: minLevel}))
			var want []string
			for _, l := range levels {
				lg.Log(context.Background(), l.level, "m")
				if l.level >= minLevel {
					want = append(want, l.name)
				}
			}
			var got []string
			for _, rec := range parseLines(t, buf.Bytes()) {
				got = append(got, rec["level"].(string))
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("levels written = %v, want %v", got, want)
			}
		})
	}
	if _, err := ParseLevel("verbose"); err == nil {
		t.Error("ParseLevel(verbose) succeeded")
	}
}

func TestGroupsAndAttrs(t *testing.T) {
	tests := []struct {
		name string
		log  func(lg *slog.Logger)
		want string // the attributes after msg, as JSON members
	}{
		{"with attrs", func(lg *slog.Logger) { lg.With("member", "8e9e05c52164694d").Info("m", "rev", 5) },
			`"member":"8e9e05c52164694d","rev":5`},
		{"group then attrs", func(lg *slog.Logger) { lg.With("a", 1).WithGroup("g").With("b", 2).Info("m", "c", 3) },
			`"a":1,"g":{"b":2,"c":3}`},
		{"empty group omitted", func(lg *slog.Logger) { lg.WithGroup("g").Info("m") }, ``},
		{"empty nested group omitted", func(lg *slog.Logger) { lg.With("a", 1).WithGroup("g").WithGroup("h").Info("m") },
			`"a":1`},
		{"group opened by record attrs", func(lg *slog.Logger) { lg.WithGroup("g").WithGroup("h").Info("m", "x", 1) },
			`"g":{"h":{"x":1}}`},
		{"inline group", func(lg *slog.Logger) { lg.Info("m", slog.Group("", "x", 1, "y", 2)) }, `"x":1,"y":2`},
		{"empty group attr", func(lg *slog.Logger) { lg.Info("m", slog.Group("g"), "x", 1) }, `"x":1`},
		{"empty attr", func(lg *slog.Logger) { lg.Info("m", slog.Attr{}, "x", 1) }, `"x":1`},
		{"with group and only empty attrs", func(lg *slog.Logger) { lg.WithGroup("g").With(slog.Attr{}).Info("m", "x", 1) },
			`"g":{"x":1}`},
		{"special floats", func(lg *slog.Logger) { lg.Info("m", "nan", math.NaN(), "inf", math.Inf(-1)) },
			`"nan":"NaN","inf":"-Inf"`},
		{"nil and duration any", func(lg *slog.Logger) { lg.Info("m", "n", nil, "d", any(time.Second)) },
			`"n":null,"d":"1s"`},
		{"html is not escaped", func(lg *slog.Logger) { lg.Info("m", "k", "<a&b>", "v", []string{"<"}) },
			`"k":"<a&b>","v":["<"]`},
		{"unmarshalable any", func(lg *slog.Logger) { lg.Info("m", "ch", make(chan int)) }, `"ch":"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(slog.New(NewHandler(&buf, Options{})))
			raw := strings.TrimSuffix(buf.String(), "\n")
			parseLines(t, buf.Bytes())
			_, attrs, _ := strings.Cut(raw, `"msg":"m"`)
			attrs = strings.TrimPrefix(strings.TrimSuffix(attrs, "}"), ",")
			if !strings.HasPrefix(attrs, tt.want) || (tt.want == "" && attrs != "") {
				t.Errorf("attributes = %s, want %s", attrs, tt.want)
			}
		})
	}
}

func TestEscaping(t *testing.T) {
	var buf bytes.Buffer
	lg := slog.New(NewHandler(&buf, Options{}))
	msg := "a \"quoted\"\nline\twith \\ and \x01 and \xff and é"
	lg.Info(msg, msg, msg)
	recs := parseLines(t, buf.Bytes())
	if len(recs) != 1 {
		t.Fatalf("%d lines, want 1: %q", len(recs), buf.String())
	}
	want := strings.ReplaceAll(msg, "\xff", "\ufffd")
	if recs[0]["msg"] != want || recs[0][want] != want {
		t.Errorf("round trip: %q", recs[0])
	}
}

func TestConsoleLine(t *testing.T) {
	var buf bytes.Buffer
	lg := slog.New(NewHandler(&buf, Options{Format: FormatConsole}))
	l := line() + 1
	lg.With("member", "m1").Warn("slow fdatasync", "took", 2*time.Second, "expected", "1s")
	lg.Info("plain")

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", buf.String())
	}
	f := strings.Split(lines[0], "\t")
	if len(f) != 5 {
		t.Fatalf("want 5 tab-separated fields, got %q", f)
	}
	if _, err := time.Parse(TimeLayout, f[0]); err != nil {
		t.Errorf("time %q: %v", f[0], err)
	}
	if f[1] != "warn" || f[2] != "logging/handler_test.go:"+strconv.Itoa(l) || f[3] != "slow fdatasync" {
		t.Errorf("fields = %q", f[:4])
	}
	if want := `{"member": "m1", "took": "2s", "expected": "1s"}`; f[4] != want {
		t.Errorf("attributes = %s, want %s", f[4], want)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(f[4]), &m); err != nil {
		t.Errorf("attributes are not JSON: %v", err)
	}
	if f := strings.Split(lines[1], "\t"); len(f) != 4 || f[3] != "plain" {
		t.Errorf("record without attributes: %q", f)
	}
}

// TestConcurrentLines checks that records from many goroutines, through
// derived handlers, never interleave.
func TestConcurrentLines(t *testing.T) {
	var buf bytes.Buffer
	lg := slog.New(NewHandler(&buf, Options{}))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			l := lg.With("g", g)
			for i := range 200 {
				l.Info("message", "i", i, "pad", strings.Repeat("x", 100))
			}
		})
	}
	wg.Wait()
	if n := len(parseLines(t, buf.Bytes())); n != 1600 {
		t.Errorf("%d lines, want 1600", n)
	}
}

// TestSlogContract runs the standard library's handler conformance tests.
// They expect slog's key names, so ts is reported as "time" and caller is
// dropped.
func TestSlogContract(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return NewHandler(&buf, Options{Level: slog.LevelDebug})
	}, func(t *testing.T) map[string]any {
		recs := parseLines(t, buf.Bytes())
		if len(recs) != 1 {
			t.Fatalf("%d records, want 1", len(recs))
		}
		m := recs[0]
		if ts, ok := m["ts"]; ok {
			m[slog.TimeKey] = ts
			delete(m, "ts")
		}
		delete(m, "caller")
		return m
	})
}
