package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// collect reads a watch channel until it has seen revision last, checking
// that revisions only grow, each arrives once, and the events of one
// revision come together.
func collect(t *testing.T, wch clientv3.WatchChan, last int64) (map[int64]int, error) {
	t.Helper()
	seen := map[int64]int{}
	var prev int64
	timeout := time.After(30 * time.Second)
	for prev < last {
		select {
		case resp, ok := <-wch:
			if !ok {
				return seen, fmt.Errorf("watch closed at rev %d", prev)
			}
			if err := resp.Err(); err != nil {
				return seen, err
			}
			for i, ev := range resp.Events {
				rev := ev.Kv.ModRevision
				if rev < prev || (rev == prev && i == 0) {
					return seen, fmt.Errorf("revision %d after %d", rev, prev)
				}
				seen[rev]++
				prev = rev
			}
		case <-timeout:
			return seen, fmt.Errorf("timed out at rev %d of %d", prev, last)
		}
	}
	return seen, nil
}

// TestWatchersSeeEveryRevisionOnce runs many watchers (half with prev_kv,
// some starting in the past) under concurrent writers and transactions.
func TestWatchersSeeEveryRevisionOnce(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	if _, err := c.Put(ctx, "p/seed", "x"); err != nil { // rev 2
		t.Fatal(err)
	}
	const watchers, writers, perWriter = 60, 6, 150
	var chans []clientv3.WatchChan
	for i := 0; i < watchers; i++ {
		opts := []clientv3.OpOption{clientv3.WithPrefix()}
		if i%2 == 0 {
			opts = append(opts, clientv3.WithPrevKV())
		}
		if i%3 == 0 {
			opts = append(opts, clientv3.WithRev(2))
		}
		chans = append(chans, c.Watch(ctx, "p/", opts...))
	}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				k := fmt.Sprintf("p/%d/%d", w, i%10)
				var err error
				if i%5 == 0 {
					_, err = c.Txn(ctx).Then(clientv3.OpPut(k, "t"), clientv3.OpPut(k+"x", "t")).Commit()
				} else {
					_, err = c.Put(ctx, k, fmt.Sprint(i))
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	last, err := c.Get(ctx, "p/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	lastRev := last.Header.Revision
	for i, wch := range chans {
		seen, err := collect(t, wch, lastRev)
		if err != nil {
			t.Fatalf("watcher %d: %v", i, err)
		}
		from := int64(3)
		if i%3 == 0 {
			from = 2
		}
		for rev := from; rev <= lastRev; rev++ {
			if seen[rev] == 0 {
				t.Fatalf("watcher %d missed revision %d", i, rev)
			}
		}
	}
}

// TestSlowWatcherDoesNotStallWrites never reads one watch stream; writes
// and another watcher go on, and the slow one later catches up in full.
func TestSlowWatcherDoesNotStallWrites(t *testing.T) {
	m := testutil.StartMember(t)
	ctx := ctxT(t)
	fast := m.Client(t)
	slowClient := m.Client(t)
	slowCtx, stopSlow := context.WithCancel(ctx)
	defer stopSlow()
	slow := slowClient.Watch(slowCtx, "s/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	follower := fast.Watch(ctx, "s/", clientv3.WithPrefix())
	value := strings.Repeat("v", 4096)
	n := 3000 // enough to overflow the unread watcher's queue many times
	if testing.Short() {
		n = 1500
	}
	putAll := func(prefix string) time.Duration {
		start := time.Now()
		for i := 0; i < n; i++ {
			if _, err := fast.Put(ctx, fmt.Sprintf("%s%d", prefix, i%100), value); err != nil {
				t.Fatal(err)
			}
		}
		return time.Since(start)
	}
	took := putAll("s/")
	// The same load on keys no watcher wants, as a baseline.
	baseline := putAll("b/")
	if took > 3*baseline+time.Second {
		t.Errorf("writes with an unread watcher took %v, baseline %v", took, baseline)
	}
	seen, err := collect(t, follower, int64(n)+1)
	if err != nil || len(seen) != n {
		t.Fatalf("fast watcher: %d revisions, %v", len(seen), err)
	}
	// The slow watcher's queue overflowed long ago; now it catches up.
	seen, err = collect(t, slow, int64(n)+1)
	if err != nil || len(seen) != n {
		t.Fatalf("slow watcher: %d revisions, %v", len(seen), err)
	}
	t.Logf("%d puts of 4 KiB: %v with an unread watcher, %v without", n, took, baseline)
}

func TestWatchProgressNotifyAndRequestProgress(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) { c.WatchProgressNotifyInterval = 200 * time.Millisecond })
	c := m.Client(t)
	ctx := ctxT(t)
	if _, err := c.Put(ctx, "other", "x"); err != nil {
		t.Fatal(err)
	}
	wch := c.Watch(ctx, "quiet", clientv3.WithProgressNotify())
	got := 0
	for got < 2 {
		select {
		case resp := <-wch:
			if resp.IsProgressNotify() && resp.Header.Revision == 2 {
				got++
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no progress notification")
		}
	}
	// RequestProgress answers at the current revision on every watcher.
	wch2 := c.Watch(ctx, "quiet2")
	if _, err := c.Put(ctx, "other", "y"); err != nil {
		t.Fatal(err)
	}
	if err := c.RequestProgress(ctx); err != nil {
		t.Fatal(err)
	}
	expectProgressAt(t, wch2, 3)
}

// TestWatchCompactionRace compacts while historical watchers catch up: each
// either receives every revision or is told it was compacted, never a gap.
func TestWatchCompactionRace(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	for i := 0; i < 2000; i++ {
		if _, err := c.Put(ctx, fmt.Sprintf("c/%d", i%50), "v"); err != nil {
			t.Fatal(err)
		}
	}
	var chans []clientv3.WatchChan
	for i := 0; i < 20; i++ {
		chans = append(chans, c.Watch(ctx, "c/", clientv3.WithPrefix(), clientv3.WithRev(int64(2+i*50))))
	}
	if _, err := c.Compact(ctx, 1500, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	for i, wch := range chans {
		start := int64(2 + i*50)
		next := start
		for next <= 2001 {
			resp, ok := <-wch
			if !ok {
				t.Fatalf("watcher %d closed", i)
			}
			if resp.CompactRevision != 0 {
				if resp.CompactRevision != 1500 {
					t.Fatalf("compact revision %d", resp.CompactRevision)
				}
				break
			}
			for _, ev := range resp.Events {
				if ev.Kv.ModRevision != next {
					t.Fatalf("watcher %d: got rev %d, want %d", i, ev.Kv.ModRevision, next)
				}
				next++
			}
		}
	}
}

// TestWatchFragment sends a transaction bigger than the request limit to a
// watcher that asked for fragments; the client reassembles it.
func TestWatchFragment(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) { c.MaxRequestBytes = 64 * 1024 })
	c := m.Client(t)
	ctx := ctxT(t)
	putPairs := func(v string) {
		for i := 0; i < 10; i += 2 {
			a, b := fmt.Sprintf("f/%d", i), fmt.Sprintf("f/%d", i+1)
			if _, err := c.Txn(ctx).Then(clientv3.OpPut(a, v), clientv3.OpPut(b, v)).Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	putPairs(strings.Repeat("x", 20*1024))
	// With prev_kv each transaction's response is about 80 KiB, over the
	// 64 KiB limit: the fragmenting watcher gets it in pieces, which the
	// client reassembles; the other gets it whole.
	wch := c.Watch(ctx, "f/", clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithFragment())
	plain := c.Watch(ctx, "f/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	putPairs(strings.Repeat("y", 20*1024))
	for _, ch := range []clientv3.WatchChan{wch, plain} {
		events := 0
		for events < 10 {
			resp := <-ch
			if err := resp.Err(); err != nil {
				t.Fatal(err)
			}
			if len(resp.Events) != 2 || resp.Events[0].PrevKv == nil {
				t.Fatalf("a transaction's events arrived split or without prev_kv: %v", resp.Events)
			}
			events += len(resp.Events)
		}
	}
}

// TestProgressWithFutureStartRevision: a watch waiting for a revision still
// to come gets no progress notification, requested or periodic, until the
// store reaches that revision; a progress request made meanwhile is
// dropped, as etcd drops it, not answered later.
func TestProgressWithFutureStartRevision(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) { c.WatchProgressNotifyInterval = 100 * time.Millisecond })
	c := m.Client(t)
	ctx := ctxT(t)
	r, err := c.Put(ctx, "other", "x") // rev 2
	if err != nil {
		t.Fatal(err)
	}
	wch := c.Watch(ctx, "k", clientv3.WithRev(r.Header.Revision+2), clientv3.WithProgressNotify())
	if err := c.RequestProgress(ctx); err != nil {
		t.Fatal(err)
	}
	quiet := func(d time.Duration) {
		t.Helper()
		select {
		case resp := <-wch:
			t.Fatalf("response at revision %d before the watch's start revision: %+v", resp.Header.Revision, resp)
		case <-time.After(d):
		}
	}
	quiet(time.Second)
	if _, err := c.Put(ctx, "other", "y"); err != nil { // rev 3: still short of 4
		t.Fatal(err)
	}
	if err := c.RequestProgress(ctx); err != nil {
		t.Fatal(err)
	}
	quiet(time.Second)
	if _, err := c.Put(ctx, "other", "z"); err != nil { // rev 4: the start
		t.Fatal(err)
	}
	// Now both the periodic notification and an answer to a new request
	// come, at revision 4.
	if err := c.RequestProgress(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		expectProgressAt(t, wch, 4)
	}
}

// expectProgressAt waits up to 5 s for the next response on wch, which must
// be a progress notification at rev.
func expectProgressAt(t *testing.T, wch clientv3.WatchChan, rev int64) {
	t.Helper()
	select {
	case resp := <-wch:
		if !resp.IsProgressNotify() || resp.Header.Revision != rev {
			t.Fatalf("got %+v, want a progress notification at %d", resp, rev)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no progress notification at %d in 5s", rev)
	}
}

// TestBusyStreamDoesNotStarveNewWatcher: one stream carries many prev_kv
// watchers replaying a large history (etcd#17529: there, a watcher added to
// such a stream waited minutes). A watcher created on the same stream
// afterwards gets its event promptly, and every replaying watcher still
// gets its whole history.
func TestBusyStreamDoesNotStarveNewWatcher(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	const watchers, revs = 100, 300
	value := strings.Repeat("v", 1024)
	for i := 0; i < revs; i++ { // revisions 2..301
		if _, err := c.Put(ctx, fmt.Sprintf("busy/%d", i%20), value); err != nil {
			t.Fatal(err)
		}
	}
	// All watches below share ctx, so they share one gRPC stream.
	var chans []clientv3.WatchChan
	for i := 0; i < watchers; i++ {
		chans = append(chans, c.Watch(ctx, "busy/", clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithRev(2)))
	}
	errs := make(chan error, watchers)
	for _, wch := range chans {
		go func() {
			seen, err := collect(t, wch, revs+1)
			if err == nil && len(seen) != revs {
				err = fmt.Errorf("saw %d revisions, want %d", len(seen), revs)
			}
			errs <- err
		}()
	}
	late := c.Watch(ctx, "late")
	start := time.Now()
	if _, err := c.Put(ctx, "late", "x"); err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-late:
		if len(resp.Events) != 1 {
			t.Fatalf("late watcher got %+v", resp)
		}
		t.Logf("late watcher's event after %v", time.Since(start))
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("late watcher waited %v behind the replaying ones", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("late watcher starved")
	}
	for i := 0; i < watchers; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("replaying watcher: %v", err)
		}
	}
	t.Logf("replays done after %v", time.Since(start))
}

// TestRequireLeaderWatchEndsWithoutLeader: a watch made with
// WithRequireLeader on a member cut off from the others ends with etcd's
// "no leader" error after a few election timeouts, and a new one is
// refused at once; a watch without that requirement stays open.
func TestRequireLeaderWatchEndsWithoutLeader(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	ctx := ctxT(t)
	lone := memberClient(t, c.Members[2])
	if _, err := lone.Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	strict := lone.Watch(clientv3.WithRequireLeader(ctx), "k")
	plainCtx, stopPlain := context.WithCancel(ctx)
	defer stopPlain()
	plain := lone.Watch(plainCtx, "k")
	// Both watches are established before the others stop.
	if err := lone.RequestProgress(clientv3.WithRequireLeader(ctx)); err != nil {
		t.Fatal(err)
	}
	if resp := <-strict; !resp.IsProgressNotify() {
		t.Fatalf("strict watch: %+v", resp)
	}
	if err := lone.RequestProgress(plainCtx); err != nil {
		t.Fatal(err)
	}
	if resp := <-plain; !resp.IsProgressNotify() {
		t.Fatalf("plain watch: %+v", resp)
	}
	c.Members[0].Stop()
	c.Members[1].Stop()
	stopped := time.Now()
	select {
	case resp, ok := <-strict:
		if !ok || resp.Err() != rpctypes.ErrNoLeader {
			t.Fatalf("strict watch ended with %v (open %v), want %v", resp.Err(), ok, rpctypes.ErrNoLeader)
		}
		t.Logf("strict watch ended %v after the others stopped", time.Since(stopped))
	case <-time.After(15 * time.Second):
		t.Fatal("a require-leader watch outlived the leader by 15s")
	}
	select {
	case resp := <-plain:
		t.Fatalf("plain watch got %+v (%v)", resp, resp.Err())
	case <-time.After(200 * time.Millisecond):
	}
	// Requests that require a leader are refused too; others still answer.
	if _, err := lone.Get(clientv3.WithRequireLeader(ctx), "k", clientv3.WithSerializable()); err != rpctypes.ErrNoLeader {
		t.Fatalf("serializable get requiring a leader: %v, want %v", err, rpctypes.ErrNoLeader)
	}
	if r, err := lone.Get(ctx, "k", clientv3.WithSerializable()); err != nil || len(r.Kvs) != 1 {
		t.Fatalf("serializable get: %v %v", r, err)
	}
	again := lone.Watch(clientv3.WithRequireLeader(ctx), "k")
	select {
	case resp := <-again:
		if resp.Err() != rpctypes.ErrNoLeader {
			t.Fatalf("new strict watch: %v", resp.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a new require-leader watch was not refused")
	}
}
