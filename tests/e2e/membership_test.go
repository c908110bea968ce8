package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// wantEtcdError checks err is etcd's error with exactly that text and code,
// as clientv3 rebuilds it from the server's status.
func wantEtcdError(t *testing.T, what string, err error, code codes.Code, text string) {
	t.Helper()
	var ee rpctypes.EtcdError
	if !errors.As(err, &ee) || ee.Code() != code || ee.Error() != text {
		t.Fatalf("%s: got %v, want %s (%v)", what, err, text, code)
	}
}

// memberID asks a member for its own ID.
func memberID(t *testing.T, m *procMember) uint64 {
	t.Helper()
	c := m.p.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.Status(ctx, m.p.endpoint)
	if err != nil {
		t.Fatalf("%s: status: %v\n%s", m.name, err, m.p.logs)
	}
	return st.Header.MemberId
}

// initialCluster is the --initial-cluster value naming ms.
func initialCluster(ms ...*procMember) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, m.name+"="+m.peerURL())
	}
	return strings.Join(parts, ",")
}

// retryUntil calls fn until it returns nil or the deadline passes.
func retryUntil(t *testing.T, what string, d time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClusterMembershipLifecycle drives a 3-process cluster through a
// member's whole life: a learner added with MemberAdd joins with
// --initial-cluster-state=existing after the log was truncated, so it
// catches up from a state snapshot; it refuses writes and linearizable
// reads as etcd's learners do; it is promoted once in sync; it restarts
// from its data dir whatever --initial-* flags say; a member is removed
// and stops by itself; strict reconfiguration refuses a removal that
// would leave no quorum of live members; and a full restart loses
// nothing.
func TestClusterMembershipLifecycle(t *testing.T) {
	small := []string{"--snapshot-count", "100", "--snapshot-catchup-entries", "10"}
	ms := startProcCluster(t, 3, small...)
	cli := clusterClient(t, ms)
	ctx := ctxT(t, 3*time.Minute)
	const keys = 400
	for i := 0; i < keys; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("s/%03d", i), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}

	// Join as a learner after MemberAdd.
	nm := &procMember{name: "m3", dataDir: t.TempDir(), clientPort: freePort(t), peerPort: freePort(t), state: "existing", extra: small}
	added, err := cli.MemberAddAsLearner(ctx, []string{nm.peerURL()})
	if err != nil {
		t.Fatal(err)
	}
	if !added.Member.IsLearner || len(added.Members) != 4 {
		t.Fatalf("member add: %+v", added)
	}
	nm.initialCluster = initialCluster(append(append([]*procMember{}, ms...), nm)...)
	nm.start(t)
	if id := memberID(t, nm); id != added.Member.ID {
		t.Fatalf("joined as %x, added as %x", id, added.Member.ID)
	}
	lc := nm.p.client(t)
	_, err = lc.Put(ctx, "on-learner", "v")
	wantEtcdError(t, "put on a learner", err, codes.FailedPrecondition, "etcdserver: rpc not supported for learner")
	_, err = lc.Get(ctx, "s/001")
	wantEtcdError(t, "linearizable get on a learner", err, codes.FailedPrecondition, "etcdserver: rpc not supported for learner")
	retryUntil(t, "learner catches up", 30*time.Second, func() error {
		r, err := lc.Get(ctx, "s/", clientv3.WithPrefix(), clientv3.WithSerializable(), clientv3.WithCountOnly())
		if err != nil {
			return err
		}
		if r.Count != keys {
			return fmt.Errorf("learner has %d keys", r.Count)
		}
		return nil
	})
	// The leader's log no longer held the start: the learner got a state
	// snapshot.
	nm.p.waitLog(t, "received state snapshot", 5*time.Second)

	// Promote, once the leader sees it in sync.
	retryUntil(t, "promote", 30*time.Second, func() error {
		_, err := cli.MemberPromote(ctx, added.Member.ID)
		if err != nil && strings.Contains(err.Error(), "can only promote a learner member") && !strings.Contains(err.Error(), "in sync") {
			return nil // an earlier attempt did it; its answer was lost
		}
		return err
	})
	retryUntil(t, "linearizable read on the promoted member", 10*time.Second, func() error {
		_, err := lc.Get(ctx, "s/399")
		return err
	})
	ms = append(ms, nm)

	// A restart from the data dir ignores the --initial-* flags: here
	// they describe a new one-member cluster under another token.
	nm.p.kill()
	nm.state, nm.token, nm.initialCluster = "new", "another-token", initialCluster(nm)
	nm.start(t)
	if id := memberID(t, nm); id != added.Member.ID {
		t.Fatalf("restarted as %x, was %x", id, added.Member.ID)
	}
	ml, err := cli.MemberList(ctx)
	if err != nil || len(ml.Members) != 4 || ml.Header.ClusterId != added.Header.ClusterId {
		t.Fatalf("member list after the restart: %v %v", ml, err)
	}
	if _, err := cli.Put(ctx, "after-restart", "v"); err != nil {
		t.Fatal(err)
	}

	// Remove m1: it stops by itself once it learns of it.
	victim := ms[1]
	if _, err := cli.MemberRemove(ctx, memberID(t, victim)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-victim.p.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the removed member still runs:\n%s", victim.p.logs)
	}
	ms = []*procMember{ms[0], ms[2], ms[3]}
	cli = clusterClient(t, ms)
	if ml, err := cli.MemberList(ctx); err != nil || len(ml.Members) != 3 {
		t.Fatalf("member list after remove: %v %v", ml, err)
	}

	// With m2 down, removing a live member would leave one live member of
	// two: --strict-reconfig-check refuses it; removing the dead one is
	// allowed but not done here.
	liveID := memberID(t, ms[2])
	ms[1].p.kill()
	survivor := ms[0].p.client(t)
	var refused error
	retryUntil(t, "strict reconfiguration refuses the removal", 20*time.Second, func() error {
		_, refused = survivor.MemberRemove(ctx, liveID)
		if refused == nil {
			return errors.New("a removal that breaks quorum was accepted")
		}
		if strings.Contains(refused.Error(), "unhealthy cluster") {
			return nil
		}
		return refused // e.g. no leader yet while the cluster notices
	})
	wantEtcdError(t, "remove under strict reconfiguration", refused, codes.Unavailable, "etcdserver: unhealthy cluster")
	// Any addition, a learner's too, needs every voter reachable.
	_, err = survivor.MemberAddAsLearner(ctx, []string{fmt.Sprintf("http://127.0.0.1:%d", freePort(t))})
	wantEtcdError(t, "add under strict reconfiguration", err, codes.Unavailable, "etcdserver: unhealthy cluster")
	ms[1].start(t)

	// Full restart: every acknowledged key, the same hash everywhere.
	for _, m := range ms {
		m.p.kill()
	}
	done := make(chan struct{})
	for _, m := range ms {
		go func() { defer func() { done <- struct{}{} }(); m.start(t) }()
	}
	for range ms {
		<-done
	}
	acked := map[string]bool{}
	for i := 0; i < keys; i++ {
		acked[fmt.Sprintf("s/%03d", i)] = true
	}
	checkAllAcked(t, ms, "s/", acked)
}

