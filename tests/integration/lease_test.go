package integration

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

func TestLeaseGrantRevokeTimeToLive(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	g, err := c.Grant(ctx, 60)
	if err != nil || g.TTL != 60 || g.ID == 0 {
		t.Fatalf("grant: %v %v", g, err)
	}
	// A TTL below the minimum (1.5 election timeouts) is raised to it.
	short, err := c.Grant(ctx, 0)
	if err != nil || short.TTL != 1 {
		t.Fatalf("short grant: %v %v", short, err)
	}
	if _, err := c.Lease.Grant(ctx, 9000000001); err != rpctypes.ErrLeaseTTLTooLarge {
		t.Fatalf("huge TTL: %v", err)
	}
	if _, err := c.Put(ctx, "a", "1", clientv3.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "b", "1", clientv3.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "b", "2", clientv3.WithIgnoreLease()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "x", "1", clientv3.WithLease(12345)); err != rpctypes.ErrLeaseNotFound {
		t.Fatalf("put with unknown lease: %v", err)
	}
	ttl, err := c.TimeToLive(ctx, g.ID, clientv3.WithAttachedKeys())
	if err != nil || ttl.GrantedTTL != 60 || ttl.TTL < 58 || len(ttl.Keys) != 2 {
		t.Fatalf("ttl: %+v %v", ttl, err)
	}
	if ttl, _ := c.TimeToLive(ctx, 424242); ttl.TTL != -1 {
		t.Fatalf("unknown lease TTL %d, want -1", ttl.TTL)
	}
	leases, err := c.Leases(ctx)
	if err != nil || len(leases.Leases) != 2 {
		t.Fatalf("leases: %v %v", leases, err)
	}
	w := c.Watch(ctx, "", clientv3.WithPrefix())
	rv, err := c.Revoke(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp := <-w
	if len(resp.Events) != 2 || resp.Events[0].Type != mvccpb.DELETE || resp.Header.Revision != rv.Header.Revision {
		t.Fatalf("revoke deleted %v at %d", resp.Events, rv.Header.Revision)
	}
	if _, err := c.Revoke(ctx, g.ID); err != rpctypes.ErrLeaseNotFound {
		t.Fatalf("second revoke: %v", err)
	}
	// On the keepalive stream an unknown (here: revoked) lease is answered
	// with TTL 0, not an error, and the stream stays usable.
	live, err := c.Grant(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	ka, err := pb.NewLeaseClient(c.ActiveConnection()).LeaseKeepAlive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id, ttl int64
	}{{int64(g.ID), 0}, {424242, 0}, {int64(live.ID), 5}} {
		if err := ka.Send(&pb.LeaseKeepAliveRequest{ID: tc.id}); err != nil {
			t.Fatal(err)
		}
		resp, err := ka.Recv()
		if err != nil || resp.ID != tc.id || resp.TTL != tc.ttl || resp.Header.GetRevision() == 0 {
			t.Fatalf("keepalive of %x: %v %v, want TTL %d", tc.id, resp, err, tc.ttl)
		}
	}
}

func TestLeaseExpiryDeletesKeys(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	g, err := c.Grant(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "e/1", "v", clientv3.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "e/2", "v", clientv3.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}
	w := c.Watch(ctx, "e/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	start := time.Now()
	select {
	case resp := <-w:
		if len(resp.Events) != 2 || resp.Events[0].Type != mvccpb.DELETE || resp.Events[0].PrevKv == nil {
			t.Fatalf("expiry events %v", resp.Events)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("lease did not expire")
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("lease expired after %v, before its TTL", d)
	}
	if ka, err := c.KeepAliveOnce(ctx, g.ID); err != rpctypes.ErrLeaseNotFound {
		t.Fatalf("keepalive of an expired lease: %v %v", ka, err)
	}
}

func TestLeaseKeepAliveKeepsAlive(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	g, err := c.Grant(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "k", "v", clientv3.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}
	kctx, stop := context.WithCancel(ctx)
	ka, err := c.KeepAlive(kctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range ka {
		}
	}()
	time.Sleep(3 * time.Second) // three TTLs: the key lives only thanks to keepalives
	if r, err := c.Get(ctx, "k"); err != nil || len(r.Kvs) != 1 {
		t.Fatalf("key gone while kept alive: %v %v", r, err)
	}
	stop()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r, _ := c.Get(ctx, "k"); len(r.Kvs) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("key outlived its lease after keepalives stopped")
}

// TestLeaseSurvivesRestart restarts a member with a live lease: the key
// stays, the remaining TTL continues from the checkpoint taken at stop, and
// the lease still expires.
func TestLeaseSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	m := testutil.StartMember(t, testutil.WithDataDir(dir))
	c := m.Client(t)
	ctx := ctxT(t)
	g, err := c.Grant(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "r", "v", clientv3.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	c.Close()
	if err := m.Server.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := testutil.StartMember(t, testutil.WithDataDir(dir))
	c2 := m2.Client(t)
	ttl, err := c2.TimeToLive(ctx, g.ID, clientv3.WithAttachedKeys())
	if err != nil || ttl.GrantedTTL != 4 || len(ttl.Keys) != 1 {
		t.Fatalf("after restart: %+v %v", ttl, err)
	}
	// Checkpointed at about 2.5 s left, plus one election timeout of grace.
	if ttl.TTL > 3 || ttl.TTL < 1 {
		t.Fatalf("remaining TTL %d after restart, want the checkpointed ~2-3 s", ttl.TTL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r, _ := c2.Get(ctx, "r"); len(r.Kvs) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("lease never expired after restart")
}

// TestMutexAndElection runs the client's concurrency recipes with several
// clients at once: lock holders never overlap, and one leader at a time.
func TestMutexAndElection(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) {})
	ctx := ctxT(t)
	var holders, overlaps atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cli := m.Client(t)
			sess, err := concurrency.NewSession(cli, concurrency.WithTTL(5))
			if err != nil {
				t.Error(err)
				return
			}
			defer sess.Close()
			mu := concurrency.NewMutex(sess, "/lock")
			for j := 0; j < 10; j++ {
				if err := mu.Lock(ctx); err != nil {
					t.Error(err)
					return
				}
				if holders.Add(1) > 1 {
					overlaps.Add(1)
				}
				// A read-modify-write of a shared counter: under a lock
				// that excludes, no increment is lost.
				r, err := cli.Get(ctx, "/counter")
				if err != nil {
					t.Error(err)
					return
				}
				n := 0
				if len(r.Kvs) == 1 {
					n, _ = strconv.Atoi(string(r.Kvs[0].Value))
				}
				time.Sleep(time.Millisecond)
				if _, err := cli.Put(ctx, "/counter", strconv.Itoa(n+1)); err != nil {
					t.Error(err)
					return
				}
				holders.Add(-1)
				if err := mu.Unlock(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if overlaps.Load() != 0 {
		t.Fatalf("%d overlapping lock holds", overlaps.Load())
	}
	if r, err := m.Client(t).Get(ctx, "/counter"); err != nil || string(r.Kvs[0].Value) != "50" {
		t.Fatalf("counter incremented under the lock: %v %v, want 50", r.Kvs, err)
	}

	var leaders atomic.Int32
	var ewg sync.WaitGroup
	for i := 0; i < 3; i++ {
		ewg.Add(1)
		go func() {
			defer ewg.Done()
			cli := m.Client(t)
			sess, err := concurrency.NewSession(cli, concurrency.WithTTL(5))
			if err != nil {
				t.Error(err)
				return
			}
			defer sess.Close()
			e := concurrency.NewElection(sess, "/election")
			if err := e.Campaign(ctx, fmt.Sprint(i)); err != nil {
				t.Error(err)
				return
			}
			if leaders.Add(1) > 1 {
				overlaps.Add(1)
			}
			leader, err := e.Leader(ctx)
			if err != nil || string(leader.Kvs[0].Value) != fmt.Sprint(i) {
				t.Errorf("leader %v, %v", leader, err)
			}
			time.Sleep(20 * time.Millisecond)
			leaders.Add(-1)
			if err := e.Resign(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	ewg.Wait()
	if overlaps.Load() != 0 {
		t.Fatal("two leaders at once")
	}
}

// TestElectionAfterLeaderSessionExpires: a leader whose client vanishes
// without resigning (its session's lease no longer kept alive) keeps the
// leadership until its lease expires; only then does the next candidate
// win, and never while the old leader's key still exists.
func TestElectionAfterLeaderSessionExpires(t *testing.T) {
	m := testutil.StartMember(t)
	ctx := ctxT(t)
	a, err := concurrency.NewSession(m.Client(t), concurrency.WithTTL(1))
	if err != nil {
		t.Fatal(err)
	}
	ea := concurrency.NewElection(a, "/elect")
	if err := ea.Campaign(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	leaderKey := ea.Key()
	cb := m.Client(t)
	b, err := concurrency.NewSession(cb, concurrency.WithTTL(5))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	eb := concurrency.NewElection(b, "/elect")
	won := make(chan error, 1)
	go func() { won <- eb.Campaign(ctx, "b") }()
	select {
	case err := <-won:
		t.Fatalf("second candidate won while the leader is alive: %v", err)
	case <-time.After(1500 * time.Millisecond):
	}
	a.Orphan() // the leader's client stops keeping its session alive
	orphaned := time.Now()
	select {
	case err := <-won:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the next candidate never won after the leader's lease expired")
	}
	if took := time.Since(orphaned); took < 500*time.Millisecond {
		t.Fatalf("leadership changed %v after keepalives stopped, before the 1s TTL ran out", took)
	}
	if r, err := cb.Get(ctx, leaderKey); err != nil || len(r.Kvs) != 0 {
		t.Fatalf("old leader's key %q still there once the next one won: %v %v", leaderKey, r.Kvs, err)
	}
	l, err := eb.Leader(ctx)
	if err != nil || string(l.Kvs[0].Value) != "b" {
		t.Fatalf("leader %v %v, want b", l, err)
	}
}

// TestKeptAliveLeaseKeepsFullTTLAcrossLeaderChange: a lease renewed after a
// checkpoint has that checkpoint cleared, so the next leader gives it its
// full TTL, not the shorter remaining TTL the checkpoint recorded.
func TestKeptAliveLeaseKeepsFullTTLAcrossLeaderChange(t *testing.T) {
	c := testutil.StartCluster(t, 3, func(cfg *config.Config) { cfg.LeaseCheckpointInterval = 4 * time.Second })
	ctx := ctxT(t)
	li := leaderIndex(t, c)
	lc := memberClient(t, c.Members[li])
	g, err := lc.Grant(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	// At least one checkpoint records 5-9 s left.
	time.Sleep(5 * time.Second)
	if ka, err := lc.KeepAliveOnce(ctx, g.ID); err != nil || ka.TTL != 10 {
		t.Fatalf("keepalive: %v %v", ka, err)
	}
	time.Sleep(600 * time.Millisecond) // the cleared checkpoint applies
	next := c.Members[(li+1)%3]
	ml, err := lc.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ml.Members {
		if m.Name == next.Config.Name {
			if _, err := lc.MoveLeader(ctx, m.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	ttl, err := memberClient(t, next).TimeToLive(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ttl.TTL < 9 {
		t.Fatalf("new leader gives the kept-alive lease %ds, want its full 10s TTL", ttl.TTL)
	}
}
