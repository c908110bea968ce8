package watch

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// Cancel reasons with etcd's texts.
var (
	ErrDuplicateID = errors.New("mvcc: duplicate watch ID provided on the WatchStream")
	errCompacted   = errors.New("etcdserver: mvcc: required revision has been compacted")
	// ErrStreamClosed ends Next once the stream is closed.
	ErrStreamClosed = errors.New("watch: stream closed")
)

// Stream is the set of watchers of one client stream.
type Stream struct {
	h     *Hub
	ready chan struct{}
	// progressTicker paces the stream's progress notifications. Each stream's
	// interval is the configured one plus up to a tenth more, drawn at
	// random as etcd does, so that streams opened together (a client
	// restarting with many watches) do not all get them at once.
	progressTicker *time.Ticker

	mu struct {
		sync.Mutex
		watchers map[int64]*watcher
		nextID   int64
		control  []*pb.WatchResponse // created, canceled: before any event
		active   []*watcher          // watchers with queued responses, in turn
		progress bool                // a progress request is waiting
		closed   bool
	}
}

// NewStream opens a stream.
func (h *Hub) NewStream() *Stream {
	s := &Stream{h: h, ready: make(chan struct{}, 1), progressTicker: time.NewTicker(jittered(h.cfg.ProgressInterval))}
	s.mu.watchers = map[int64]*watcher{}
	h.streams.Add(1)
	return s
}

func (s *Stream) notify() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Watch creates a watcher for req. Its created response (or the reason it
// could not be created) is queued for Next.
func (s *Stream) Watch(req *pb.WatchCreateRequest) {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return
	}
	cur := h.mu.rev
	refuse := func(reason error) {
		s.controlLocked(&pb.WatchResponse{
			Header: &pb.ResponseHeader{Revision: cur}, WatchId: -1,
			Created: true, Canceled: true, CancelReason: reason.Error(),
		})
	}
	if req.StartRevision < 0 {
		refuse(errCompacted)
		return
	}
	id := req.WatchId
	if id != 0 {
		if _, dup := s.mu.watchers[id]; dup {
			refuse(ErrDuplicateID)
			return
		}
	} else {
		for {
			if _, used := s.mu.watchers[s.mu.nextID]; !used {
				break
			}
			s.mu.nextID++
		}
		id = s.mu.nextID
		s.mu.nextID++
	}
	w := newWatcher(s, id, req)
	s.mu.watchers[id] = w
	s.controlLocked(&pb.WatchResponse{Header: &pb.ResponseHeader{Revision: cur}, WatchId: id, Created: true})
	switch start := req.StartRevision; {
	case start == 0 || start > cur:
		w.startRev = start
		h.addSyncedLocked(w)
	case start < h.store.CompactRev():
		delete(s.mu.watchers, id)
		s.controlLocked(&pb.WatchResponse{
			Header: &pb.ResponseHeader{}, WatchId: id, Canceled: true, CompactRevision: h.store.CompactRev(),
		})
	default:
		h.addUnsyncedLocked(w, start)
	}
}

func newWatcher(s *Stream, id int64, req *pb.WatchCreateRequest) *watcher {
	key := req.Key
	if len(key) == 0 {
		key = []byte{0}
	}
	var end []byte
	switch {
	case len(req.RangeEnd) == 1 && req.RangeEnd[0] == 0:
		end = []byte{}
	case len(req.RangeEnd) > 0:
		end = req.RangeEnd
	}
	w := &watcher{id: id, s: s, key: key, end: end, prevKV: req.PrevKv, progress: req.ProgressNotify, fragment: req.Fragment}
	for _, f := range req.Filters {
		switch f {
		case pb.WatchCreateRequest_NOPUT:
			w.noPut = true
		case pb.WatchCreateRequest_NODELETE:
			w.noDelete = true
		}
	}
	return w
}

// Refuse answers a create request that may not be served (permission
// denied, bad credentials) with a created-and-canceled response.
func (s *Stream) Refuse(reason string) {
	rev := s.h.Rev()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.controlLocked(&pb.WatchResponse{
		Header: &pb.ResponseHeader{Revision: rev}, WatchId: -1,
		Created: true, Canceled: true, CancelReason: reason,
	})
}

