package robustness

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// watchEvent is one event as a watcher received it.
type watchEvent struct {
	Rev    int64
	Key    string
	Delete bool
	Value  string
	Create int64
	Ver    int64
}

func (e watchEvent) String() string {
	if e.Delete {
		return fmt.Sprintf("rev %d DELETE %s", e.Rev, e.Key)
	}
	return fmt.Sprintf("rev %d PUT %s=%q (create %d, version %d)", e.Rev, e.Key, e.Value, e.Create, e.Ver)
}

func toWatchEvent(ev *clientv3.Event) watchEvent {
	e := watchEvent{Rev: ev.Kv.ModRevision, Key: string(ev.Kv.Key), Delete: ev.Type == mvccpb.DELETE}
	if !e.Delete {
		e.Value, e.Create, e.Ver = string(ev.Kv.Value), ev.Kv.CreateRevision, ev.Kv.Version
	}
	return e
}

// progressMark is a progress notification: the revision it reported and
// how many events the watcher had received before it.
type progressMark struct {
	Rev    int64
	Events int
}

// watchRecord is what one watcher saw.
type watchRecord struct {
	name   string
	key    string // the watched key, or the prefix when prefix is set
	prefix bool
	start  int64 // the first revision the watch asked for
	// cli is the client the watch runs on: progress requests must go
	// through it, to reach the watch's stream.
	cli *clientv3.Client

	mu struct {
		sync.Mutex
		events   []watchEvent
		progress []progressMark
		errs     []string
	}
}

func (r *watchRecord) matches(key string) bool {
	if r.prefix {
		return strings.HasPrefix(key, r.key)
	}
	return key == r.key
}

// covered is the highest revision up to which the watcher has, by its own
// account, received every event: the last event's or the last progress
// notification's revision. Headers of event responses promise nothing.
func (r *watchRecord) covered() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.start - 1
	if n := len(r.mu.events); n > 0 {
		c = max(c, r.mu.events[n-1].Rev)
	}
	for _, p := range r.mu.progress {
		c = max(c, p.Rev)
	}
	return c
}

func (r *watchRecord) eventCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.mu.events)
}

func (r *watchRecord) fail(format string, args ...any) {
	r.mu.Lock()
	r.mu.errs = append(r.mu.errs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// run watches until ctx is done, asking for progress notifications every
// progressEvery (never when zero). The watch starts at r.start: always an
// explicit revision, because a watch "from now" that the client resumes
// after a disconnect may replay the revision it was created at.
func (r *watchRecord) run(ctx context.Context, progressEvery time.Duration) {
	cli := r.cli
	opts := []clientv3.OpOption{clientv3.WithRev(r.start)}
	if r.prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if progressEvery > 0 {
		go func() {
			tick := time.NewTicker(progressEvery)
			defer tick.Stop()
			for {
				select {
				case <-wctx.Done():
					return
				case <-tick.C:
					pctx, pcancel := context.WithTimeout(wctx, progressEvery)
					_ = cli.RequestProgress(pctx) // lost requests are fine: the next tick asks again
					pcancel()
				}
			}
		}()
	}
	for resp := range cli.Watch(wctx, r.key, opts...) {
		if err := resp.Err(); err != nil {
			if ctx.Err() == nil {
				r.fail("watch failed: %v", err)
			}
			continue
		}
		r.mu.Lock()
		if resp.IsProgressNotify() {
			r.mu.progress = append(r.mu.progress, progressMark{Rev: resp.Header.Revision, Events: len(r.mu.events)})
		}
		for _, ev := range resp.Events {
			r.mu.events = append(r.mu.events, toWatchEvent(ev))
		}
		r.mu.Unlock()
	}
	if ctx.Err() == nil {
		r.fail("watch channel closed while the test still watched")
	}
}

// waitCovered asks for progress until the watcher covers rev or ctx ends.
func (r *watchRecord) waitCovered(ctx context.Context, rev int64) error {
	for r.covered() < rev {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		_ = r.cli.RequestProgress(pctx)
		<-pctx.Done()
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("watcher %s covers revision %d, never reached the final revision %d", r.name, r.covered(), rev)
		}
	}
	return nil
}

// eventLog is the store's history of events from one revision on, as one
// member replays it: what every watcher is held to.
type eventLog struct {
	from   int64 // the first revision the log may hold
	events []watchEvent
}

// checkWatcher holds one watcher's record to the event log and returns
// every problem, most telling first: a watcher must receive exactly the
// log's events on its keys from its start revision to the revision it
// covers, in revision order, without gaps or duplicates, and a progress
// notification at revision P must come after every such event at or
// below P and before any above it.
func checkWatcher(r *watchRecord, log eventLog, finalRev int64) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var probs []string
	probs = append(probs, r.mu.errs...)
	got := r.mu.events
	// Order and duplicates, on their own terms.
	seen := map[string]bool{}
	for i, e := range got {
		if e.Rev < r.start {
			probs = append(probs, fmt.Sprintf("event before the start revision %d: %v", r.start, e))
		}
		if i > 0 && e.Rev < got[i-1].Rev {
			probs = append(probs, fmt.Sprintf("revision went back: %v after %v", e, got[i-1]))
		}
		id := fmt.Sprintf("%d/%s", e.Rev, e.Key)
		if seen[id] {
			probs = append(probs, fmt.Sprintf("duplicate event: %v", e))
		}
		seen[id] = true
		if !r.matches(e.Key) {
			probs = append(probs, fmt.Sprintf("event on a key not watched: %v", e))
		}
	}
	covered := r.start - 1
	if len(got) > 0 {
		covered = got[len(got)-1].Rev
	}
	for _, p := range r.mu.progress {
		covered = max(covered, p.Rev)
	}
	if covered < finalRev {
		probs = append(probs, fmt.Sprintf("covers revision %d only, the store reached %d", covered, finalRev))
	}
	if r.start < log.from {
		probs = append(probs, fmt.Sprintf("starts at revision %d, before the event log (%d)", r.start, log.from))
		return probs
	}
	var want []watchEvent
	for _, e := range log.events {
		if e.Rev >= r.start && e.Rev <= covered && r.matches(e.Key) {
			want = append(want, e)
		}
	}
	if d := diffEvents(got, want); d != "" {
		probs = append(probs, d)
	}
	// A progress notification at P promises every event up to P.
	for _, p := range r.mu.progress {
		n := 0
		for _, e := range want {
			if e.Rev <= p.Rev {
				n++
			}
		}
		if p.Events != n {
			probs = append(probs, fmt.Sprintf("progress notification at revision %d came after %d events, but %d events are at or below it", p.Rev, p.Events, n))
		}
	}
	return probs
}

