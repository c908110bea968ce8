package bench

import (
	"context"
	"sync"
	"time"
)

// limiter paces requests shared by all of a run's workers: each Wait takes
// the next free slot of a fixed interval, so bursts are not allowed and the
// long-run rate is exact.
type limiter struct {
	interval time.Duration

	mu struct {
		sync.Mutex
		next time.Time
	}
}

// newLimiter returns a limiter for perSecond requests a second, or nil for
// no limit (perSecond <= 0); Wait on a nil limiter returns at once.
func newLimiter(perSecond int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	return &limiter{interval: time.Second / time.Duration(perSecond)}
}

// Wait blocks until the caller's slot comes or ctx ends.
func (l *limiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	slot := l.mu.next
	if slot.Before(now) {
		slot = now
	}
	l.mu.next = slot.Add(l.interval)
	l.mu.Unlock()

	d := time.Until(slot)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