// Cancel removes watcher id and queues its canceled response; an unknown id
// is ignored, as etcd does.
func (s *Stream) Cancel(id int64) {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.mu.watchers[id]
	if !ok {
		return
	}
	h.removeLocked(w)
	s.dropLocked(w)
	s.controlLocked(&pb.WatchResponse{Header: &pb.ResponseHeader{Revision: h.mu.rev}, WatchId: id, Canceled: true})
}

// RequestProgress asks for one progress notification (watch ID -1) at the
// newest revision. As in etcd, the request is answered only if every
// watcher of the stream is synced at the time it arrives, and none waits
// for a revision still to come; otherwise it is dropped (the client asks
// again, or learns its progress from the events). A stream without
// watchers gets nothing. The answer goes out once the events already
// queued are sent, so it never runs ahead of them.
func (s *Stream) RequestProgress() {
	h := s.h
	h.mu.Lock()
	s.mu.Lock()
	if len(s.mu.watchers) > 0 && s.allSyncedLocked(h.mu.rev) {
		s.mu.progress = true
	}
	s.mu.Unlock()
	h.mu.Unlock()
	s.notify()
}

// allSyncedLocked reports whether every watcher of the stream is synced at
// rev: none is catching up from the store, none starts after rev. Called
// with Hub.mu and Stream.mu held.
func (s *Stream) allSyncedLocked(rev int64) bool {
	for _, w := range s.mu.watchers {
		if !w.synced || w.startRev > rev {
			return false
		}
	}
	return true
}

// Close removes every watcher of the stream.
func (s *Stream) Close() {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mu.closed {
		h.streams.Add(-1)
	}
	s.mu.closed = true
	s.progressTicker.Stop()
	for _, w := range s.mu.watchers {
		h.removeLocked(w)
		s.dropLocked(w)
	}
	s.notify()
}

// Fragment reports whether watcher id asked for fragmented responses.
func (s *Stream) Fragment(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.mu.watchers[id]
	return ok && w.fragment
}

// Next returns the next response to send, waiting until there is one or
// ctx ends. Control responses go first; then watchers take turns.
func (s *Stream) Next(ctx context.Context) (*pb.WatchResponse, error) {
	for {
		if resp, err := s.next(); resp != nil || err != nil {
			if resp != nil {
				s.h.loadPrev(resp)
			}
			return resp, err
		}
		if resp := s.progressIfSynced(); resp != nil {
			return resp, nil
		}
		select {
		case <-s.ready:
		case <-s.progressTicker.C:
			s.h.notifyProgress(s)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// jittered is interval plus a random part of up to a tenth of it.
func jittered(interval time.Duration) time.Duration {
	return interval + rand.N(interval/10+1)
}

// progressWatchers lists the open watchers that asked for progress
// notifications.
func (s *Stream) progressWatchers() []*watcher {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ws []*watcher
	for _, w := range s.mu.watchers {
		if w.progress && !w.closed {
			ws = append(ws, w)
		}
	}
	return ws
}

func (s *Stream) next() (*pb.WatchResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.mu.control) > 0 {
		resp := s.mu.control[0]
		s.mu.control[0] = nil
		s.mu.control = s.mu.control[1:]
		return resp, nil
	}
	if s.mu.closed {
		return nil, ErrStreamClosed
	}
	for len(s.mu.active) > 0 {
		w := s.mu.active[0]
		s.mu.active = s.mu.active[1:]
		if w.closed || len(w.queue) == 0 {
			w.active = false
			continue
		}
		resp := w.queue[0]
		w.queue[0] = nil
		w.queue = w.queue[1:]
		if len(resp.Events) > 0 {
			w.eventSent = true
			s.h.pendingEvents.Add(-int64(len(resp.Events)))
			s.h.sentEvents.Add(uint64(len(resp.Events)))
		}
		if len(w.queue) > 0 {
			s.mu.active = append(s.mu.active, w)
		} else {
			w.active = false
			w.queue = nil
		}
		if w.catchingUp.Load() {
			s.h.wake() // room for the next catch-up batch
		}
		return resp, nil
	}
	return nil, nil
}

// progressIfSynced answers a pending progress request once every watcher is
// still synced and nothing is queued.
func (s *Stream) progressIfSynced() *pb.WatchResponse {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mu.progress {
		return nil
	}
	if len(s.mu.watchers) == 0 {
		s.mu.progress = false
		return nil
	}
	if !s.allSyncedLocked(h.mu.rev) {
		return nil
	}
	for _, w := range s.mu.watchers {
		if len(w.queue) > 0 {
			return nil
		}
	}
	s.mu.progress = false
	return &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: h.mu.rev}, WatchId: -1}
}