// diffEvents describes the first difference between a watcher's events
// and the expected ones, or returns "".
func diffEvents(got, want []watchEvent) string {
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(got):
			return fmt.Sprintf("gap: missing %v (and %d more after it)", want[i], len(want)-i-1)
		case i >= len(want):
			return fmt.Sprintf("unexpected event %v after the last expected one", got[i])
		case got[i] == want[i]:
			continue
		case got[i].Rev > want[i].Rev:
			return fmt.Sprintf("gap: missing %v, got %v next", want[i], got[i])
		case got[i].Rev < want[i].Rev:
			return fmt.Sprintf("unexpected event %v before %v", got[i], want[i])
		default:
			return fmt.Sprintf("event differs: got %v, the log has %v", got[i], want[i])
		}
	}
	return ""
}

// checkEventLog checks the log itself against the store and the
// workload: every revision from the log's start to the final one has an
// event (every write of the workload makes one, and nothing else writes);
// replaying the events from the initial state gives each put event the
// create_revision and version etcd must give it and ends in the final
// state; every acknowledged write is in the log at its revision; and every
// value in the log was written by the workload, once.
func checkEventLog(log eventLog, ks keySpace, init, final kvState, acked []ackedWrite, attempted func(string) bool) []string {
	var probs []string
	s := init
	byRev := map[int64][]watchEvent{}
	values := map[string]int64{}
	for _, e := range log.events {
		byRev[e.Rev] = append(byRev[e.Rev], e)
		if e.Rev <= s.Rev {
			probs = append(probs, fmt.Sprintf("event log goes back or repeats: %v at store revision %d", e, s.Rev))
			continue
		}
		if e.Rev > s.Rev+1 {
			probs = append(probs, fmt.Sprintf("event log has a gap: no event at revisions %d..%d, next %v", s.Rev+1, e.Rev-1, e))
		}
		k := ks.index(e.Key)
		if k < 0 {
			probs = append(probs, fmt.Sprintf("event on a key outside the workload: %v", e))
			s.Rev = e.Rev
			continue
		}
		prev := s.Keys[k]
		if e.Delete {
			if !prev.exists() {
				probs = append(probs, fmt.Sprintf("delete of a missing key: %v", e))
			}
			s.Rev = e.Rev
			s.Keys[k] = keyState{}
			continue
		}
		want := keyState{Value: e.Value, Mod: e.Rev, Create: e.Rev, Ver: 1}
		if prev.exists() {
			want.Create, want.Ver = prev.Create, prev.Ver+1
		}
		if got := (keyState{Value: e.Value, Mod: e.Rev, Create: e.Create, Ver: e.Ver}); got != want {
			probs = append(probs, fmt.Sprintf("event metadata: got %v, want create %d version %d", e, want.Create, want.Ver))
		}
		if !attempted(e.Value) {
			probs = append(probs, fmt.Sprintf("value no client wrote: %v", e))
		}
		if r, dup := values[e.Value]; dup {
			probs = append(probs, fmt.Sprintf("value written twice: %v, first at revision %d", e, r))
		}
		values[e.Value] = e.Rev
		s.Rev = e.Rev
		s.Keys[k] = want
	}
	if s.Rev < final.Rev {
		probs = append(probs, fmt.Sprintf("event log ends at revision %d, the store is at %d", s.Rev, final.Rev))
	} else if s != final {
		probs = append(probs, fmt.Sprintf("replaying the event log gives %v, the store holds %v", s, final))
	}
	for _, w := range acked {
		evs := byRev[w.Rev]
		found := false
		for _, e := range evs {
			if e.Key == ks.name(w.Key) && e.Delete == w.Delete && (w.Delete || e.Value == w.Value) {
				found = true
			}
		}
		if !found {
			what := fmt.Sprintf("put %s=%q", ks.name(w.Key), w.Value)
			if w.Delete {
				what = "delete " + ks.name(w.Key)
			}
			probs = append(probs, fmt.Sprintf("acknowledged write lost: %s at revision %d; the log has %v there", what, w.Rev, evs))
		}
	}
	return probs
}