// TestDataDirOfAnotherClusterRefused restarts a member whose peer's URL
// now belongs to a different cluster (that peer was wiped and bootstrapped
// anew): the data dir keeps its cluster, the peer refuses it, and both
// sides log why, while the new cluster serves on.
func TestDataDirOfAnotherClusterRefused(t *testing.T) {
	ms := startProcCluster(t, 2)
	if _, err := clusterClient(t, ms).Put(ctxT(t, 10*time.Second), "k", "v"); err != nil {
		t.Fatal(err)
	}
	oldID := memberID(t, ms[0])
	for _, m := range ms {
		m.p.kill()
	}
	// ms[1]'s URLs now serve a new one-member cluster under another token.
	other := &procMember{name: "other", dataDir: t.TempDir(), clientPort: ms[1].clientPort, peerPort: ms[1].peerPort, token: "another-cluster"}
	other.initialCluster = initialCluster(other)
	other.start(t)

	stale := ms[0]
	stale.p, _ = launchEtcd(t, stale.dataDir, stale.clientPort,
		"--name", stale.name, "--listen-peer-urls", stale.peerURL(), "--initial-advertise-peer-urls", stale.peerURL(),
		"--initial-cluster", stale.initialCluster, "--initial-cluster-token", "e2e-cluster")
	line := stale.p.waitLog(t, "belongs to another cluster", 20*time.Second)
	if !strings.Contains(line, `"level":"error"`) {
		t.Errorf("the stale member's complaint is not an error: %s", line)
	}
	other.p.waitLog(t, "refused a peer of another cluster", 5*time.Second)
	if l := other.p.logs.find("refused a peer of another cluster"); !strings.Contains(l, fmt.Sprintf("%x", oldID)) {
		t.Errorf("the refusal does not name the stale member %x: %s", oldID, l)
	}
	// The new cluster is unaffected.
	if _, err := other.p.client(t).Put(ctxT(t, 10*time.Second), "k", "other"); err != nil {
		t.Fatal(err)
	}
}

