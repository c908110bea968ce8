package watch

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// Store is the MVCC store as the hub needs it.
type Store interface {
	Rev() int64
	CompactRev() int64
	Events(from, to int64, prevKV bool, match func(key []byte) bool, fn func(rev int64, ev *mvccpb.Event) error) error
	// PrevKV returns key's version just before rev, or nil when there is
	// none or compaction removed it.
	PrevKV(key []byte, rev int64) (*mvccpb.KeyValue, error)
}

// Config tunes the hub; zero values take the defaults.
type Config struct {
	// ProgressInterval is how often watchers that asked for progress
	// notifications get one when no event reached them (etcd's
	// --watch-progress-notify-interval, default 10 minutes).
	ProgressInterval time.Duration
	// MaxQueued bounds each watcher's queue of responses; a watcher that
	// falls further behind catches up from the store instead.
	MaxQueued int
	// CatchUpEvents bounds the events read for one watcher per catch-up
	// step (a revision is never split).
	CatchUpEvents int
	// CatchUpInterval is how often unsynced watchers are looked at even
	// when nothing woke the catch-up loop.
	CatchUpInterval time.Duration
	// CoalesceEvents bounds the events of one response when the events of
	// new revisions join the response still queued for a watcher (1: one
	// response per revision).
	CoalesceEvents int
}

// MinProgressInterval is the shortest progress notification interval;
// shorter settings are raised to it, as etcd raises them.
const MinProgressInterval = 100 * time.Millisecond

func (c *Config) setDefaults() {
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = 10 * time.Minute
	}
	c.ProgressInterval = max(c.ProgressInterval, MinProgressInterval)
	if c.MaxQueued <= 0 {
		c.MaxQueued = 1024
	}
	if c.CatchUpEvents <= 0 {
		c.CatchUpEvents = 1000
	}
	if c.CatchUpInterval <= 0 {
		c.CatchUpInterval = 100 * time.Millisecond
	}
	if c.CoalesceEvents <= 0 {
		c.CoalesceEvents = 256
	}
}

// Hub is the registry of every watcher on this member.
type Hub struct {
	store Store
	cfg   Config
	lg    *slog.Logger

	mu struct {
		sync.Mutex
		// rev is the newest revision the hub has fanned out.
		rev int64
		// synced watchers, indexed: single keys by key, ranges in a set.
		single   map[string]map[*watcher]struct{}
		ranges   map[*watcher]struct{}
		unsynced map[*watcher]struct{}
		// gen numbers OnRevision calls; order is its reused list of
		// matched watchers.
		gen   uint64
		order []*watcher
	}
	kick    chan struct{}
	streams atomic.Int64 // open streams
	// pendingEvents counts the events queued for watchers, sentEvents
	// those handed to streams for sending.
	pendingEvents atomic.Int64
	sentEvents    atomic.Uint64
	cancel        context.CancelFunc
	done          chan struct{}
}

// New creates a hub over store, starting at its current revision.
func New(store Store, cfg Config, lg *slog.Logger) *Hub {
	if cfg.ProgressInterval > 0 && cfg.ProgressInterval < MinProgressInterval {
		lg.Warn("adjusting watch progress notify interval to minimum period",
			"min-watch-progress-notify-interval", MinProgressInterval)
	}
	cfg.setDefaults()
	h := &Hub{store: store, cfg: cfg, lg: lg, kick: make(chan struct{}, 1)}
	h.mu.rev = store.Rev()
	h.mu.single = map[string]map[*watcher]struct{}{}
	h.mu.ranges = map[*watcher]struct{}{}
	h.mu.unsynced = map[*watcher]struct{}{}
	return h
}

// Start runs the catch-up loop until Close.
func (h *Hub) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan struct{})
	go h.loop(ctx)
}

// Close stops the loop.
func (h *Hub) Close() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
	}
}

// Stats counts the watchers, and those catching up from the store.
func (h *Hub) Stats() (total, slow int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.mu.single {
		total += len(set)
	}
	total += len(h.mu.ranges) + len(h.mu.unsynced)
	return total, len(h.mu.unsynced)
}

// Events counts the events handed to streams for sending, and those
// queued for watchers.
func (h *Hub) Events() (sent uint64, pending int64) {
	return h.sentEvents.Load(), h.pendingEvents.Load()
}

