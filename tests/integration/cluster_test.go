package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

func memberClient(t *testing.T, m *testutil.Member) *clientv3.Client {
	t.Helper()
	return m.Client(t)
}

func TestClusterReplicates(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	ctx := ctxT(t)
	cli := c.Client(t)
	for i := 0; i < 50; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("k%02d", i), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range c.Members {
		mc := memberClient(t, m)
		r, err := mc.Get(ctx, "k", clientv3.WithPrefix())
		if err != nil || r.Count != 50 {
			t.Fatalf("member %d linearizable read: %v %v", i, r, err)
		}
		ml, err := mc.MemberList(ctx)
		if err != nil || len(ml.Members) != 3 {
			t.Fatalf("member %d member list: %v %v", i, ml, err)
		}
		for _, mm := range ml.Members {
			if mm.Name == "" || len(mm.ClientURLs) != 1 {
				t.Fatalf("member not published: %v", mm)
			}
		}
	}
}

func leaderIndex(t *testing.T, c *testutil.Cluster) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, m := range c.Members {
			if m.Server == nil {
				continue
			}
			st, err := statusOf(m)
			if err == nil && st.Leader == st.Header.MemberId {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no leader")
	return -1
}

func statusOf(m *testutil.Member) (*clientv3.StatusResponse, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.Endpoint}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return cli.Status(ctx, m.Endpoint)
}

