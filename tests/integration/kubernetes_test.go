package integration

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// The tests in this file make the calls kube-apiserver's storage layer
// makes, through the same client package it uses (client/v3/kubernetes),
// and check what it relies on: the four transaction shapes, paginated lists
// pinned at one revision with a count of the remaining keys, a watch from
// the list revision + 1 with prev_kv and progress notifications, progress
// requests, a lease shared by many objects, and compaction coordinated
// through a compare on a key's version. Errors are checked by identity, as
// kube-apiserver checks them.

func kubeClient(t *testing.T, m *testutil.Member) *kubernetes.Client {
	t.Helper()
	kc, err := kubernetes.New(clientv3.Config{Endpoints: []string{m.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kc.Close() })
	return kc
}

// TestKubernetesVersionGateAndProbes: kube-apiserver turns on watch progress
// requests only for a server version >= 3.5.13 (3.4 line: >= 3.4.31), reads
// the current resource version from a Get on an absent key, and probes
// health with a Get of <prefix>/health, which need not exist.
func TestKubernetesVersionGateAndProbes(t *testing.T) {
	m := testutil.StartMember(t)
	kc := kubeClient(t, m)
	ctx := ctxT(t)
	st, err := kc.Status(ctx, m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var major, minor, patch int
	if _, err := fmt.Sscanf(st.Version, "%d.%d.%d", &major, &minor, &patch); err != nil {
		t.Fatalf("status version %q does not parse as semver: %v", st.Version, err)
	}
	if v := [3]int{major, minor, patch}; !(v[0] > 3 || v[0] == 3 && (v[1] > 5 || v[1] == 5 && v[2] >= 13)) {
		t.Fatalf("status version %q is below 3.5.13: kube-apiserver would turn RequestWatchProgress off", st.Version)
	}
	got, err := kc.Kubernetes.Get(ctx, "/registry/health", kubernetes.GetOptions{})
	if err != nil || got.KV != nil || got.Revision < 1 {
		t.Fatalf("health probe: %+v %v", got, err)
	}
	if _, err := kc.Put(ctx, "/registry/pods/ns/p", "v"); err != nil {
		t.Fatal(err)
	}
	got, err = kc.Kubernetes.Get(ctx, "/registry/pods", kubernetes.GetOptions{})
	if err != nil || got.KV != nil || got.Revision != 2 {
		t.Fatalf("current resource version from an absent key: %+v %v, want revision 2", got, err)
	}
}

// TestKubernetesOptimisticWrites: create is Txn(mod_revision == 0 → put),
// update Txn(mod_revision == R → put, else get), delete Txn(mod_revision == R
// → delete, else get); a stale R fails and returns the current object.
func TestKubernetesOptimisticWrites(t *testing.T) {
	m := testutil.StartMember(t)
	k := kubeClient(t, m).Kubernetes
	ctx := ctxT(t)
	const key = "/registry/configmaps/default/cm"

	created, err := k.OptimisticPut(ctx, key, []byte("v1"), 0, kubernetes.PutOptions{})
	if err != nil || !created.Succeeded || created.Revision != 2 {
		t.Fatalf("create: %+v %v", created, err)
	}
	again, err := k.OptimisticPut(ctx, key, []byte("other"), 0, kubernetes.PutOptions{})
	if err != nil || again.Succeeded || again.KV != nil || again.Revision != 2 {
		t.Fatalf("second create of the same key: %+v %v", again, err)
	}
	got, err := k.Get(ctx, key, kubernetes.GetOptions{})
	if err != nil || string(got.KV.Value) != "v1" || got.KV.CreateRevision != 2 || got.KV.ModRevision != 2 || got.KV.Version != 1 {
		t.Fatalf("get after create: %+v %v", got, err)
	}

	updated, err := k.OptimisticPut(ctx, key, []byte("v2"), 2, kubernetes.PutOptions{GetOnFailure: true})
	if err != nil || !updated.Succeeded || updated.Revision != 3 {
		t.Fatalf("update: %+v %v", updated, err)
	}
	// A writer that read revision 2 loses and gets the current object, then
	// retries on it (GuaranteedUpdate).
	stale, err := k.OptimisticPut(ctx, key, []byte("lost"), 2, kubernetes.PutOptions{GetOnFailure: true})
	if err != nil || stale.Succeeded || stale.KV == nil || string(stale.KV.Value) != "v2" || stale.KV.ModRevision != 3 || stale.Revision != 3 {
		t.Fatalf("stale update: %+v %v", stale, err)
	}
	retried, err := k.OptimisticPut(ctx, key, []byte("v3"), stale.KV.ModRevision, kubernetes.PutOptions{GetOnFailure: true})
	if err != nil || !retried.Succeeded || retried.Revision != 4 {
		t.Fatalf("retried update: %+v %v", retried, err)
	}
	got, err = k.Get(ctx, key, kubernetes.GetOptions{})
	if err != nil || string(got.KV.Value) != "v3" || got.KV.CreateRevision != 2 || got.KV.Version != 3 {
		t.Fatalf("get after updates: %+v %v", got, err)
	}
	// The object at an older revision, as a Get with a resource version.
	old, err := k.Get(ctx, key, kubernetes.GetOptions{Revision: 3})
	if err != nil || string(old.KV.Value) != "v2" || old.Revision != 4 {
		t.Fatalf("get at revision 3: %+v %v", old, err)
	}

	staleDel, err := k.OptimisticDelete(ctx, key, 3, kubernetes.DeleteOptions{GetOnFailure: true})
	if err != nil || staleDel.Succeeded || staleDel.KV == nil || staleDel.KV.ModRevision != 4 {
		t.Fatalf("stale delete: %+v %v", staleDel, err)
	}
	deleted, err := k.OptimisticDelete(ctx, key, 4, kubernetes.DeleteOptions{GetOnFailure: true})
	if err != nil || !deleted.Succeeded || deleted.Revision != 5 {
		t.Fatalf("delete: %+v %v", deleted, err)
	}
	got, err = k.Get(ctx, key, kubernetes.GetOptions{})
	if err != nil || got.KV != nil || got.Revision != 5 {
		t.Fatalf("get after delete: %+v %v", got, err)
	}
	// Deleting what is gone: mod_revision compares against 0 and fails;
	// the else branch finds nothing.
	gone, err := k.OptimisticDelete(ctx, key, 4, kubernetes.DeleteOptions{GetOnFailure: true})
	if err != nil || gone.Succeeded || gone.KV != nil || gone.Revision != 5 {
		t.Fatalf("delete of a deleted key: %+v %v", gone, err)
	}
	// A create after the delete starts a new object.
	recreated, err := k.OptimisticPut(ctx, key, []byte("new"), 0, kubernetes.PutOptions{})
	if err != nil || !recreated.Succeeded {
		t.Fatalf("re-create: %+v %v", recreated, err)
	}
	got, err = k.Get(ctx, key, kubernetes.GetOptions{})
	if err != nil || got.KV.CreateRevision != 6 || got.KV.Version != 1 {
		t.Fatalf("get after re-create: %+v %v", got, err)
	}
	if _, err := k.Get(ctx, key, kubernetes.GetOptions{Revision: 100}); !errors.Is(err, rpctypes.ErrFutureRev) {
		t.Fatalf("get at a future revision: %v, want %v", err, rpctypes.ErrFutureRev)
	}
}

// TestKubernetesListThenWatch lists a resource in pages pinned at the first
// page's revision while writes go on, then watches from that revision + 1
// with prev_kv and progress notifications, as the watch cache does.
func TestKubernetesListThenWatch(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) { c.WatchProgressNotifyInterval = 300 * time.Millisecond })
	kc := kubeClient(t, m)
	k := kc.Kubernetes
	ctx := ctxT(t)
	const prefix = "/registry/pods/"
	for i := 0; i < 25; i++ {
		if r, err := k.OptimisticPut(ctx, fmt.Sprintf("%sns/pod-%02d", prefix, i), []byte("v"), 0, kubernetes.PutOptions{}); err != nil || !r.Succeeded {
			t.Fatalf("create pod %d: %+v %v", i, r, err)
		}
	}
	if _, err := kc.Put(ctx, "/registry/pods0", "outside the prefix"); err != nil {
		t.Fatal(err)
	}

	// Page through with limit 10; after the first page other writers change
	// the resource, which the pinned pages must not show.
	var listed []string
	var listRV int64
	opts := kubernetes.ListOptions{Limit: 10}
	wantCounts := []int64{25, 15, 5}
	for page := 0; ; page++ {
		resp, err := k.List(ctx, prefix, opts)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if page == 0 {
			listRV = resp.Revision
			for _, w := range []func() error{
				func() error { _, err := kc.Put(ctx, prefix+"ns/pod-99", "late"); return err },
				func() error { _, err := kc.Put(ctx, prefix+"ns/pod-00", "changed"); return err },
				func() error { _, err := kc.Delete(ctx, prefix+"ns/pod-12"); return err },
				func() error { _, err := kc.Put(ctx, prefix+"a/first", "late"); return err },
			} {
				if err := w(); err != nil {
					t.Fatal(err)
				}
			}
		}
		// count is the keys left in the range at that revision, ignoring
		// the limit: kube-apiserver's hasMore and remainingItemCount.
		if page >= len(wantCounts) || resp.Count != wantCounts[page] {
			t.Fatalf("page %d: count %d, want %v", page, resp.Count, wantCounts)
		}
		for _, kv := range resp.Kvs {
			if kv.ModRevision > listRV {
				t.Fatalf("page %d shows %s modified at %d, after the list revision %d", page, kv.Key, kv.ModRevision, listRV)
			}
			listed = append(listed, string(kv.Key))
		}
		hasMore := int64(len(resp.Kvs)) < resp.Count
		if !hasMore {
			break
		}
		opts = kubernetes.ListOptions{Limit: 10, Revision: listRV, Continue: string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"}
	}
	if len(listed) != 25 || listed[0] != prefix+"ns/pod-00" || listed[24] != prefix+"ns/pod-24" {
		t.Fatalf("listed %d keys: %v", len(listed), listed)
	}
	if n, err := k.Count(ctx, prefix, kubernetes.CountOptions{}); err != nil || n != 26 {
		t.Fatalf("count: %d %v, want 26", n, err)
	}

	// The watch cache's watch: from listRV+1, prev_kv, progress notify,
	// requiring a leader. It must replay the writes made during the list.
	wctx := clientv3.WithRequireLeader(ctx)
	wch := kc.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(listRV+1), clientv3.WithPrevKV(), clientv3.WithProgressNotify())
	if _, err := kc.Put(ctx, prefix+"ns/pod-01", "changed"); err != nil {
		t.Fatal(err)
	}
	type seen struct {
		typ          mvccpb.Event_EventType
		key, prevVal string
		create       bool
	}
	want := []seen{
		{mvccpb.PUT, prefix + "ns/pod-99", "", true},
		{mvccpb.PUT, prefix + "ns/pod-00", "v", false},
		{mvccpb.DELETE, prefix + "ns/pod-12", "v", false},
		{mvccpb.PUT, prefix + "a/first", "", true},
		{mvccpb.PUT, prefix + "ns/pod-01", "v", false},
	}
	var got []seen
	rev := listRV
	for len(got) < len(want) {
		resp := recvWatch(t, wch)
		for _, ev := range resp.Events {
			if ev.Kv.ModRevision != rev+1 {
				t.Fatalf("event at revision %d after %d", ev.Kv.ModRevision, rev)
			}
			rev = ev.Kv.ModRevision
			// kube-apiserver fails a non-create event without prev_kv.
			if !ev.IsCreate() && ev.PrevKv == nil {
				t.Fatalf("%v event of %s without prev_kv", ev.Type, ev.Kv.Key)
			}
			s := seen{typ: ev.Type, key: string(ev.Kv.Key), create: ev.IsCreate()}
			if ev.PrevKv != nil {
				s.prevVal = string(ev.PrevKv.Value)
			}
			got = append(got, s)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("watch events\n got %v\nwant %v", got, want)
	}

	// With nothing written, progress notifications (bookmarks) arrive at the
	// current revision.
	for {
		resp := recvWatch(t, wch)
		if len(resp.Events) > 0 {
			t.Fatalf("unexpected events %v", resp.Events)
		}
		if resp.IsProgressNotify() {
			if resp.Header.Revision != rev {
				t.Fatalf("progress notification at %d, want %d", resp.Header.Revision, rev)
			}
			break
		}
	}

	// A write outside the watched prefix moves the revision on; a progress
	// request on the watch's stream (same context metadata) reports it.
	pr, err := kc.Put(ctx, "/registry/services/x", "v")
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.RequestProgress(wctx); err != nil {
		t.Fatal(err)
	}
	for {
		resp := recvWatch(t, wch)
		if len(resp.Events) > 0 {
			t.Fatalf("unexpected events %v", resp.Events)
		}
		if resp.IsProgressNotify() && resp.Header.Revision == pr.Header.Revision {
			break
		}
		if resp.Header.Revision > pr.Header.Revision {
			t.Fatalf("progress at %d, past the current revision %d", resp.Header.Revision, pr.Header.Revision)
		}
	}
}

func recvWatch(t *testing.T, wch clientv3.WatchChan) clientv3.WatchResponse {
	t.Helper()
	select {
	case resp, ok := <-wch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		if err := resp.Err(); err != nil {
			t.Fatalf("watch: %v", err)
		}
		return resp
	case <-time.After(10 * time.Second):
		t.Fatal("no watch response within 10s")
	}
	panic("unreachable")
}

// TestKubernetesSharedLeaseExpiry: objects with a TTL (Events) share one
// lease, granted and never kept alive; at expiry every object goes in one
// revision and watchers see each delete with its prev_kv.
func TestKubernetesSharedLeaseExpiry(t *testing.T) {
	m := testutil.StartMember(t)
	kc := kubeClient(t, m)
	ctx := ctxT(t)
	const prefix, n = "/registry/events/", 50
	lease, err := kc.Grant(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	granted := time.Now()
	for i := 0; i < n; i++ {
		r, err := kc.Kubernetes.OptimisticPut(ctx, fmt.Sprintf("%sns/ev-%02d", prefix, i), []byte("e"), 0, kubernetes.PutOptions{LeaseID: lease.ID})
		if err != nil || !r.Succeeded {
			t.Fatalf("create event %d: %+v %v", i, r, err)
		}
	}
	ttl, err := kc.TimeToLive(ctx, lease.ID, clientv3.WithAttachedKeys())
	if err != nil || len(ttl.Keys) != n {
		t.Fatalf("lease holds %d keys (%v), want %d", len(ttl.Keys), err, n)
	}
	wch := kc.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithPrevKV())
	resp := recvWatch(t, wch)
	if took := time.Since(granted); took < 1500*time.Millisecond {
		t.Fatalf("objects deleted %v after a 2s lease was granted", took)
	}
	if len(resp.Events) != n {
		t.Fatalf("expiry deleted %d objects in one response, want %d", len(resp.Events), n)
	}
	for _, ev := range resp.Events {
		if ev.Type != mvccpb.DELETE || ev.PrevKv == nil || string(ev.PrevKv.Value) != "e" || ev.PrevKv.Lease != int64(lease.ID) || ev.Kv.ModRevision != resp.Header.Revision {
			t.Fatalf("expiry event %v", ev)
		}
	}
	if c, err := kc.Kubernetes.Count(ctx, prefix, kubernetes.CountOptions{}); err != nil || c != 0 {
		t.Fatalf("%d objects left after expiry (%v)", c, err)
	}
	if ttl, err := kc.TimeToLive(ctx, lease.ID); err != nil || ttl.TTL != -1 {
		t.Fatalf("expired lease: %+v %v", ttl, err)
	}
}

// compactRevKey is the key kube-apiservers coordinate compaction on.
const compactRevKey = "compact_rev_key"

// apiserverCompactor is one kube-apiserver's compaction loop state: the
// version of compactRevKey it last saw, and the revision it will compact to
// next.
type apiserverCompactor struct {
	cli     *clientv3.Client
	version int64
	rev     int64
}

// step runs one compaction round: whoever moves compactRevKey from the
// version it saw wins the round and compacts to the revision it noted in
// the previous round; the others learn the key's version from the else
// branch. It returns the revision this apiserver compacted to, 0 if none.
func (a *apiserverCompactor) step(ctx context.Context) (int64, error) {
	resp, err := a.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.Version(compactRevKey), "=", a.version)).
		Then(clientv3.OpPut(compactRevKey, strconv.FormatInt(a.rev, 10))).
		Else(clientv3.OpGet(compactRevKey)).
		Commit()
	if err != nil {
		return 0, err
	}
	target := a.rev
	a.rev = resp.Header.Revision
	if !resp.Succeeded {
		a.version = resp.Responses[0].GetResponseRange().Kvs[0].Version
		return 0, nil
	}
	a.version++ // the put bumped the key's version
	if target == 0 {
		return 0, nil
	}
	if _, err := a.cli.Compact(ctx, target); err != nil {
		return 0, err
	}
	return target, nil
}

