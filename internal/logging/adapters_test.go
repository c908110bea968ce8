package logging

import (
	"bytes"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"google.golang.org/grpc/grpclog"
)

// testAdapter returns an adapter writing JSON at level to a buffer, with an
// exit seam that records its status instead of exiting.
func testAdapter(level slog.Level) (adapter, *bytes.Buffer, *int) {
	var buf bytes.Buffer
	code := -1
	a := adapter{
		lg:   slog.New(NewHandler(&buf, Options{Level: level})),
		exit: func(c int) { code = c },
	}
	return a, &buf, &code
}

// oneRecord parses buf and expects exactly one record.
func oneRecord(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	recs := parseLines(t, buf.Bytes())
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1: %q", len(recs), buf.String())
	}
	return recs[0]
}

func callerAt(l int) string { return "logging/adapters_test.go:" + strconv.Itoa(l) }

func TestRaftLogger(t *testing.T) {
	tests := []struct {
		name      string
		call      func(l *raftLogger) int // logs and returns its line
		wantLevel string
		wantMsg   string
	}{
		{"Debug", func(l *raftLogger) int { l.Debug("a", 1); return line() }, "debug", "a1"},
		{"Debugf", func(l *raftLogger) int { l.Debugf("a %d", 1); return line() }, "debug", "a 1"},
		{"Info", func(l *raftLogger) int { l.Info("became leader at term ", 5); return line() }, "info", "became leader at term 5"},
		{"Infof", func(l *raftLogger) int { l.Infof("%x became leader", 10); return line() }, "info", "a became leader"},
		{"Warning", func(l *raftLogger) int { l.Warning("w"); return line() }, "warn", "w"},
		{"Warningf", func(l *raftLogger) int { l.Warningf("w%s", "!"); return line() }, "warn", "w!"},
		{"Error", func(l *raftLogger) int { l.Error("e"); return line() }, "error", "e"},
		{"Errorf", func(l *raftLogger) int { l.Errorf("e%d", 2); return line() }, "error", "e2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, buf, _ := testAdapter(slog.LevelDebug)
			l := &raftLogger{a}
			at := tt.call(l)
			rec := oneRecord(t, buf)
			if rec["level"] != tt.wantLevel || rec["msg"] != tt.wantMsg || rec["caller"] != callerAt(at) {
				t.Errorf("record = %v, want level %s, msg %q, caller %s", rec, tt.wantLevel, tt.wantMsg, callerAt(at))
			}
		})
	}

	t.Run("filtered", func(t *testing.T) {
		a, buf, _ := testAdapter(slog.LevelInfo)
		l := &raftLogger{a}
		l.Debug("x")
		l.Debugf("x %d", 1)
		if buf.Len() != 0 {
			t.Errorf("debug written at info level: %q", buf.String())
		}
	})

	t.Run("Fatalf exits 1", func(t *testing.T) {
		a, buf, code := testAdapter(LevelFatal)
		l := &raftLogger{a}
		l.Fatalf("lost %s", "disk")
		at := line() - 1
		rec := oneRecord(t, buf)
		if rec["level"] != "fatal" || rec["msg"] != "lost disk" || rec["caller"] != callerAt(at) || *code != 1 {
			t.Errorf("record = %v, exit = %d", rec, *code)
		}
	})

	t.Run("Fatal exits 1", func(t *testing.T) {
		a, buf, code := testAdapter(slog.LevelInfo)
		(&raftLogger{a}).Fatal("x")
		if rec := oneRecord(t, buf); rec["level"] != "fatal" || *code != 1 {
			t.Errorf("record = %v, exit = %d", rec, *code)
		}
	})

	for _, tt := range []struct {
		name string
		call func(l *raftLogger)
	}{
		{"Panic", func(l *raftLogger) { l.Panic("broken ", "invariant") }},
		{"Panicf", func(l *raftLogger) { l.Panicf("broken %s", "invariant") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, buf, _ := testAdapter(slog.LevelInfo)
			defer func() {
				if r := recover(); r != "broken invariant" {
					t.Errorf("recovered %v, want the message", r)
				}
				if rec := oneRecord(t, buf); rec["level"] != "panic" || rec["msg"] != "broken invariant" {
					t.Errorf("record = %v", rec)
				}
			}()
			tt.call(&raftLogger{a})
		})
	}

	// The exported constructor wires the real exit.
	if l, ok := RaftLogger(slog.New(slog.DiscardHandler)).(*raftLogger); !ok || l.a.exit == nil {
		t.Error("RaftLogger does not return a *raftLogger with an exit func")
	}
}