// Streams counts the open watch streams.
func (h *Hub) Streams() int { return int(h.streams.Load()) }

// Rev is the newest revision fanned out.
func (h *Hub) Rev() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mu.rev
}

func (h *Hub) wake() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// OnRevision implements mvcc.Observer: it queues rev's events for every
// synced watcher they match. It never blocks on a consumer.
func (h *Hub) OnRevision(rev int64, events []*mvccpb.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mu.rev = rev
	if len(h.mu.single) == 0 && len(h.mu.ranges) == 0 {
		return
	}
	// Each matched watcher collects its events in its own scratch slice;
	// order keeps the watchers in first-match order.
	h.mu.gen++
	gen := h.mu.gen
	order := h.mu.order[:0]
	add := func(w *watcher, ev *mvccpb.Event) {
		if w.matchGen != gen {
			w.matchGen = gen
			w.matched = w.matched[:0]
			order = append(order, w)
		}
		w.matched = append(w.matched, ev)
	}
	for _, ev := range events {
		for w := range h.mu.single[string(ev.Kv.Key)] {
			add(w, ev)
		}
		for w := range h.mu.ranges {
			if w.matches(ev.Kv.Key) {
				add(w, ev)
			}
		}
	}
	var stripped, pending map[*mvccpb.Event]*mvccpb.Event
	for _, w := range order {
		evs := w.filter(w.matched)
		if rev < w.startRev || len(evs) == 0 {
			continue
		}
		if w.prevKV {
			if pending == nil {
				pending = map[*mvccpb.Event]*mvccpb.Event{}
			}
			evs = withPrev(evs, prevToLoad, pendingPrev, pending)
		} else {
			if stripped == nil {
				stripped = map[*mvccpb.Event]*mvccpb.Event{}
			}
			evs = withPrev(evs, carriesPrev, nil, stripped)
		}
		resp := &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: rev}, WatchId: w.id, Events: evs}
		if !w.s.enqueue(w, resp, h.cfg.MaxQueued) {
			// The consumer is too far behind: it catches up from the
			// store, starting with this revision.
			h.unsyncLocked(w, rev)
		}
	}
	for _, w := range order {
		clear(w.matched) // do not keep the events alive
	}
	clear(order)
	h.mu.order = order[:0]
}

// OnRestore implements mvcc.Observer: a state snapshot replaced the store,
// now at rev. Every synced watcher catches up from the store from the
// revision it expects next; history the snapshot does not hold ends the
// watcher as compacted.
func (h *Hub) OnRestore(rev int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	next := h.mu.rev + 1
	var synced []*watcher
	for _, set := range h.mu.single {
		for w := range set {
			synced = append(synced, w)
		}
	}
	for w := range h.mu.ranges {
		synced = append(synced, w)
	}
	for _, w := range synced {
		h.unsyncLocked(w, max(next, w.startRev))
	}
	h.mu.rev = rev
}

// pendingPrev stands for a previous version not read yet: the applier
// leaves previous values out of events, and a stream reads them (loadPrev)
// for the watchers that asked, off the applier's goroutine, as it sends.
var pendingPrev = &mvccpb.KeyValue{}

// hasPrev reports whether ev's key had a version before ev's change.
func hasPrev(ev *mvccpb.Event) bool {
	return ev.Type == mvccpb.DELETE || ev.Kv.CreateRevision != ev.Kv.ModRevision
}

// prevToLoad picks the events that have a previous version not in them yet.
func prevToLoad(ev *mvccpb.Event) bool { return ev.PrevKv == nil && hasPrev(ev) }

// carriesPrev picks the events that carry a previous version.
func carriesPrev(ev *mvccpb.Event) bool { return ev.PrevKv != nil }

// withPrev returns a copy of evs in which every event pick selects carries
// prev as its previous version instead, sharing one copy of each such event
// among all watchers of the revision through cache.
func withPrev(evs []*mvccpb.Event, pick func(*mvccpb.Event) bool, prev *mvccpb.KeyValue, cache map[*mvccpb.Event]*mvccpb.Event) []*mvccpb.Event {
	out := make([]*mvccpb.Event, len(evs))
	for i, ev := range evs {
		if !pick(ev) {
			out[i] = ev
			continue
		}
		c, ok := cache[ev]
		if !ok {
			c = &mvccpb.Event{Type: ev.Type, Kv: ev.Kv, PrevKv: prev}
			cache[ev] = c
		}
		out[i] = c
	}
	return out
}

