package compactor

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

type fakeMember struct {
	leader    bool
	rev       int64
	compacted []int64
}

func (f *fakeMember) IsLeader() bool { return f.leader }
func (f *fakeMember) Rev() int64     { return f.rev }
func (f *fakeMember) Compact(_ context.Context, rev int64) error {
	f.compacted = append(f.compacted, rev)
	return nil
}

func TestParseRetention(t *testing.T) {
	cases := []struct {
		mode, in string
		period   time.Duration
		revs     int64
		bad      bool
	}{
		{ModePeriodic, "1", time.Hour, 0, false},
		{ModePeriodic, "30m", 30 * time.Minute, 0, false},
		{ModePeriodic, "0", 0, 0, false},
		{ModePeriodic, "", 0, 0, false},
		{ModePeriodic, "x", 0, 0, true},
		{ModePeriodic, "-1", 0, 0, true},
		{ModeRevision, "1000", 0, 1000, false},
		{ModeRevision, "1h", 0, 0, true},
		{"sometimes", "1", 0, 0, true},
	}
	for _, c := range cases {
		p, r, err := ParseRetention(c.mode, c.in)
		if (err != nil) != c.bad || p != c.period || r != c.revs {
			t.Errorf("%s %q = %v %d %v", c.mode, c.in, p, r, err)
		}
	}
}

func newTest(t *testing.T, mode, retention string, m *fakeMember, now *time.Time) *Compactor {
	t.Helper()
	c, err := New(Config{Mode: mode, Retention: retention, Clock: func() time.Time { return *now }}, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || c == nil {
		t.Fatal(err)
	}
	return c
}

func TestRevisionMode(t *testing.T) {
	now := time.Unix(0, 0)
	m := &fakeMember{leader: true, rev: 50}
	c := newTest(t, ModeRevision, "100", m, &now)
	c.Step(context.Background())
	if len(m.compacted) != 0 {
		t.Fatalf("compacted %v with too little history", m.compacted)
	}
	m.rev = 1000
	c.Step(context.Background())
	c.Step(context.Background())
	if len(m.compacted) != 1 || m.compacted[0] != 900 {
		t.Fatalf("compacted %v, want [900]", m.compacted)
	}
	m.leader = false
	m.rev = 2000
	c.Step(context.Background())
	if len(m.compacted) != 1 {
		t.Fatal("a follower compacted")
	}
}

func TestPeriodicModeKeepsTheWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	m := &fakeMember{leader: true, rev: 10}
	c := newTest(t, ModePeriodic, "10m", m, &now)
	// Samples every minute; the revision grows by 100 a minute.
	for i := 0; i < 25; i++ {
		c.Step(context.Background())
		now = now.Add(time.Minute)
		m.rev += 100
	}
	// As etcd's: the first compaction comes once the retention has
	// passed (minute 10, to the revision sampled at minute 0), the next
	// one a retention later (minute 20, to minute 10's revision).
	if want := []int64{10, 1010}; !slices.Equal(m.compacted, want) {
		t.Fatalf("compacted to %v, want %v", m.compacted, want)
	}
	if c.interval() != time.Minute {
		t.Fatalf("interval %v", c.interval())
	}
}

// TestPeriodicModeHourly: a retention past an hour compacts hourly, to the
// revision of one retention ago.
func TestPeriodicModeHourly(t *testing.T) {
	now := time.Unix(0, 0)
	m := &fakeMember{leader: true, rev: 1}
	c := newTest(t, ModePeriodic, "3h", m, &now)
	if c.interval() != 6*time.Minute {
		t.Fatalf("interval %v", c.interval())
	}
	// A revision a minute for five hours, a step every six minutes.
	for i := 0; i <= 50; i++ {
		c.Step(context.Background())
		now = now.Add(6 * time.Minute)
		m.rev += 6
	}
	// Minutes 180, 240 and 300, each to the revision of three hours before.
	if want := []int64{1, 61, 121}; !slices.Equal(m.compacted, want) {
		t.Fatalf("compacted to %v, want %v", m.compacted, want)
	}
}

func TestOffWhenZero(t *testing.T) {
	c, err := New(Config{Mode: ModePeriodic, Retention: "0"}, &fakeMember{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || c != nil {
		t.Fatalf("%v %v", c, err)
	}
}

// TestLogLines: the compactor logs etcd's lines, which operators search for.
func TestLogLines(t *testing.T) {
	for _, tt := range []struct {
		mode, retention string
		want            []string
	}{
		{ModeRevision, "10", []string{`"msg":"starting auto revision compaction","revision":90,"revision-compaction-retention":10`,
			`"msg":"completed auto revision compaction","revision":90,"revision-compaction-retention":10,"took":`}},
		{ModePeriodic, "1m", []string{`"msg":"starting auto periodic compaction","revision":100,"compact-period":60000000000`,
			`"msg":"completed auto periodic compaction","revision":100,"compact-period":60000000000,"took":`}},
	} {
		var buf strings.Builder
		now := time.Unix(0, 0)
		m := &fakeMember{leader: true, rev: 100}
		c, err := New(Config{Mode: tt.mode, Retention: tt.retention, Clock: func() time.Time { return now }}, m, slog.New(slog.NewJSONHandler(&buf, nil)))
		if err != nil {
			t.Fatal(err)
		}
		c.Step(context.Background())
		now = now.Add(time.Minute)
		m.rev = 200
		c.Step(context.Background())
		if tt.mode == ModeRevision && !slices.Equal(m.compacted, []int64{90, 190}) {
			t.Errorf("revision mode compacted %v", m.compacted)
		}
		for _, w := range tt.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s: log lacks %s:\n%s", tt.mode, w, buf.String())
			}
		}
	}
}