func TestGRPCLogger(t *testing.T) {
	tests := []struct {
		name      string
		call      func(l *grpcLogger) int
		wantLevel string
		wantMsg   string
	}{
		{"Info is debug", func(l *grpcLogger) int { l.Info("a", "b"); return line() }, "debug", "ab"},
		{"Infoln is debug", func(l *grpcLogger) int { l.Infoln("a", "b"); return line() }, "debug", "a b"},
		{"Infof is debug", func(l *grpcLogger) int { l.Infof("[core] %s", "x"); return line() }, "debug", "[core] x"},
		{"Warning", func(l *grpcLogger) int { l.Warning("w"); return line() }, "warn", "w"},
		{"Warningln", func(l *grpcLogger) int { l.Warningln("w", 1); return line() }, "warn", "w 1"},
		{"Warningf", func(l *grpcLogger) int { l.Warningf("w%d", 1); return line() }, "warn", "w1"},
		{"Error", func(l *grpcLogger) int { l.Error("e"); return line() }, "error", "e"},
		{"Errorln", func(l *grpcLogger) int { l.Errorln("e", 1); return line() }, "error", "e 1"},
		{"Errorf", func(l *grpcLogger) int { l.Errorf("e%d", 1); return line() }, "error", "e1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, buf, _ := testAdapter(slog.LevelDebug)
			at := tt.call(&grpcLogger{a})
			rec := oneRecord(t, buf)
			if rec["level"] != tt.wantLevel || rec["msg"] != tt.wantMsg || rec["caller"] != callerAt(at) {
				t.Errorf("record = %v, want level %s, msg %q, caller %s", rec, tt.wantLevel, tt.wantMsg, callerAt(at))
			}
		})
	}

	t.Run("info hidden at info level", func(t *testing.T) {
		a, buf, _ := testAdapter(slog.LevelInfo)
		l := &grpcLogger{a}
		l.Info("chatter")
		l.Infof("chatter %d", 1)
		l.InfoDepth(0, "chatter")
		if buf.Len() != 0 {
			t.Errorf("gRPC info written at info level: %q", buf.String())
		}
		if l.V(0) || l.V(2) {
			t.Error("V reports verbose logging at info level")
		}
		a2, _, _ := testAdapter(slog.LevelDebug)
		if !(&grpcLogger{a2}).V(2) {
			t.Error("V(2) false at debug level")
		}
	})

	for _, tt := range []struct {
		name string
		call func(l *grpcLogger)
	}{
		{"Fatal", func(l *grpcLogger) { l.Fatal("f") }},
		{"Fatalln", func(l *grpcLogger) { l.Fatalln("f") }},
		{"Fatalf", func(l *grpcLogger) { l.Fatalf("%s", "f") }},
		{"FatalDepth", func(l *grpcLogger) { l.FatalDepth(0, "f") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, buf, code := testAdapter(slog.LevelError)
			tt.call(&grpcLogger{a})
			if rec := oneRecord(t, buf); rec["level"] != "fatal" || rec["msg"] != "f" || *code != 1 {
				t.Errorf("record = %v, exit = %d", rec, *code)
			}
		})
	}
}

// TestGRPCLoggerInstalled goes through grpclog itself, whose component
// loggers call the ...Depth methods: records must carry the call site in
// the code that logged, not in grpclog or the adapter.
func TestGRPCLoggerInstalled(t *testing.T) {
	a, buf, _ := testAdapter(slog.LevelDebug)
	grpclog.SetLoggerV2(&grpcLogger{a})
	t.Cleanup(func() { grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard)) })

	comp := grpclog.Component("test")
	var lines []int
	comp.Infof("dialing %s", "x")
	lines = append(lines, line()-1)
	comp.Warning("warned")
	lines = append(lines, line()-1)
	grpclog.ErrorDepth(0, "direct")
	lines = append(lines, line()-1)

	recs := parseLines(t, buf.Bytes())
	want := []struct{ level, msg string }{
		{"debug", "[test] dialing x"},
		{"warn", "[test] warned"},
		{"error", "direct"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d: %q", len(recs), len(want), buf.String())
	}
	for i, w := range want {
		if recs[i]["level"] != w.level || recs[i]["msg"] != w.msg || recs[i]["caller"] != callerAt(lines[i]) {
			t.Errorf("record %d = %v, want level %s, msg %q, caller %s", i, recs[i], w.level, w.msg, callerAt(lines[i]))
		}
	}
}
