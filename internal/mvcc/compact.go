package mvcc

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-kv/cairn/internal/storage"
)

// Compaction pacing defaults (etcd's): a background compaction covers at
// most this many revisions of the change log per engine batch, so it never
// holds a huge batch, and pauses between batches, so it does not compete
// with the applier for the engine for long.
const (
	defaultCompactionBatchLimit = 1000
	defaultCompactionPause      = 10 * time.Millisecond
)

// compactor removes the versions a compaction made obsolete, in the
// background. It walks the change log between the last finished compaction
// and the scheduled one: only keys changed in that window can have versions
// to remove.
type compactor struct {
	s       *Store
	trigger chan struct{}
	done    chan struct{}
	cancel  context.CancelFunc

	// batchLimit and pause pace the work (SetCompactionPacing; 0 means the
	// default); sleep waits between batches and is replaced by tests.
	batchLimit int
	pause      time.Duration
	observer   CompactionObserver // nil: nobody listens
	sleep      func(ctx context.Context, d time.Duration) error

	mu struct {
		sync.Mutex
		finished  int64
		scheduled int64
		advanced  chan struct{} // closed whenever finished advances
	}
}

func (c *compactor) init(s *Store, finished, scheduled int64) {
	c.s = s
	c.trigger = make(chan struct{}, 1)
	c.mu.Lock()
	c.mu.finished, c.mu.scheduled = finished, scheduled
	if c.mu.advanced != nil {
		close(c.mu.advanced) // waiters from before a restore look again
	}
	c.mu.advanced = make(chan struct{})
	c.mu.Unlock()
	if scheduled > finished {
		c.trigger <- struct{}{}
	}
}

func (c *compactor) start(ctx context.Context) {
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	go c.loop(ctx)
}

func (c *compactor) stop() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	<-c.done
	c.cancel = nil
}

// SetCompactionPacing sets --compaction-batch-limit, the most change-log
// revisions one engine batch of a background compaction covers, and
// --compaction-sleep-interval, the pause between two batches; 0 keeps the
// default (1000 revisions, 10ms). Call it before Start.
func (s *Store) SetCompactionPacing(batchLimit int, pause time.Duration) {
	s.compactor.batchLimit, s.compactor.pause = batchLimit, pause
}

// CompactionObserver hears of a background compaction's work: each batch
// (how long building and committing it took, how many versions it
// removed) and each finished compaction (how long it took in all).
type CompactionObserver interface {
	CompactionBatch(d time.Duration, removed int)
	CompactionDone(d time.Duration)
}

// SetCompactionObserver installs o. Call it before Start.
func (s *Store) SetCompactionObserver(o CompactionObserver) { s.compactor.observer = o }

// pacing is the batch limit and the pause in effect.
func (c *compactor) pacing() (int, time.Duration) {
	limit, pause := c.batchLimit, c.pause
	if limit <= 0 {
		limit = defaultCompactionBatchLimit
	}
	if pause <= 0 {
		pause = defaultCompactionPause
	}
	return limit, pause
}

