package watch

import (
	"context"
	"errors"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// errBatchFull stops a change-log read at a revision boundary.
var errBatchFull = errors.New("watch: catch-up batch full")

func (h *Hub) loop(ctx context.Context) {
	defer close(h.done)
	catchUp := time.NewTicker(h.cfg.CatchUpInterval)
	defer catchUp.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		case <-catchUp.C:
		}
		h.catchUpAll(ctx)
	}
}

// catchUpAll advances every unsynced watcher whose queue has room.
func (h *Hub) catchUpAll(ctx context.Context) {
	for _, w := range h.readyToCatchUp() {
		if ctx.Err() != nil {
			return
		}
		h.catchUp(w)
	}
}

func (h *Hub) readyToCatchUp() []*watcher {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*watcher
	for w := range h.mu.unsynced {
		if w.s.queueLen(w) <= h.cfg.MaxQueued/2 {
			out = append(out, w)
		}
	}
	return out
}

// catchUp reads one batch of w's missed events from the store and queues
// them as one response; once w reaches the newest revision it is synced.
func (h *Hub) catchUp(w *watcher) {
	h.mu.Lock()
	if _, ok := h.mu.unsynced[w]; !ok {
		h.mu.Unlock()
		return
	}
	from, target := w.nextRev, h.mu.rev
	h.mu.Unlock()

	var evs []*mvccpb.Event
	last := target
	err := h.store.Events(from, target, w.prevKV, w.matches, func(rev int64, ev *mvccpb.Event) error {
		if len(evs) >= h.cfg.CatchUpEvents && rev != evs[len(evs)-1].Kv.ModRevision {
			last = rev - 1
			return errBatchFull
		}
		if rev >= w.startRev {
			evs = append(evs, ev)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errBatchFull) {
		h.catchUpFailed(w, err)
		return
	}
	evs = w.filter(evs)

	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.mu.unsynced[w]; !ok {
		return // canceled meanwhile
	}
	if len(evs) > 0 {
		resp := &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: last}, WatchId: w.id, Events: evs}
		w.s.enqueue(w, resp, 0)
	}
	w.nextRev = last + 1
	if w.nextRev > h.mu.rev {
		delete(h.mu.unsynced, w)
		h.addSyncedLocked(w)
		w.s.notify()
	}
}

// catchUpFailed ends a watcher whose history is gone (compacted) or cannot
// be read.
func (h *Hub) catchUpFailed(w *watcher, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.mu.unsynced[w]; !ok {
		return
	}
	h.removeLocked(w)
	resp := &pb.WatchResponse{Header: &pb.ResponseHeader{}, WatchId: w.id, Canceled: true}
	if compact := h.store.CompactRev(); w.nextRev < compact {
		resp.CompactRevision = compact
	} else {
		h.lg.Error("watch catch-up failed", "watch-id", w.id, "error", err)
		resp.CancelReason = err.Error()
	}
	w.s.end(w, resp)
}

// notifyProgress sends a progress notification to every synced watcher of
// s that asked for them and received no event since the last one.
func (h *Hub) notifyProgress(s *Stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range s.progressWatchers() {
		if w.synced {
			s.progressTick(w, h.mu.rev)
		}
	}
}