// TestKubernetesCompactionCoordination runs the compaction loops of three
// apiservers at once: each round exactly one of them wins the compare on
// compactRevKey's version, and compacted history answers with ErrCompacted
// to lists and watches.
func TestKubernetesCompactionCoordination(t *testing.T) {
	m := testutil.StartMember(t)
	ctx := ctxT(t)
	var servers []*apiserverCompactor
	for i := 0; i < 3; i++ {
		servers = append(servers, &apiserverCompactor{cli: m.Client(t)})
	}
	writer := m.Client(t)
	var lastCompacted int64
	for round := 0; round < 4; round++ {
		for i := 0; i < 5; i++ {
			if _, err := writer.Put(ctx, fmt.Sprintf("/registry/leases/l%d", i), strconv.Itoa(round)); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		compacted := make([]int64, len(servers))
		for i, s := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rev, err := s.step(ctx)
				if err != nil {
					t.Errorf("apiserver %d: %v", i, err)
				}
				compacted[i] = rev
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		key, err := writer.Get(ctx, compactRevKey)
		if err != nil {
			t.Fatal(err)
		}
		// Exactly one put won each round's compare; the losers learnt the
		// new version.
		if key.Kvs[0].Version != int64(round+1) {
			t.Fatalf("round %d: compact key at version %d, want %d", round, key.Kvs[0].Version, round+1)
		}
		var targets []int64
		for i, rev := range compacted {
			if rev != 0 {
				targets = append(targets, rev)
			}
			if servers[i].version != key.Kvs[0].Version {
				t.Fatalf("round %d: apiserver %d saw version %d, key has %d", round, i, servers[i].version, key.Kvs[0].Version)
			}
		}
		// The first round only notes a revision; each later round compacts
		// once, to the revision the winner noted the round before.
		if round == 0 {
			if len(targets) != 0 {
				t.Fatalf("round 0 compacted to %v", targets)
			}
			continue
		}
		if len(targets) != 1 || targets[0] <= lastCompacted {
			t.Fatalf("round %d: compacted to %v after %d, want one compaction further on", round, targets, lastCompacted)
		}
		lastCompacted = targets[0]
		if _, err := writer.Get(ctx, compactRevKey, clientv3.WithRev(lastCompacted-1)); err != rpctypes.ErrCompacted {
			t.Fatalf("round %d: get below the compacted revision %d: %v", round, lastCompacted, err)
		}
		if _, err := writer.Get(ctx, compactRevKey, clientv3.WithRev(lastCompacted)); err != nil {
			t.Fatalf("round %d: get at the compacted revision %d: %v", round, lastCompacted, err)
		}
	}

	// A list continued at a compacted revision and a watch from one fail
	// with ErrCompacted, which kube-apiserver turns into 410 Gone.
	k := kubernetes.Client{Client: writer}
	if _, err := k.List(ctx, "/registry/leases/", kubernetes.ListOptions{Revision: lastCompacted - 1, Limit: 2}); err != rpctypes.ErrCompacted {
		t.Fatalf("list at a compacted revision: %v, want %v", err, rpctypes.ErrCompacted)
	}
	wch := writer.Watch(clientv3.WithRequireLeader(ctx), "/registry/leases/", clientv3.WithPrefix(), clientv3.WithRev(lastCompacted-1), clientv3.WithPrevKV())
	select {
	case resp := <-wch:
		if resp.Err() != rpctypes.ErrCompacted || resp.CompactRevision != lastCompacted {
			t.Fatalf("watch from a compacted revision: %v, compact revision %d, want %d", resp.Err(), resp.CompactRevision, lastCompacted)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer to a watch from a compacted revision")
	}
}
