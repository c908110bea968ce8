package mvcc

import (
	"context"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-kv/cairn/internal/storage"
)

// keyFilters keeps the store's key filter: cur answers lookups once it is
// ready; next, while set, is being filled from an engine snapshot by a
// builder goroutine and replaces cur when it is ready. A filter is built at
// start, after a state snapshot replaced the store, and larger when cur has
// filled up.
//
// Only the applier goroutine (and Start, Close and Restore, which never run
// concurrently with it) touches the fields; the builder only adds to next
// and marks it ready. Every key the applier writes is added to cur and next,
// so a filter holds the keys of its snapshot plus every key written since
// its creation. Builds start between batches: a batch is either in the
// snapshot or written entirely after the filter exists.
type keyFilters struct {
	cur, next *keyFilter
	cancel    context.CancelFunc
	done      chan struct{}
}

// absent reports that key has never been written (no version of it exists).
func (kf *keyFilters) absent(key []byte) bool {
	if kf.next != nil && kf.next.ready.Load() {
		kf.cur, kf.next = kf.next, nil
	}
	return kf.cur != nil && kf.cur.ready.Load() && !kf.cur.mayContain(key)
}

// add records a key being written.
func (kf *keyFilters) add(key []byte) {
	if kf.cur != nil {
		kf.cur.add(key)
	}
	if kf.next != nil {
		kf.next.add(key)
	}
}

// rebuild starts filling a new filter sized for capacity keys from the
// committed state. Call it between batches.
func (kf *keyFilters) rebuild(s *Store, capacity int64) {
	kf.stopBuilder()
	f := newKeyFilter(capacity)
	if kf.cur == nil {
		kf.cur = f
	} else {
		kf.next = f
	}
	snap := s.db.NewSnapshot()
	ctx, cancel := context.WithCancel(context.Background())
	kf.cancel, kf.done = cancel, make(chan struct{})
	go func() {
		defer close(kf.done)
		defer snap.Close()
		if err := fillKeyFilter(ctx, snap, f); err != nil {
			if ctx.Err() == nil {
				s.lg.Warn("building the key filter failed; writes look keys up in the engine", "error", err)
			}
			return
		}
		f.ready.Store(true)
	}()
}

// grow rebuilds the filter larger once it has filled up. Call it between
// batches.
func (kf *keyFilters) grow(s *Store) {
	if kf.cur == nil || kf.next != nil || !kf.cur.full() {
		return
	}
	kf.rebuild(s, 2*max(s.keys.Load(), kf.cur.keysEstimate()))
}

// reset drops the filters: the store's contents are about to be replaced.
func (kf *keyFilters) reset() {
	kf.stopBuilder()
	kf.cur, kf.next = nil, nil
}

func (kf *keyFilters) stopBuilder() {
	if kf.cancel == nil {
		return
	}
	kf.cancel()
	<-kf.done
	kf.cancel = nil
}

// fillKeyFilter adds every user key with a version in r to f.
func fillKeyFilter(ctx context.Context, r pebble.Reader, f *keyFilter) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{storage.PrefixKV}, UpperBound: kvSpaceEnd})
	if err != nil {
		return err
	}
	defer it.Close()
	var prefix, key []byte
	n := 0
	for valid := it.First(); valid; valid = nextUserKey(it, prefix) {
		p, _, err := splitVersionKey(it.Key())
		if err != nil {
			return err
		}
		prefix = append(prefix[:0], p...)
		if key, err = appendUnescaped(key[:0], prefix[1:]); err != nil {
			return err
		}
		f.add(key)
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return it.Error()
}
