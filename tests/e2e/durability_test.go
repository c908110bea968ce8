package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestKillDuringWritesLosesNothing kills the server with SIGKILL in the middle
// of a concurrent write load, restarts it and checks that every
// acknowledged write is there and that no transaction is half applied.
// Each write is a transaction creating two fresh keys, so after any crash
// the store must hold both or neither, and exactly one revision per
// transaction.
func TestKillDuringWritesLosesNothing(t *testing.T) {
	dataDir := t.TempDir()
	port := freePort(t)
	acked := map[string]string{}
	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	for round := 0; round < rounds; round++ {
		p := startEtcd(t, dataDir, port)
		c := p.client(t)
		verifyStore(t, c, acked)
		for k, v := range writeUntilKilled(t, p, c, round) {
			acked[k] = v
		}
	}
	p := startEtcd(t, dataDir, port)
	verifyStore(t, p.client(t), acked)
	t.Logf("%d acknowledged transactions survived %d kills", len(acked), rounds)
}

// writeUntilKilled runs writers until the process is killed mid-load and
// returns what was acknowledged.
func writeUntilKilled(t *testing.T, p *proc, c *clientv3.Client, round int) map[string]string {
	const writers = 8
	var mu sync.Mutex
	acked := map[string]string{}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("r%d-w%d-%06d", round, w, i)
				val := "v-" + id
				wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := c.Txn(wctx).Then(
					clientv3.OpPut("a/"+id, val),
					clientv3.OpPut("b/"+id, val),
				).Commit()
				wcancel()
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked[id] = val
				mu.Unlock()
			}
		}()
	}
	// Let the load build up, then kill in the middle of it.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.kill()
	cancel()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatalf("no write was acknowledged before the kill:\n%s", p.logs)
	}
	return acked
}

// verifyStore checks every acknowledged transaction and the invariants of
// the whole store.
func verifyStore(t *testing.T, c *clientv3.Client, acked map[string]string) {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	as, err := c.Get(ctx, "a/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	bs, err := c.Get(ctx, "b/", clientv3.WithPrefix(), clientv3.WithRev(as.Header.Revision))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	mods := map[int64]int{}
	for _, kv := range as.Kvs {
		id := string(kv.Key[2:])
		e := got[id]
		e[0] = string(kv.Value)
		got[id] = e
		mods[kv.ModRevision]++
	}
	for _, kv := range bs.Kvs {
		id := string(kv.Key[2:])
		e := got[id]
		e[1] = string(kv.Value)
		got[id] = e
		mods[kv.ModRevision]++
	}
	for id, e := range got {
		if e[0] != e[1] {
			t.Fatalf("transaction %s is torn: a=%q b=%q", id, e[0], e[1])
		}
	}
	for rev, n := range mods {
		if n != 2 {
			t.Fatalf("revision %d holds %d keys, want 2", rev, n)
		}
	}
	// One revision per transaction: nothing else writes to this store.
	if want := int64(len(got)) + 1; as.Header.Revision != want {
		t.Fatalf("store at revision %d holds %d transactions, want revision %d", as.Header.Revision, len(got), want)
	}
	for id, v := range acked {
		if got[id][0] != v {
			t.Fatalf("acknowledged transaction %s lost: got %q, want %q", id, got[id][0], v)
		}
	}
}