// wait pauses between two batches, or returns early when ctx ends.
func (c *compactor) wait(ctx context.Context, d time.Duration) error {
	if c.sleep != nil {
		return c.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// schedule asks for versions below rev to be removed.
func (c *compactor) schedule(rev int64) {
	c.mu.Lock()
	if rev > c.mu.scheduled {
		c.mu.scheduled = rev
	}
	c.mu.Unlock()
	select {
	case c.trigger <- struct{}{}:
	default:
	}
}

// WaitCompacted blocks until the versions below rev are physically gone.
func (s *Store) WaitCompacted(ctx context.Context, rev int64) error {
	c := &s.compactor
	for {
		c.mu.Lock()
		fin, ch := c.mu.finished, c.mu.advanced
		c.mu.Unlock()
		if fin >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *compactor) loop(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.trigger:
		}
		c.mu.Lock()
		from, to := c.mu.finished, c.mu.scheduled
		c.mu.Unlock()
		if to <= from {
			continue
		}
		if err := c.run(ctx, from, to); err != nil {
			if ctx.Err() != nil {
				return
			}
			// The engine failed under us; retrying would fail the same way.
			panic(fmt.Sprintf("mvcc: compaction to %d failed: %v", to, err))
		}
		c.mu.Lock()
		c.mu.finished = to
		close(c.mu.advanced)
		c.mu.advanced = make(chan struct{})
		c.mu.Unlock()
		c.s.lg.Info("finished scheduled compaction", "compact-revision", to)
	}
}

// run removes obsolete versions for every key changed in (from, to].
func (c *compactor) run(ctx context.Context, from, to int64) error {
	db := c.s.db
	started := time.Now()
	limit, pause := c.pacing()
	next := revLogStart(from + 1)
	end := revLogStart(to + 1)
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		resume, err := c.compactChunk(next, end, to, limit)
		if err != nil {
			return err
		}
		if resume == nil {
			break
		}
		next = resume
		if err := c.wait(ctx, pause); err != nil {
			return err
		}
	}
	b := db.NewBatch()
	defer b.Close()
	// The change log keeps revision `to` itself: a watch may start exactly
	// at the compaction revision and must see its events.
	if err := b.DeleteRange(revLogStart(0), revLogStart(to), nil); err != nil {
		return err
	}
	if err := b.Set(storage.KeyFinishedCompact, storage.PutUint64(uint64(to)), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	if c.observer != nil {
		c.observer.CompactionDone(time.Since(started))
	}
	return nil
}

// compactChunk handles up to limit revisions of the change log starting at
// start, compacting each key they changed (once per chunk); it returns
// where to resume, or nil when done.
func (c *compactor) compactChunk(start, end []byte, to int64, limit int) ([]byte, error) {
	db := c.s.db
	started := time.Now()
	logIt, err := db.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return nil, err
	}
	defer logIt.Close()
	verIt, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{storage.PrefixKV}, UpperBound: kvSpaceEnd})
	if err != nil {
		return nil, err
	}
	defer verIt.Close()
	b := db.NewBatch()
	defer b.Close()
	seen := make(map[string]struct{}, min(limit, defaultCompactionBatchLimit))
	var resume []byte
	n := 0
	for logIt.First(); logIt.Valid(); logIt.Next() {
		if n >= limit {
			resume = append([]byte(nil), logIt.Key()...)
			break
		}
		n++
		key, _, err := decodeChange(logIt.Value())
		if err != nil {
			return nil, err
		}
		if _, ok := seen[string(key)]; ok {
			continue
		}
		seen[string(key)] = struct{}{}
		if err := compactKey(verIt, b, key, to); err != nil {
			return nil, err
		}
	}
	if err := logIt.Error(); err != nil {
		return nil, err
	}
	removed := int(b.Count())
	if err := b.Commit(pebble.NoSync); err != nil {
		return nil, err
	}
	if c.observer != nil {
		c.observer.CompactionBatch(time.Since(started), removed)
	}
	return resume, nil
}

// compactKey deletes every version of key older than its newest version at
// or below rev, and that version too if it is a tombstone.
func compactKey(it *pebble.Iterator, b *pebble.Batch, key []byte, rev int64) error {
	prefix := versionPrefix(nil, key)
	first := true
	for valid := it.SeekGE(versionKey(nil, key, rev)); valid; valid = it.Next() {
		p, _, err := splitVersionKey(it.Key())
		if err != nil {
			return err
		}
		if !bytes.Equal(p, prefix) {
			break
		}
		if first {
			first = false
			var rec record
			if err := decodeRecord(it.Value(), &rec); err != nil {
				return err
			}
			if !rec.tombstone {
				continue // the version a read at rev needs
			}
		}
		if err := b.Delete(it.Key(), nil); err != nil {
			return err
		}
	}
	return it.Error()
}