func TestClusterLeaderStopAndRestart(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	ctx := ctxT(t)
	cli := c.Client(t)
	for i := 0; i < 20; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("a%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	li := leaderIndex(t, c)
	c.Members[li].Stop()
	for i := 0; i < 20; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("b%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	c.Members[li].Restart(t)
	r, err := memberClient(t, c.Members[li]).Get(ctx, "", clientv3.WithPrefix())
	if err != nil || r.Count != 40 {
		t.Fatalf("restarted member sees %v, %v", r, err)
	}
}

// smallLog makes members truncate their raft log early, so a new or lagging
// member must catch up from a state snapshot.
func smallLog(c *config.Config) {
	c.SnapshotCount = 100
	c.SnapshotCatchUpEntries = 10
}

func TestClusterLearnerCatchesUpBySnapshotThenPromoted(t *testing.T) {
	c := testutil.StartCluster(t, 3, smallLog)
	ctx := ctxT(t)
	cli := c.Client(t)
	w := cli.Watch(ctx, "s/", clientv3.WithPrefix())
	for i := 0; i < 400; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("s/%03d", i), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.Delete(ctx, "s/000"); err != nil {
		t.Fatal(err)
	}
	learner := c.AddMember(t, true, smallLog)
	lc := memberClient(t, learner)
	// A learner serves only serializable reads and status.
	if _, err := lc.Get(ctx, "s/001"); err == nil || !strings.Contains(err.Error(), "rpc not supported for learner") {
		t.Fatalf("linearizable read on a learner: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := lc.Get(ctx, "s/", clientv3.WithPrefix(), clientv3.WithSerializable(), clientv3.WithCountOnly())
		if err == nil && r.Count == 399 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("learner did not catch up: %v %v", r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	id := learnerID(t, cli, ctx)
	// Promotion succeeds once the learner is in sync; the leader may need a
	// moment to see its progress.
	for attempt := 0; ; attempt++ {
		_, err := cli.MemberPromote(ctx, id)
		if err == nil || (attempt > 0 && strings.Contains(err.Error(), "can only promote a learner member")) {
			break // done, possibly by an attempt whose answer was lost
		}
		if !strings.Contains(err.Error(), "in sync with leader") || time.Now().After(deadline) {
			t.Fatalf("promote: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := cli.MemberPromote(ctx, id); err == nil || !strings.Contains(err.Error(), "can only promote a learner member") {
		t.Fatalf("second promote: %v", err)
	}
	// The promoted member serves linearizable reads once it applied its
	// own promotion.
	for {
		r, err := lc.Get(ctx, "s/399")
		if err == nil && len(r.Kvs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("promoted member linearizable read: %v %v", r, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Watchers elsewhere were unaffected.
	seen, err := collect(t, w, 402)
	if err != nil || len(seen) != 401 {
		t.Fatalf("watch: %d revisions, %v", len(seen), err)
	}
	assertSameHashKV(t, c, ctx)
}

func learnerID(t *testing.T, cli *clientv3.Client, ctx context.Context) uint64 {
	t.Helper()
	ml, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ml.Members {
		if m.IsLearner {
			return m.ID
		}
	}
	t.Fatal("no learner")
	return 0
}

// assertSameHashKV checks that every running member hashes the same
// history at the same revision.
func assertSameHashKV(t *testing.T, c *testutil.Cluster, ctx context.Context) {
	t.Helper()
	cli := c.Client(t)
	r, err := cli.Get(ctx, "any")
	if err != nil {
		t.Fatal(err)
	}
	rev := r.Header.Revision
	var first uint32
	for i, m := range c.Members {
		if m.Server == nil {
			continue
		}
		var h *clientv3.HashKVResponse
		deadline := time.Now().Add(10 * time.Second)
		for {
			h, err = memberClient(t, m).HashKV(ctx, m.Endpoint, rev)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond) // the member may still apply rev
		}
		if err != nil {
			t.Fatalf("member %d hashkv: %v", i, err)
		}
		if i == 0 {
			first = h.Hash
		} else if h.Hash != first {
			t.Fatalf("member %d hash %x differs from %x at rev %d", i, h.Hash, first, rev)
		}
	}
}

func TestClusterRemoveMemberAndFullRestart(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	ctx := ctxT(t)
	cli := c.Client(t)
	for i := 0; i < 30; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("r%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	ml, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	victim := c.Members[2]
	var victimID uint64
	for _, m := range ml.Members {
		if m.Name == victim.Config.Name {
			victimID = m.ID
		}
	}
	if _, err := cli.MemberRemove(ctx, victimID); err != nil {
		t.Fatal(err)
	}
	// The removed member stops by itself once it learns of its removal.
	select {
	case <-victim.Server.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the removed member is still running")
	}
	c.Members = c.Members[:2]
	cli2 := c.Client(t)
	if _, err := cli2.MemberRemove(ctx, victimID); err == nil || !strings.Contains(err.Error(), "member not found") {
		t.Fatalf("second remove: %v", err)
	}
	if ml, err := cli2.MemberList(ctx); err != nil || len(ml.Members) != 2 {
		t.Fatalf("after remove: %v %v", ml, err)
	}
	if _, err := cli2.Put(ctx, "after-remove", "v"); err != nil {
		t.Fatal(err)
	}
	// Full restart: nothing acknowledged is lost.
	for _, m := range c.Members {
		m.Stop()
	}
	var wg sync.WaitGroup
	for _, m := range c.Members {
		wg.Add(1)
		go func() { defer wg.Done(); m.Restart(t) }()
	}
	wg.Wait()
	r, err := c.Client(t).Get(ctx, "", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || r.Count != 31 {
		t.Fatalf("after full restart: %v %v", r, err)
	}
	assertSameHashKV(t, c, ctx)
}

func TestClusterMinorityAnswersWithErrors(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	ctx := ctxT(t)
	if _, err := c.Client(t).Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	c.Members[0].Stop()
	c.Members[1].Stop()
	lone := memberClient(t, c.Members[2])
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err := lone.Put(wctx, "k", "w")
	if err == nil || (!strings.Contains(err.Error(), "request timed out") && !strings.Contains(err.Error(), "no leader")) {
		t.Fatalf("write on a minority: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("minority took %v to answer", time.Since(start))
	}
	// Serializable reads still answer locally.
	if r, err := lone.Get(ctx, "k", clientv3.WithSerializable()); err != nil || string(r.Kvs[0].Value) != "v" {
		t.Fatalf("serializable read on a minority: %v %v", r, err)
	}
}

func TestClusterLeasesWatchesAndMoveLeader(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	ctx := ctxT(t)
	li := leaderIndex(t, c)
	follower := c.Members[(li+1)%3]
	fc := memberClient(t, follower)
	g, err := fc.Grant(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fc.Put(ctx, "leased", "v", clientv3.WithLease(g.ID)); err != nil {
		t.Fatal(err)
	}
	w := fc.Watch(ctx, "leased")
	// Keepalives sent to a follower reach the leader's clock.
	for i := 0; i < 4; i++ {
		ka, err := fc.KeepAliveOnce(ctx, g.ID)
		if err != nil || ka.TTL != 2 {
			t.Fatalf("keepalive through a follower: %v %v", ka, err)
		}
		time.Sleep(700 * time.Millisecond)
	}
	ttl, err := fc.TimeToLive(ctx, g.ID, clientv3.WithAttachedKeys())
	if err != nil || ttl.TTL < 1 || len(ttl.Keys) != 1 {
		t.Fatalf("ttl through a follower: %+v %v", ttl, err)
	}
	// Move leadership to the follower; the lease still expires, once.
	ml, _ := fc.MemberList(ctx)
	var target uint64
	for _, m := range ml.Members {
		if m.Name == follower.Config.Name {
			target = m.ID
		}
	}
	lc := memberClient(t, c.Members[li])
	if _, err := lc.MoveLeader(ctx, target); err != nil {
		t.Fatal(err)
	}
	if _, err := fc.MoveLeader(ctx, target); err != nil {
		t.Fatalf("move to self: %v", err)
	}
	if _, err := lc.MoveLeader(ctx, target); err == nil || !strings.Contains(err.Error(), "not leader") {
		t.Fatalf("move from a non-leader: %v", err)
	}
	select {
	case resp := <-w:
		if len(resp.Events) != 1 || resp.Events[0].Type != mvccpb.DELETE {
			t.Fatalf("expiry event: %v", resp.Events)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("lease did not expire after the leader moved")
	}
}