// TestGracefulStopHandsOverLeadership stops the leader of a 3-process
// cluster with SIGTERM: it hands leadership to a follower before it exits
// (exit status 0), so the others have a leader at once instead of after an
// election timeout, and writes go on.
func TestGracefulStopHandsOverLeadership(t *testing.T) {
	ms := startProcCluster(t, 3)
	li := findLeader(t, ms)
	leader := ms[li]
	oldID := memberID(t, leader)
	stopAt := time.Now()
	if err := leader.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-leader.p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the leader did not stop on SIGTERM:\n%s", leader.p.logs)
	}
	t.Logf("the leader stopped %v after SIGTERM", time.Since(stopAt).Round(time.Millisecond))
	if code := leader.p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after SIGTERM:\n%s", code, leader.p.logs)
	}
	if leader.p.logs.find("handed over leadership before stopping") == "" {
		t.Fatalf("the leader stopped without handing over leadership:\n%s", leader.p.logs)
	}
	rest := append(append([]*procMember{}, ms[:li]...), ms[li+1:]...)
	for _, m := range rest {
		c := m.p.client(t)
		st, err := c.Status(ctxT(t, 5*time.Second), m.p.endpoint)
		if err != nil {
			t.Fatal(err)
		}
		if st.Leader == 0 || st.Leader == oldID {
			t.Fatalf("%s: leader %x right after the old leader %x stopped", m.name, st.Leader, oldID)
		}
	}
	if _, err := clusterClient(t, rest).Put(ctxT(t, 10*time.Second), "after-handover", "v"); err != nil {
		t.Fatal(err)
	}
}

// TestMinorityAnswersInBoundedTime kills two members of a 3-process
// cluster: the survivor answers writes and linearizable reads with etcd's
// errors (`etcdserver: no leader` or `etcdserver: request timed out`,
// Unavailable) within a few seconds instead of hanging, and still serves
// serializable reads. The requests go over a plain gRPC connection, as
// clientv3 would retry Unavailable reads until its deadline.
func TestMinorityAnswersInBoundedTime(t *testing.T) {
	ms := startProcCluster(t, 3)
	if _, err := clusterClient(t, ms).Put(ctxT(t, 10*time.Second), "k", "v"); err != nil {
		t.Fatal(err)
	}
	ms[0].p.kill()
	ms[1].p.kill()
	conn, err := grpc.NewClient(ms[2].p.endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kv := pb.NewKVClient(conn)
	want := func(what string, call func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		err := call(ctx)
		took := time.Since(start)
		st, _ := status.FromError(err)
		if st.Code() != codes.Unavailable || (st.Message() != "etcdserver: no leader" && st.Message() != "etcdserver: request timed out") {
			t.Fatalf("%s on a minority: %v, want etcd's no leader or request timed out", what, err)
		}
		if took > 10*time.Second {
			t.Fatalf("%s on a minority took %v", what, took)
		}
		t.Logf("%s on a minority: %q after %v", what, st.Message(), took.Round(time.Millisecond))
	}
	want("put", func(ctx context.Context) error {
		_, err := kv.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: []byte("w")})
		return err
	})
	want("linearizable range", func(ctx context.Context) error {
		_, err := kv.Range(ctx, &pb.RangeRequest{Key: []byte("k")})
		return err
	})
	r, err := kv.Range(ctxT(t, 5*time.Second), &pb.RangeRequest{Key: []byte("k"), Serializable: true})
	if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "v" {
		t.Fatalf("serializable range on a minority: %v %v", r, err)
	}
}
