package server

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSharedDeadlinesShareWithinASlot(t *testing.T) {
	s := &sharedDeadlines{d: 200 * time.Millisecond, slot: 50 * time.Millisecond}
	start := time.Now()
	a := s.next()
	b := s.next()
	if time.Since(start) < s.slot && a != b {
		t.Error("two requests in one slot got different contexts")
	}
	dl, ok := a.Deadline()
	if !ok || dl.Before(start.Add(s.d)) || dl.After(time.Now().Add(s.d+s.slot)) {
		t.Errorf("deadline %v after start, want between %v and %v", dl.Sub(start), s.d, s.d+s.slot)
	}
	time.Sleep(s.slot + 5*time.Millisecond)
	if c := s.next(); c == a {
		t.Error("a request after the slot got the old context")
	}
}

func TestSharedDeadlineEnds(t *testing.T) {
	s := &sharedDeadlines{d: 30 * time.Millisecond, slot: 10 * time.Millisecond}
	ctx := s.next()
	if ctx.Err() != nil {
		t.Fatalf("fresh context already ended: %v", ctx.Err())
	}
	if ctx.Value("anything") != nil {
		t.Error("the context carries values")
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("the context did not end at its deadline")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("Err = %v, want %v", ctx.Err(), context.DeadlineExceeded)
	}
	// A context derived from it ends with it, as for any deadline context.
	child, cancel := context.WithCancel(s.next())
	defer cancel()
	select {
	case <-child.Done():
	case <-time.After(time.Second):
		t.Fatal("a derived context did not end")
	}
}

func TestNewSharedDeadlinesSlot(t *testing.T) {
	if s := newSharedDeadlines(7*time.Second, nil); s.slot != 140*time.Millisecond {
		t.Errorf("slot %v for 7s, want 140ms", s.slot)
	}
	if s := newSharedDeadlines(10*time.Millisecond, nil); s.slot != time.Millisecond {
		t.Errorf("slot %v for 10ms, want the 1ms floor", s.slot)
	}
}
