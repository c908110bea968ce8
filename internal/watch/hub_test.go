package watch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// memStore is an in-memory change log standing in for the MVCC store.
type memStore struct {
	mu      sync.Mutex
	rev     int64
	compact int64
	log     map[int64][]*mvccpb.Event
	values  map[string]*mvccpb.KeyValue
	// prevReads counts PrevKV calls.
	prevReads int
}

func newMemStore() *memStore {
	return &memStore{rev: 1, log: map[int64][]*mvccpb.Event{}, values: map[string]*mvccpb.KeyValue{}}
}

func (s *memStore) Rev() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

func (s *memStore) CompactRev() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compact
}

var errCompactedStore = errors.New("compacted")

func (s *memStore) Events(from, to int64, prevKV bool, match func([]byte) bool, fn func(int64, *mvccpb.Event) error) error {
	s.mu.Lock()
	if from < s.compact {
		s.mu.Unlock()
		return errCompactedStore
	}
	var revs []int64
	var evs [][]*mvccpb.Event
	for r := from; r <= to; r++ {
		revs = append(revs, r)
		evs = append(evs, s.log[r])
	}
	s.mu.Unlock()
	for i, r := range revs {
		for _, ev := range evs[i] {
			if !match(ev.Kv.Key) {
				continue
			}
			if !prevKV && ev.PrevKv != nil {
				ev = &mvccpb.Event{Type: ev.Type, Kv: ev.Kv}
			}
			if err := fn(r, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// put writes keys in one revision and publishes it to h, as the applier
// does.
func (s *memStore) put(h *Hub, keys ...string) int64 {
	s.mu.Lock()
	s.rev++
	rev := s.rev
	var evs []*mvccpb.Event
	for _, k := range keys {
		kv := &mvccpb.KeyValue{Key: []byte(k), ModRevision: rev, CreateRevision: rev, Version: 1, Value: []byte(fmt.Sprint(rev))}
		prev := s.values[k]
		if prev != nil {
			kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
		}
		s.values[k] = kv
		evs = append(evs, &mvccpb.Event{Type: mvccpb.PUT, Kv: kv, PrevKv: prev})
	}
	s.log[rev] = evs
	s.mu.Unlock()
	h.OnRevision(rev, withoutPrev(evs))
	return rev
}

// withoutPrev returns evs as the applier publishes them: without previous
// versions, which observers read with PrevKV.
func withoutPrev(evs []*mvccpb.Event) []*mvccpb.Event {
	out := make([]*mvccpb.Event, len(evs))
	for i, ev := range evs {
		out[i] = &mvccpb.Event{Type: ev.Type, Kv: ev.Kv}
	}
	return out
}

// PrevKV finds key's newest change below rev in the log.
func (s *memStore) PrevKV(key []byte, rev int64) (*mvccpb.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prevReads++
	if rev-1 < s.compact {
		return nil, nil
	}
	for r := rev - 1; r > 0; r-- {
		for _, ev := range s.log[r] {
			if bytes.Equal(ev.Kv.Key, key) {
				if ev.Type == mvccpb.DELETE {
					return nil, nil
				}
				return ev.Kv, nil
			}
		}
	}
	return nil, nil
}

func newHub(t *testing.T, st *memStore, cfg Config) *Hub {
	t.Helper()
	h := New(st, cfg, slog.New(slog.DiscardHandler))
	h.Start()
	t.Cleanup(h.Close)
	return h
}

// next waits for s's next response.
func next(t *testing.T, s *Stream) *pb.WatchResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	return resp
}

// none checks that s has nothing to send for a while.
func none(t *testing.T, s *Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if resp, err := s.Next(ctx); err == nil {
		t.Fatalf("unexpected response %+v", resp)
	}
}

func describe(resp *pb.WatchResponse) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "id=%d rev=%d", resp.WatchId, resp.Header.GetRevision())
	if resp.Created {
		b.WriteString(" created")
	}
	if resp.Canceled {
		fmt.Fprintf(&b, " canceled compact=%d reason=%q", resp.CompactRevision, resp.CancelReason)
	}
	for _, ev := range resp.Events {
		fmt.Fprintf(&b, " %s@%d", ev.Kv.Key, ev.Kv.ModRevision)
		if ev.PrevKv != nil {
			fmt.Fprintf(&b, "(prev@%d)", ev.PrevKv.ModRevision)
		}
	}
	return b.String()
}

func expect(t *testing.T, s *Stream, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := describe(next(t, s)); got != w {
			t.Fatalf("got  %s\nwant %s", got, w)
		}
	}
}