// loadPrev replaces the pending previous versions in resp with the store's.
// A previous version compaction removed meanwhile is left out, as etcd
// leaves it out. resp's events slice is replaced, not written: coalescing
// may share its array.
func (h *Hub) loadPrev(resp *pb.WatchResponse) {
	var out []*mvccpb.Event
	for i, ev := range resp.Events {
		if ev.PrevKv != pendingPrev {
			continue
		}
		if out == nil {
			out = slices.Clone(resp.Events)
		}
		prev, err := h.store.PrevKV(ev.Kv.Key, ev.Kv.ModRevision)
		if err != nil {
			h.lg.Warn("failed to read the previous version of a watched key",
				"key", string(ev.Kv.Key), "revision", ev.Kv.ModRevision, "error", err)
			prev = nil
		}
		out[i] = &mvccpb.Event{Type: ev.Type, Kv: ev.Kv, PrevKv: prev}
	}
	if out != nil {
		resp.Events = out
	}
}

func (h *Hub) addSyncedLocked(w *watcher) {
	w.synced = true
	w.catchingUp.Store(false)
	if w.end == nil {
		set := h.mu.single[string(w.key)]
		if set == nil {
			set = map[*watcher]struct{}{}
			h.mu.single[string(w.key)] = set
		}
		set[w] = struct{}{}
		return
	}
	h.mu.ranges[w] = struct{}{}
}

func (h *Hub) removeLocked(w *watcher) {
	if w.synced {
		if w.end == nil {
			set := h.mu.single[string(w.key)]
			delete(set, w)
			if len(set) == 0 {
				delete(h.mu.single, string(w.key))
			}
		} else {
			delete(h.mu.ranges, w)
		}
	}
	delete(h.mu.unsynced, w)
	w.synced = false
}

// unsyncLocked moves w to catch-up from revision next on.
func (h *Hub) unsyncLocked(w *watcher, next int64) {
	h.removeLocked(w)
	h.addUnsyncedLocked(w, next)
}

func (h *Hub) addUnsyncedLocked(w *watcher, next int64) {
	w.nextRev = next
	w.catchingUp.Store(true)
	h.mu.unsynced[w] = struct{}{}
	h.wake()
}

// watcher is one watch.
type watcher struct {
	id       int64
	s        *Stream
	key, end []byte // end nil: the single key; empty: every key from key on
	prevKV   bool
	noPut    bool
	noDelete bool
	progress bool // progress notifications requested
	fragment bool
	// startRev is the first revision to deliver for a watch that starts in
	// the future.
	startRev int64

	// Guarded by Hub.mu.
	synced bool
	// matchGen and matched collect the events of one OnRevision call.
	matchGen uint64
	matched  []*mvccpb.Event
	nextRev  int64 // next revision to read when unsynced
	// catchingUp mirrors !synced for the stream, which cannot take Hub.mu.
	catchingUp atomic.Bool

	// Guarded by Stream.mu.
	queue      []*pb.WatchResponse
	queuedAll  bool // every queued response counts toward progress
	active     bool // in the stream's round-robin list
	eventSent  bool // an event went out since the last progress tick
	closed     bool
	grown      *pb.WatchResponse // the queued response coalesce copied
	grownBytes int               // its events' key and value bytes
}

func (w *watcher) matches(k []byte) bool {
	if w.end == nil {
		return bytes.Equal(k, w.key)
	}
	if bytes.Compare(k, w.key) < 0 {
		return false
	}
	return len(w.end) == 0 || bytes.Compare(k, w.end) < 0
}

// filter drops the event types the watcher filters out; it returns evs
// itself when nothing is dropped.
func (w *watcher) filter(evs []*mvccpb.Event) []*mvccpb.Event {
	if !w.noPut && !w.noDelete {
		return evs
	}
	var out []*mvccpb.Event
	for _, ev := range evs {
		if (ev.Type == mvccpb.PUT && w.noPut) || (ev.Type == mvccpb.DELETE && w.noDelete) {
			continue
		}
		out = append(out, ev)
	}
	return out
}
