package server

import (
	"errors"
	"testing"
	"time"

	"github.com/cairn-kv/cairn/internal/apply"
	"github.com/cairn-kv/cairn/internal/v3rpc"
)

func receive(t *testing.T, ch <-chan apply.Result) apply.Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(2 * time.Second):
		t.Fatal("the wait did not end")
		return apply.Result{}
	}
}

func TestWaitRegistryEndsWaitsAtTheirDeadline(t *testing.T) {
	w := newWaitRegistry()
	deadlines := &sharedDeadlines{d: 40 * time.Millisecond, slot: 10 * time.Millisecond, expired: w.expire}
	d := deadlines.next()
	answered := w.registerUntil(1, d)
	late := w.registerUntil(2, d)
	w.Trigger(1, apply.Result{Resp: nil, Err: errors.New("own outcome")})

	if r := receive(t, late); !errors.Is(r.Err, errWaitExpired) {
		t.Fatalf("wait past its deadline ended with %v, want %v", r.Err, errWaitExpired)
	}
	if d.Err() == nil {
		t.Error("a wait expired before its deadline context ended")
	}
	if r := receive(t, answered); r.Err == nil || r.Err.Error() != "own outcome" {
		t.Fatalf("answered wait got %v, want its own outcome", r.Err)
	}
	select {
	case r := <-answered:
		t.Fatalf("an answered wait got a second result: %v", r.Err)
	default:
	}
	if n := w.pending(); n != 0 {
		t.Errorf("%d waits left after the deadline", n)
	}
	// A deadline already past ends a new wait at once.
	if r := receive(t, w.registerUntil(3, d)); !errors.Is(r.Err, errWaitExpired) {
		t.Errorf("wait on a past deadline ended with %v", r.Err)
	}
}

func TestWaitRegistryStopEndsEveryWait(t *testing.T) {
	w := newWaitRegistry()
	deadlines := newSharedDeadlines(time.Minute, w.expire)
	before := []<-chan apply.Result{w.register(1), w.registerUntil(2, deadlines.next())}
	w.stop()
	after := w.registerUntil(3, deadlines.next())
	for i, ch := range append(before, after) {
		if r := receive(t, ch); !errors.Is(r.Err, v3rpc.ErrStopped) {
			t.Errorf("wait %d ended with %v, want %v", i+1, r.Err, v3rpc.ErrStopped)
		}
	}
	if n := w.pending(); n != 0 {
		t.Errorf("%d waits left after stop", n)
	}
	w.Trigger(1, apply.Result{}) // a result after stop goes nowhere, without blocking
}
