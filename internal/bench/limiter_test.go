package bench

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestLimiterPaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(100) // one slot every 10ms
		start := time.Now()
		for range 51 {
			if err := l.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := time.Since(start), 500*time.Millisecond; got != want {
			t.Errorf("51 waits at 100/s took %v, want %v", got, want)
		}
	})
}

func TestLimiterNoBurstAfterIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(10)
		l.Wait(t.Context())
		time.Sleep(time.Second) // idle: the missed slots are not saved up
		start := time.Now()
		l.Wait(t.Context())
		l.Wait(t.Context())
		if got, want := time.Since(start), 100*time.Millisecond; got != want {
			t.Errorf("two waits after idling took %v, want %v", got, want)
		}
	})
}

func TestLimiterCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(1)
		l.Wait(t.Context())
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := l.Wait(ctx); err == nil {
			t.Error("Wait on a canceled context returned nil")
		}
	})
}

func TestNilLimiter(t *testing.T) {
	var l *limiter = newLimiter(0)
	if l != nil {
		t.Fatal("rate 0 must mean no limiter")
	}
	if err := l.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
}