// enqueue adds resp to w's queue; with limit > 0 it refuses (returns false)
// when the queue is full. Called with Hub.mu held.
func (s *Stream) enqueue(w *watcher, resp *pb.WatchResponse, limit int) bool {
	s.mu.Lock()
	if w.closed {
		s.mu.Unlock()
		return true
	}
	if n := len(w.queue); n > 0 && w.coalesce(w.queue[n-1], resp, s.h.cfg.CoalesceEvents) {
		s.h.pendingEvents.Add(int64(len(resp.Events)))
		s.mu.Unlock()
		return true
	}
	if limit > 0 && len(w.queue) >= limit {
		s.mu.Unlock()
		return false
	}
	w.queue = append(w.queue, resp)
	s.h.pendingEvents.Add(int64(len(resp.Events)))
	if !w.active {
		w.active = true
		s.mu.active = append(s.mu.active, w)
	}
	s.mu.Unlock()
	s.notify()
	return true
}

func (s *Stream) queueLen(w *watcher) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(w.queue)
}

// progressTick queues a progress notification for w unless an event reached
// it since the last tick or events are still queued. Called with Hub.mu held.
func (s *Stream) progressTick(w *watcher, rev int64) {
	s.mu.Lock()
	sent, queued := w.eventSent, len(w.queue) > 0
	w.eventSent = false
	s.mu.Unlock()
	// A watcher waiting for a future revision gets no progress until the
	// store reaches it, as in etcd: a revision below its start would let a
	// resuming client ask for events the watch never wanted.
	if sent || queued || w.startRev > rev {
		return
	}
	s.enqueue(w, &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: rev}, WatchId: w.id}, 0)
}

// end removes w (already out of the hub's sets) and queues its final
// response. Called with Hub.mu held.
func (s *Stream) end(w *watcher, resp *pb.WatchResponse) {
	s.mu.Lock()
	s.dropLocked(w)
	s.controlLocked(resp)
	s.mu.Unlock()
}

func (s *Stream) dropLocked(w *watcher) {
	w.closed = true
	for _, resp := range w.queue {
		s.h.pendingEvents.Add(-int64(len(resp.Events)))
	}
	w.queue = nil
	delete(s.mu.watchers, w.id)
}

func (s *Stream) controlLocked(resp *pb.WatchResponse) {
	s.mu.control = append(s.mu.control, resp)
	s.notify()
}

// A watcher whose consumer is behind gets the events of the revisions that
// keep arriving in the response still waiting in its queue instead of one
// response per revision, as etcd batches a slow watcher's events: fewer,
// larger messages cost the member and the client less per event. A
// response holds events of several revisions either way after a catch-up.
// Config.CoalesceEvents bounds the events of a coalesced response, and
// coalesceBytes their keys and values, so that large values do not add up
// to one huge message.
const coalesceBytes = 1 << 20

func isEventBatch(r *pb.WatchResponse) bool {
	return len(r.Events) > 0 && !r.Created && !r.Canceled && r.CompactRevision == 0 && !r.Fragment
}

// coalesce appends next's events to queued, the response last in w's queue,
// and reports whether it did. Called with Stream.mu held.
func (w *watcher) coalesce(queued, next *pb.WatchResponse, maxEvents int) bool {
	if !isEventBatch(queued) || !isEventBatch(next) || len(queued.Events)+len(next.Events) > maxEvents {
		return false
	}
	size := eventBytes(next.Events)
	if w.grown != queued {
		w.grownBytes = eventBytes(queued.Events)
	}
	if w.grownBytes+size > coalesceBytes {
		return false
	}
	if w.grown != queued {
		// The first append copies: the events slice may share its array.
		evs := make([]*mvccpb.Event, 0, 2*(len(queued.Events)+len(next.Events)))
		queued.Events = append(evs, queued.Events...)
		w.grown = queued
	}
	queued.Events = append(queued.Events, next.Events...)
	queued.Header.Revision = next.Header.Revision
	w.grownBytes += size
	return true
}

// eventBytes is the key and value bytes events carry.
func eventBytes(evs []*mvccpb.Event) int {
	n := 0
	for _, ev := range evs {
		for _, kv := range []*mvccpb.KeyValue{ev.Kv, ev.PrevKv} {
			if kv != nil {
				n += len(kv.Key) + len(kv.Value)
			}
		}
	}
	return n
}
