package mvcc

import (
	"testing"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

func getKV(t *testing.T, s *Store, k string) string {
	t.Helper()
	r, err := s.Range(&pb.RangeRequest{Key: []byte(k)})
	if err != nil {
		t.Fatal(err)
	}
	return kvsString(r)
}

// The latest-version cache must answer exactly as a seek would, across
// deletes, re-creations, several writes in one batch and a restore.
func TestLatestCacheFollowsWrites(t *testing.T) {
	s := newTestStore(t)
	put(t, s, "k", "a")                            // 2
	put(t, s, "k", "b")                            // 3
	del(t, s, "k", "")                             // 4
	if r := put(t, s, "k", "c"); r.PrevKv != nil { // 5: a new key again
		t.Fatalf("prev of a re-created key: %v", r.PrevKv)
	}
	if got, want := getKV(t, s, "k"), "k=c@5/5/v1  count=1 more=false rev=5"; got != want {
		t.Fatalf("after delete and put: %s, want %s", got, want)
	}

	// Two transactions of one batch: the second sees the first's write.
	b := s.db.NewIndexedBatch()
	wb := s.NewBatch(b)
	for _, v := range []string{"d", "e"} {
		wt := wb.Txn()
		if _, err := wt.Put(&pb.PutRequest{Key: []byte("k"), Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
		wt.End()
	}
	wt := wb.Txn()
	resp, err := wt.Put(&pb.PutRequest{Key: []byte("k"), Value: []byte("f"), PrevKv: true})
	if err != nil || string(resp.PrevKv.Value) != "e" || resp.PrevKv.Version != 3 {
		t.Fatalf("prev within a batch: %v %v", resp.PrevKv, err)
	}
	wt.End()
	commitBatch(t, s, b, wb)
	if got, want := getKV(t, s, "k"), "k=f@5/8/v4  count=1 more=false rev=8"; got != want {
		t.Fatalf("after the batch: %s, want %s", got, want)
	}

	// A restore replaces the data under the cache.
	if err := s.Restore(func() error {
		b := s.db.NewBatch()
		defer b.Close()
		if err := b.DeleteRange([]byte{'k'}, kvSpaceEnd, nil); err != nil {
			return err
		}
		return b.Commit(pebble.NoSync)
	}); err != nil {
		t.Fatal(err)
	}
	r := put(t, s, "k", "g")
	if r.PrevKv != nil {
		t.Fatalf("prev after a restore that removed the key: %v", r.PrevKv)
	}
	if got, want := getKV(t, s, "k"), "k=g@9/9/v1  count=1 more=false rev=9"; got != want {
		t.Fatalf("after restore: %s, want %s", got, want)
	}
}

func TestLatestCacheStaysBounded(t *testing.T) {
	var c latestCache
	for i := range 200000 {
		c.put(string(rune(i)), latestEntry{live: true, mod: int64(i)})
	}
	if c.bytes > latestCacheBytes {
		t.Fatalf("cache holds %d bytes, budget %d", c.bytes, latestCacheBytes)
	}
	sum := 0
	for k, e := range c.m {
		sum += e.cost(k)
	}
	if sum != c.bytes {
		t.Fatalf("accounted %d bytes, holds %d", c.bytes, sum)
	}
}
