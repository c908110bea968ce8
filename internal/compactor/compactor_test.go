package compactor

import (
	"context"
	"io"
	"log/slog"
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
	if len(m.compacted) == 0 {
		t.Fatal("never compacted")
	}
	last := m.compacted[len(m.compacted)-1]
	// The newest compaction keeps ten minutes: the revision sampled ten
	// minutes before the last step.
	if want := m.rev - 100 - 1000; last != want {
		t.Fatalf("compacted to %d, want %d (all: %v)", last, want, m.compacted)
	}
	if c.interval() != time.Minute {
		t.Fatalf("interval %v", c.interval())
	}
}

func TestOffWhenZero(t *testing.T) {
	c, err := New(Config{Mode: ModePeriodic, Retention: "0"}, &fakeMember{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || c != nil {
		t.Fatalf("%v %v", c, err)
	}
}
