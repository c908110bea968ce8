package integration

import (
	"fmt"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// TestWritesAfterRestartSeeStoredKeys: a restarted member tells keys it
// stored before the restart from keys never written (its key filter is
// rebuilt from the engine), through puts, single-key deletes and the
// create-if-absent transaction Kubernetes uses.
func TestWritesAfterRestartSeeStoredKeys(t *testing.T) {
	c := testutil.StartCluster(t, 1)
	ctx := ctxT(t)
	cli := c.Client(t)
	for i := 0; i < 50; i++ {
		if _, err := cli.Put(ctx, fmt.Sprint("k", i), "v1"); err != nil {
			t.Fatal(err)
		}
	}
	c.Members[0].Stop()
	c.Members[0].Restart(t)

	for i := 0; i < 25; i++ {
		r, err := cli.Put(ctx, fmt.Sprint("k", i), "v2", clientv3.WithPrevKV())
		if err != nil {
			t.Fatal(err)
		}
		if r.PrevKv == nil || string(r.PrevKv.Value) != "v1" || r.PrevKv.Version != 1 {
			t.Fatalf("k%d: previous %v, want v1 at version 1", i, r.PrevKv)
		}
	}
	create := func(key string) bool {
		t.Helper()
		r, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, "created")).Commit()
		if err != nil {
			t.Fatal(err)
		}
		return r.Succeeded
	}
	if create("k30") {
		t.Fatal("create-if-absent succeeded on k30, stored before the restart")
	}
	if !create("fresh") {
		t.Fatal("create-if-absent failed on a key never written")
	}
	for key, want := range map[string]int64{"k40": 1, "never": 0} {
		r, err := cli.Delete(ctx, key)
		if err != nil || r.Deleted != want {
			t.Fatalf("delete %s: deleted %v (%v), want %d", key, r, err, want)
		}
	}
}

// TestSnapshotCatchUpSeesStoredKeys: a member that caught up from a state
// snapshot applies later writes to the keys the snapshot brought exactly as
// the others do: the histories hash the same.
func TestSnapshotCatchUpSeesStoredKeys(t *testing.T) {
	c := testutil.StartCluster(t, 3, smallLog)
	ctx := ctxT(t)
	cli := c.Client(t)
	lagging := c.Members[(leaderIndex(t, c)+1)%3]
	lagging.Stop()
	for i := 0; i < 300; i++ { // past the log the others keep
		if _, err := cli.Put(ctx, fmt.Sprint("s", i%50), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	lagging.Restart(t)
	for i := 0; i < 50; i++ {
		if _, err := cli.Put(ctx, fmt.Sprint("s", i), "after"); err != nil {
			t.Fatal(err)
		}
	}
	r, err := memberClient(t, lagging).Get(ctx, "s7")
	if err != nil || len(r.Kvs) != 1 || r.Kvs[0].Version != 7 {
		t.Fatalf("s7 on the member that caught up: %v %v, want version 7", r, err)
	}
	assertSameHashKV(t, c, ctx)
}
