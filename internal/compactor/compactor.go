// Package compactor runs automatic compaction on the leader, in etcd's two
// modes: "periodic" keeps a time window of history, "revision" keeps a
// number of revisions.
package compactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Modes of --auto-compaction-mode.
const (
	ModePeriodic = "periodic"
	ModeRevision = "revision"
)

// DefaultRevisionInterval is how often revision mode compacts (etcd's 5
// minutes).
const DefaultRevisionInterval = 5 * time.Minute

// Member is what the compactor needs from the server.
type Member interface {
	IsLeader() bool
	Rev() int64
	// Compact compacts the store to rev through raft.
	Compact(ctx context.Context, rev int64) error
}

// Config is --auto-compaction-mode and --auto-compaction-retention.
type Config struct {
	Mode      string
	Retention string
	// RevisionInterval is how often revision mode compacts; zero means
	// DefaultRevisionInterval.
	RevisionInterval time.Duration
	// Clock and Ticker are for tests; nil means the real ones.
	Clock  func() time.Time
	Ticker func(d time.Duration) (<-chan time.Time, func())
}

// ParseRetention reads a retention: in periodic mode a duration, where a
// bare number counts hours; in revision mode a revision count. Zero (or "")
// turns auto-compaction off.
func ParseRetention(mode, s string) (period time.Duration, revs int64, err error) {
	if s == "" {
		return 0, 0, nil
	}
	switch mode {
	case ModePeriodic:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n < 0 {
				return 0, 0, fmt.Errorf("invalid auto-compaction-retention %q", s)
			}
			return time.Duration(n) * time.Hour, 0, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return 0, 0, fmt.Errorf("invalid auto-compaction-retention %q: a duration or a number of hours", s)
		}
		return d, 0, nil
	case ModeRevision:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, fmt.Errorf("invalid auto-compaction-retention %q: a number of revisions", s)
		}
		return 0, n, nil
	}
	return 0, 0, fmt.Errorf("unknown auto-compaction-mode %q (periodic or revision)", mode)
}

// Compactor runs until Stop.
type Compactor struct {
	cfg    Config
	m      Member
	lg     *slog.Logger
	period time.Duration
	revs   int64
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	last    int64 // last revision compacted to
	samples []sample
	// lastSuccess is when periodic mode last compacted (at first, when the
	// compactor was created), and compacted whether it ever did: as in
	// etcd, the first compaction waits the whole retention, the next ones
	// come every retention capped at an hour.
	lastSuccess time.Time
	compacted   bool
}

type sample struct {
	at  time.Time
	rev int64
}

// New prepares a compactor; it returns nil (nothing to run) when retention
// is zero.
func New(cfg Config, m Member, lg *slog.Logger) (*Compactor, error) {
	period, revs, err := ParseRetention(cfg.Mode, cfg.Retention)
	if err != nil {
		return nil, err
	}
	if period == 0 && revs == 0 {
		return nil, nil
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Ticker == nil {
		cfg.Ticker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	return &Compactor{cfg: cfg, m: m, lg: lg, period: period, revs: revs, lastSuccess: cfg.Clock()}, nil
}

// Start runs the compaction loop.
func (c *Compactor) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go c.run(ctx)
}

// Stop ends the loop.
func (c *Compactor) Stop() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
}

// interval is how often the compactor wakes: the retention (capped at an
// hour) in periodic mode, sampling a tenth of it, or five minutes.
func (c *Compactor) interval() time.Duration {
	if c.revs > 0 {
		if c.cfg.RevisionInterval > 0 {
			return c.cfg.RevisionInterval
		}
		return DefaultRevisionInterval
	}
	return min(c.period, time.Hour) / 10
}

func (c *Compactor) run(ctx context.Context) {
	defer close(c.done)
	tick, stop := c.cfg.Ticker(max(c.interval(), time.Millisecond))
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			c.Step(ctx)
		}
	}
}

// Step runs one round: sample, and compact if history is old enough. Only
// the leader compacts; followers keep their samples so a new leader can
// compact at once.
func (c *Compactor) Step(ctx context.Context) {
	rev := c.target()
	if rev <= 0 || !c.m.IsLeader() {
		return
	}
	c.mu.Lock()
	if rev <= c.last || !c.dueLocked() {
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	// etcd's log lines and fields, which operators search for.
	kind, setting := "periodic", []any{"compact-period", c.period}
	if c.revs > 0 {
		kind, setting = "revision", []any{"revision-compaction-retention", c.revs}
	}
	c.lg.Info("starting auto "+kind+" compaction", append([]any{"revision", rev}, setting...)...)
	start := time.Now()
	err := c.m.Compact(ctx, rev)
	if err != nil && !isCompacted(err) {
		c.lg.Warn("failed auto "+kind+" compaction", append(append([]any{"revision", rev}, setting...),
			"retry-interval", c.interval(), "error", err)...)
		return
	}
	c.mu.Lock()
	c.last = rev
	c.lastSuccess, c.compacted = c.cfg.Clock(), true
	c.mu.Unlock()
	c.lg.Info("completed auto "+kind+" compaction", append(append([]any{"revision", rev}, setting...), "took", time.Since(start))...)
}

// dueLocked reports whether periodic mode may compact now: the retention
// has passed since the compactor started, and then min(retention, 1h)
// since the last compaction. Revision mode compacts on every round.
func (c *Compactor) dueLocked() bool {
	if c.revs > 0 {
		return true
	}
	wait := c.period
	if c.compacted {
		wait = min(c.period, time.Hour)
	}
	return c.cfg.Clock().Sub(c.lastSuccess) >= wait
}

// target is the revision to compact to now, or 0.
func (c *Compactor) target() int64 {
	cur := c.m.Rev()
	if c.revs > 0 {
		return cur - c.revs
	}
	now := c.cfg.Clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.samples = append(c.samples, sample{now, cur})
	cutoff := now.Add(-c.period)
	rev := int64(0)
	keep := 0
	for i, s := range c.samples {
		if s.at.After(cutoff) {
			break
		}
		rev, keep = s.rev, i
	}
	c.samples = c.samples[keep:]
	return rev
}

// errCompacted is matched by text: the member returns the store's error.
var errCompacted = errors.New("mvcc: required revision has been compacted")

func isCompacted(err error) bool {
	return err != nil && (errors.Is(err, errCompacted) || err.Error() == errCompacted.Error())
}
