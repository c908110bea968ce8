package lease

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// clock is a hand-driven time source.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func openDB(t *testing.T, fs vfs.FS) *pebble.DB {
	t.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newLessor(t *testing.T, db *pebble.DB, clk *clock) *Lessor {
	t.Helper()
	l, err := New(db, Config{MinTTL: 2, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// memLessor is a lessor over a fresh in-memory engine, its clock stopped
// at a fixed time.
func memLessor(t *testing.T) (*Lessor, *pebble.DB, *clock) {
	t.Helper()
	db := openDB(t, vfs.NewMem())
	t.Cleanup(func() { db.Close() })
	clk := &clock{now: time.Unix(1000, 0)}
	return newLessor(t, db, clk), db, clk
}

// apply runs fn in a batch and commits it, as the applier does.
func apply(t *testing.T, db *pebble.DB, fn func(b *pebble.Batch) error) error {
	t.Helper()
	b := db.NewBatch()
	defer b.Close()
	if err := fn(b); err != nil {
		return err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	return nil
}

func grant(t *testing.T, l *Lessor, id, ttl int64) *Lease {
	t.Helper()
	var le *Lease
	if err := apply(t, l.db, func(b *pebble.Batch) (err error) {
		le, err = l.Grant(b, id, ttl)
		return err
	}); err != nil {
		t.Fatalf("grant %d: %v", id, err)
	}
	return le
}

func TestGrantLimits(t *testing.T) {
	l, db, _ := memLessor(t)
	if le := grant(t, l, 1, 1); le.TTL != 2 {
		t.Fatalf("TTL 1 granted as %d, want the minimum 2", le.TTL)
	}
	if le := grant(t, l, 2, MaxTTL); le.TTL != MaxTTL {
		t.Fatalf("TTL %d granted as %d", int64(MaxTTL), le.TTL)
	}
	for _, tc := range []struct {
		name    string
		id, ttl int64
		want    error
	}{
		{"existing ID", 1, 10, ErrLeaseExists},
		{"too large", 3, MaxTTL + 1, ErrLeaseTTLTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := apply(t, db, func(b *pebble.Batch) error { _, err := l.Grant(b, tc.id, tc.ttl); return err })
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if got := l.Leases(); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("leases %v", got)
	}
}

// TestExpiryClock: only the leader's clock runs; renewals restart it, an
// expired lease cannot be renewed and is offered for revocation once per
// retry period until its revocation applies.
func TestExpiryClock(t *testing.T) {
	l, db, clk := memLessor(t)
	grant(t, l, 7, 10)
	if _, err := l.Renew(7); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("renew on a follower: %v", err)
	}
	if rem, granted, ok := l.Remaining(7); !ok || rem != 10 || granted != 10 {
		t.Fatalf("follower's remaining: %d %d %v", rem, granted, ok)
	}
	if got := l.Expired(10); got != nil {
		t.Fatalf("a follower expires %v", got)
	}

	l.Promote(time.Second)
	clk.Advance(8 * time.Second)
	if rem, _, _ := l.Remaining(7); rem != 3 {
		t.Fatalf("remaining %d after 8s of 10s plus 1s grace, want 3", rem)
	}
	if ttl, err := l.Renew(7); err != nil || ttl != 10 {
		t.Fatalf("renew: %d %v", ttl, err)
	}
	clk.Advance(9 * time.Second)
	if got := l.Expired(10); len(got) != 0 {
		t.Fatalf("expired %v 9s after a renewal of 10s", got)
	}
	clk.Advance(time.Second)
	if got := l.Expired(10); !slices.Equal(got, []int64{7}) {
		t.Fatalf("expired %v at the TTL, want [7]", got)
	}
	if _, err := l.Renew(7); !errors.Is(err, ErrLeaseNotFound) {
		t.Fatalf("renew of an expired lease: %v", err)
	}
	if rem, _, ok := l.Remaining(7); !ok || rem != 0 {
		t.Fatalf("expired lease remaining %d %v", rem, ok)
	}
	if got := l.Expired(10); len(got) != 0 {
		t.Fatalf("offered again at once: %v", got)
	}
	clk.Advance(revokeRetry)
	if got := l.Expired(10); !slices.Equal(got, []int64{7}) {
		t.Fatalf("not offered again after the retry period: %v", got)
	}
	if err := apply(t, db, func(b *pebble.Batch) error { return l.Revoke(b, 7) }); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := l.Remaining(7); ok {
		t.Fatal("revoked lease still known")
	}
	if err := apply(t, db, func(b *pebble.Batch) error { return l.Revoke(b, 7) }); !errors.Is(err, ErrLeaseNotFound) {
		t.Fatalf("second revoke: %v", err)
	}

	l.Demote()
	if _, err := l.Renew(7); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("renew after demotion: %v", err)
	}
}

// TestExpiredBoundedByLimit: one call offers at most limit leases; the rest
// come with the next call.
func TestExpiredBoundedByLimit(t *testing.T) {
	l, _, clk := memLessor(t)
	l.Promote(0)
	for id := int64(1); id <= 10; id++ {
		grant(t, l, id, 5)
	}
	clk.Advance(5 * time.Second)
	first, second, third := l.Expired(4), l.Expired(4), l.Expired(4)
	if len(first) != 4 || len(second) != 4 || len(third) != 2 {
		t.Fatalf("offered %v, %v, %v", first, second, third)
	}
	all := slices.Concat(first, second, third)
	slices.Sort(all)
	if !slices.Equal(all, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
		t.Fatalf("offered %v", all)
	}
}

// TestLeasesOrder: the leader lists leases by expiry, the soonest first;
// a follower (no clock) by ID.
func TestLeasesOrder(t *testing.T) {
	l, _, clk := memLessor(t)
	l.Promote(0)
	grant(t, l, 3, 100)
	grant(t, l, 1, 300)
	grant(t, l, 2, 100)
	clk.Advance(time.Second)
	grant(t, l, 4, 50)
	if got, want := l.Leases(), []int64{4, 2, 3, 1}; !slices.Equal(got, want) {
		t.Fatalf("leader lists %v, want %v", got, want)
	}
	if _, err := l.Renew(4); err != nil {
		t.Fatal(err)
	}
	l.Demote()
	if got, want := l.Leases(), []int64{1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Fatalf("follower lists %v, want %v", got, want)
	}
}

// TestCheckpointSurvivesReopen: checkpointed remaining TTLs and attached
// keys are in the engine; a lessor opened on it continues each lease's
// clock from its checkpoint once promoted.
func TestCheckpointSurvivesReopen(t *testing.T) {
	fs := vfs.NewMem()
	db := openDB(t, fs)
	clk := &clock{now: time.Unix(1000, 0)}
	l := newLessor(t, db, clk)
	l.Promote(0)
	grant(t, l, 1, 60)
	grant(t, l, 2, 60)
	if err := apply(t, db, func(b *pebble.Batch) error {
		if err := l.Attach(b, 1, []byte("a")); err != nil {
			return err
		}
		return l.Attach(b, 1, []byte("b\x00"))
	}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(45500 * time.Millisecond)
	cps := l.Checkpoints()
	if fmt.Sprint(cps) != "[{1 15} {2 15}]" {
		t.Fatalf("checkpoints %v, want 15s left (rounded up) for both", cps)
	}
	if err := apply(t, db, func(b *pebble.Batch) error { return l.Checkpoint(b, 1, cps[0].Remaining) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, fs)
	defer db.Close()
	l = newLessor(t, db, clk)
	if rem, granted, ok := l.Remaining(1); !ok || rem != 15 || granted != 60 {
		t.Fatalf("follower's view of the checkpointed lease: %d %d %v", rem, granted, ok)
	}
	keys, err := Keys(db, 1)
	if err != nil || fmt.Sprintf("%q", keys) != `["a" "b\x00"]` {
		t.Fatalf("keys %q %v", keys, err)
	}
	l.Promote(time.Second)
	if rem, _, _ := l.Remaining(1); rem != 16 {
		t.Fatalf("remaining %d after promotion, want the checkpoint 15 plus 1s grace", rem)
	}
	if rem, _, _ := l.Remaining(2); rem != 61 {
		t.Fatalf("remaining %d of a lease never checkpointed, want the full 60 plus 1s grace", rem)
	}
	clk.Advance(16 * time.Second)
	if got := l.Expired(10); !slices.Equal(got, []int64{1}) {
		t.Fatalf("expired %v, want the checkpointed lease only", got)
	}
}

// TestKeyIndexBounds: each lease's key index stays apart from its
// neighbours', also for the IDs at the ends of the unsigned order.
func TestKeyIndexBounds(t *testing.T) {
	l, db, _ := memLessor(t)
	ids := []int64{-1, -2, 0x1ff, 0x200, 1<<63 - 1, -1 << 63}
	for _, id := range ids {
		grant(t, l, id, 10)
		if err := apply(t, db, func(b *pebble.Batch) error {
			return l.Attach(b, id, []byte(fmt.Sprint("k", id)))
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		keys, err := Keys(db, id)
		if err != nil || len(keys) != 1 || string(keys[0]) != fmt.Sprint("k", id) {
			t.Fatalf("lease %d keys %q %v", id, keys, err)
		}
	}
	if err := apply(t, db, func(b *pebble.Batch) error { return l.Revoke(b, -1) }); err != nil {
		t.Fatal(err)
	}
	if keys, _ := Keys(db, -1); len(keys) != 0 {
		t.Fatalf("revoked lease -1 still indexes %q", keys)
	}
	for _, id := range ids[1:] {
		if keys, _ := Keys(db, id); len(keys) != 1 {
			t.Fatalf("revoking -1 touched lease %d: %q", id, keys)
		}
	}
}

// TestRenewMarksCheckpointStale: a renewal after a checkpoint marks the
// lease once; clearing the checkpoint (0) gives a new leader the full TTL.
func TestRenewMarksCheckpointStale(t *testing.T) {
	l, db, clk := memLessor(t)
	l.Promote(0)
	grant(t, l, 1, 30)
	grant(t, l, 2, 30)
	if _, err := l.Renew(1); err != nil {
		t.Fatal(err)
	}
	if got := l.StaleCheckpoints(10); len(got) != 0 {
		t.Fatalf("stale %v without any checkpoint", got)
	}
	clk.Advance(25 * time.Second)
	if err := apply(t, db, func(b *pebble.Batch) error {
		for _, cp := range l.Checkpoints() {
			if err := l.Checkpoint(b, cp.ID, cp.Remaining); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := l.Renew(1); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.StaleCheckpoints(10); !slices.Equal(got, []int64{1}) {
		t.Fatalf("stale %v, want [1]", got)
	}
	if got := l.StaleCheckpoints(10); len(got) != 0 {
		t.Fatalf("stale %v offered twice", got)
	}
	// Without clearing, a new leader would give the kept-alive lease only
	// the 5s its checkpoint said.
	l.Demote()
	l.Promote(0)
	if rem, _, _ := l.Remaining(1); rem != 5 {
		t.Fatalf("remaining %d from the stale checkpoint, want 5", rem)
	}
	if err := apply(t, db, func(b *pebble.Batch) error { return l.Checkpoint(b, 1, 0) }); err != nil {
		t.Fatal(err)
	}
	l.Demote()
	l.Promote(0)
	if rem, _, _ := l.Remaining(1); rem != 30 {
		t.Fatalf("remaining %d after the checkpoint was cleared, want the full 30", rem)
	}
	if rem, _, _ := l.Remaining(2); rem != 5 {
		t.Fatalf("remaining %d of the lease never renewed, want its checkpoint 5", rem)
	}
	l.Demote()
	if _, err := l.Renew(1); !errors.Is(err, ErrNotPrimary) {
		t.Fatal(err)
	}
	if got := l.StaleCheckpoints(10); got != nil {
		t.Fatalf("a follower offers %v", got)
	}
}