func TestSyncedWatchers(t *testing.T) {
	st := newMemStore()
	h := newHub(t, st, Config{})
	s := h.NewStream()
	defer s.Close()
	st.put(h, "a") // rev 2
	s.Watch(&pb.WatchCreateRequest{Key: []byte("a")})
	s.Watch(&pb.WatchCreateRequest{Key: []byte("a"), RangeEnd: []byte("c"), PrevKv: true})
	s.Watch(&pb.WatchCreateRequest{Key: []byte("b"), RangeEnd: []byte{0}, Filters: []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NOPUT}})
	s.Watch(&pb.WatchCreateRequest{Key: []byte("a"), WatchId: 1})
	expect(t, s, "id=0 rev=2 created", "id=1 rev=2 created", "id=2 rev=2 created",
		`id=-1 rev=2 created canceled compact=0 reason="mvcc: duplicate watch ID provided on the WatchStream"`)
	st.put(h, "a", "b") // rev 3: one response per watcher with all of the revision's events
	expect(t, s, "id=0 rev=3 a@3", "id=1 rev=3 a@3(prev@2) b@3")
	st.put(h, "z") // only the delete-only watcher's range, and it filters puts
	none(t, s)
	s.Cancel(1)
	expect(t, s, "id=1 rev=4 canceled compact=0 reason=\"\"")
	st.put(h, "b")
	none(t, s)
}

// TestPrevReadBySender: the applier publishes events without previous
// versions; a stream reads them as it sends, only for prev_kv watchers and
// only for changes that have one, and leaves out what compaction removed
// before the send.
func TestPrevReadBySender(t *testing.T) {
	st := newMemStore()
	h := newHub(t, st, Config{})
	s := h.NewStream()
	defer s.Close()
	// A single-key watcher is matched before a range watcher, so the two
	// responses of a revision come in a fixed order.
	s.Watch(&pb.WatchCreateRequest{Key: []byte("a")})
	s.Watch(&pb.WatchCreateRequest{Key: []byte("a"), RangeEnd: []byte("c"), PrevKv: true})
	expect(t, s, "id=0 rev=1 created", "id=1 rev=1 created")
	st.put(h, "a") // rev 2: a creation has no previous version
	expect(t, s, "id=0 rev=2 a@2", "id=1 rev=2 a@2")
	st.put(h, "a", "b") // rev 3
	if n := st.prevReads; n != 0 {
		t.Fatalf("%d previous versions read before sending", n)
	}
	expect(t, s, "id=0 rev=3 a@3", "id=1 rev=3 a@3(prev@2) b@3")
	if n := st.prevReads; n != 1 {
		t.Fatalf("%d previous versions read, want 1 (a's, for the prev_kv watcher)", n)
	}
	st.put(h, "a") // rev 4, compacted away before it is sent
	st.mu.Lock()
	st.compact = 4
	st.mu.Unlock()
	expect(t, s, "id=0 rev=4 a@4", "id=1 rev=4 a@4")
}

// TestOverflowCatchesUp: a watcher whose queue overflows leaves the synced
// set and catches up from the store; it sees every revision once, in
// order, while a well-behaved watcher on another stream keeps up.
func TestOverflowCatchesUp(t *testing.T) {
	st := newMemStore()
	h := newHub(t, st, Config{MaxQueued: 4, CatchUpEvents: 3, CatchUpInterval: 10 * time.Millisecond, CoalesceEvents: 1})
	slow, fast := h.NewStream(), h.NewStream()
	defer slow.Close()
	defer fast.Close()
	slow.Watch(&pb.WatchCreateRequest{Key: []byte("k"), RangeEnd: []byte("l"), PrevKv: true})
	fast.Watch(&pb.WatchCreateRequest{Key: []byte("k"), RangeEnd: []byte("l")})
	expect(t, slow, "id=0 rev=1 created")
	expect(t, fast, "id=0 rev=1 created")
	const n = 50
	for i := 0; i < n; i++ {
		st.put(h, fmt.Sprintf("k%d", i%3))
		if got := describe(next(t, fast)); got != fmt.Sprintf("id=0 rev=%d k%d@%d", i+2, i%3, i+2) {
			t.Fatalf("fast watcher: %s", got)
		}
	}
	if _, slowCount := h.Stats(); slowCount != 1 {
		t.Fatalf("%d watchers catching up, want the slow one", slowCount)
	}
	want := int64(2)
	for want <= n+1 {
		resp := next(t, slow)
		for _, ev := range resp.Events {
			if ev.Kv.ModRevision != want {
				t.Fatalf("slow watcher got revision %d, want %d", ev.Kv.ModRevision, want)
			}
			if want > 4 && ev.PrevKv == nil {
				t.Fatalf("revision %d without prev_kv", want)
			}
			want++
		}
	}
	// Caught up, it is synced again and gets new revisions directly.
	rev := st.put(h, "k0")
	expect(t, slow, fmt.Sprintf("id=0 rev=%d k0@%d(prev@%d)", rev, rev, rev-2)) // k0 last written at i=48
	if _, slowCount := h.Stats(); slowCount != 0 {
		t.Fatalf("%d watchers still catching up", slowCount)
	}
}

// TestSlowWatcherGetsCoalescedEvents: the events of revisions that arrive
// while a watcher's response is still queued join that response, in order
// and up to the bound; a watcher that keeps up gets one per revision.
func TestSlowWatcherGetsCoalescedEvents(t *testing.T) {
	st := newMemStore()
	h := newHub(t, st, Config{CoalesceEvents: 4})
	slow, fast := h.NewStream(), h.NewStream()
	defer slow.Close()
	defer fast.Close()
	slow.Watch(&pb.WatchCreateRequest{Key: []byte("k"), RangeEnd: []byte("l")})
	fast.Watch(&pb.WatchCreateRequest{Key: []byte("k"), RangeEnd: []byte("l"), PrevKv: true})
	expect(t, slow, "id=0 rev=1 created")
	expect(t, fast, "id=0 rev=1 created")
	for i := 0; i < 10; i++ {
		st.put(h, fmt.Sprintf("k%d", i%2))
		expect(t, fast, fmt.Sprintf("id=0 rev=%d k%d@%d%s", i+2, i%2, i+2, map[bool]string{true: fmt.Sprintf("(prev@%d)", i), false: ""}[i >= 2]))
	}
	expect(t, slow,
		"id=0 rev=5 k0@2 k1@3 k0@4 k1@5",
		"id=0 rev=9 k0@6 k1@7 k0@8 k1@9",
		"id=0 rev=11 k0@10 k1@11")
	none(t, slow)
}

// TestCoalescingStopsAtSize: large events do not pile up into one huge
// response.
func TestCoalescingStopsAtSize(t *testing.T) {
	st := newMemStore()
	h := newHub(t, st, Config{})
	s := h.NewStream()
	defer s.Close()
	s.Watch(&pb.WatchCreateRequest{Key: []byte("k"), RangeEnd: []byte("l")})
	expect(t, s, "id=0 rev=1 created")
	big := strings.Repeat("k", coalesceBytes*2/5)
	for i := 0; i < 5; i++ {
		st.put(h, fmt.Sprint(big, i))
	}
	var sizes []int
	for len(sizes) < 3 {
		sizes = append(sizes, len(next(t, s).Events))
	}
	if fmt.Sprint(sizes) != "[2 2 1]" {
		t.Fatalf("events per response %v, want [2 2 1]", sizes)
	}
	none(t, s)
}

// TestHistoryAndCompaction: a watch from a past revision replays it; one
// from before the compacted revision is canceled with that revision.
func TestHistoryAndCompaction(t *testing.T) {
	st := newMemStore()
	h := newHub(t, st, Config{CatchUpInterval: 10 * time.Millisecond})
	for i := 0; i < 5; i++ {
		st.put(h, "h") // revs 2..6
	}
	st.mu.Lock()
	st.compact = 4
	st.mu.Unlock()
	s := h.NewStream()
	defer s.Close()
	s.Watch(&pb.WatchCreateRequest{Key: []byte("h"), StartRevision: 5})
	expect(t, s, "id=0 rev=6 created", "id=0 rev=6 h@5 h@6")
	s.Watch(&pb.WatchCreateRequest{Key: []byte("h"), StartRevision: 3})
	expect(t, s, "id=1 rev=6 created", "id=1 rev=0 canceled compact=4 reason=\"\"")
	s.Watch(&pb.WatchCreateRequest{Key: []byte("h"), StartRevision: -1})
	expect(t, s, `id=-1 rev=6 created canceled compact=0 reason="etcdserver: mvcc: required revision has been compacted"`)
}

// TestRequestProgress: answered only when every watcher of the stream is
// synced and none starts in the future at the time of the request, after
// the events already queued; otherwise dropped.
func TestRequestProgress(t *testing.T) {
	st := newMemStore()
	h := newHub(t, st, Config{CatchUpInterval: time.Hour}) // catch-up only when kicked
	s := h.NewStream()
	defer s.Close()
	s.RequestProgress() // no watchers: nothing
	none(t, s)

	s.Watch(&pb.WatchCreateRequest{Key: []byte("p")})
	expect(t, s, "id=0 rev=1 created")
	st.put(h, "p")
	s.RequestProgress()
	expect(t, s, "id=0 rev=2 p@2", "id=-1 rev=2")

	s.Watch(&pb.WatchCreateRequest{Key: []byte("q"), StartRevision: 4})
	expect(t, s, "id=1 rev=2 created")
	s.RequestProgress() // starts at 4, the store is at 2
	none(t, s)
	st.put(h, "x") // 3
	s.RequestProgress()
	none(t, s)
	st.put(h, "x") // 4: the start is reached; the dropped requests stay dropped
	none(t, s)
	s.RequestProgress()
	expect(t, s, "id=-1 rev=4")
}

// TestProgressNotify: periodic notifications go to watchers that asked for
// them and saw no event since the last one.
func TestProgressNotify(t *testing.T) {
	st := newMemStore()
	start := time.Now()
	h := newHub(t, st, Config{ProgressInterval: 10 * time.Millisecond}) // raised to 100ms
	s := h.NewStream()
	defer s.Close()
	s.Watch(&pb.WatchCreateRequest{Key: []byte("n"), ProgressNotify: true})
	s.Watch(&pb.WatchCreateRequest{Key: []byte("n")})
	s.Watch(&pb.WatchCreateRequest{Key: []byte("f"), ProgressNotify: true, StartRevision: 3})
	expect(t, s, "id=0 rev=1 created", "id=1 rev=1 created", "id=2 rev=1 created")
	expect(t, s, "id=0 rev=1")
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("progress notification after %v, sooner than the 100ms minimum interval", d)
	}
	st.put(h, "other")
	for {
		// The future watcher (start 3) gets none at 2.
		resp := next(t, s)
		if resp.WatchId != 0 {
			t.Fatalf("progress for watcher %d: %s", resp.WatchId, describe(resp))
		}
		if resp.Header.Revision == 2 {
			break
		}
	}
}

// TestProgressIntervalJitter: each stream's progress interval is the
// configured one plus up to a tenth more, and streams differ.
func TestProgressIntervalJitter(t *testing.T) {
	const interval = time.Second
	seen := map[time.Duration]bool{}
	for range 200 {
		d := jittered(interval)
		if d < interval || d > interval+interval/10 {
			t.Fatalf("jittered interval %v outside [%v, %v]", d, interval, interval+interval/10)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Fatalf("200 streams all got the interval %v", jittered(interval))
	}
}

// TestProgressNotifyPerStream: every stream gets its own watchers'
// notifications, and only those.
func TestProgressNotifyPerStream(t *testing.T) {
	st := newMemStore()
	h := newHub(t, st, Config{ProgressInterval: MinProgressInterval})
	a, b := h.NewStream(), h.NewStream()
	defer a.Close()
	defer b.Close()
	a.Watch(&pb.WatchCreateRequest{Key: []byte("a"), ProgressNotify: true})
	b.Watch(&pb.WatchCreateRequest{Key: []byte("b")})
	b.Watch(&pb.WatchCreateRequest{Key: []byte("b2"), ProgressNotify: true})
	expect(t, a, "id=0 rev=1 created")
	expect(t, b, "id=0 rev=1 created", "id=1 rev=1 created")
	expect(t, a, "id=0 rev=1")
	expect(t, b, "id=1 rev=1")
	st.put(h, "a") // 2
	expect(t, a, "id=0 rev=2 a@2")
	expect(t, b, "id=1 rev=2")
}
