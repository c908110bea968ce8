package mvcc

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/storage"
)

func setFilterMinKeys(t *testing.T, n int64) {
	old := filterMinKeys
	filterMinKeys = n
	t.Cleanup(func() { filterMinKeys = old })
}

func TestKeyFilterNeverForgetsAndRarelyLies(t *testing.T) {
	const n = 200000
	setFilterMinKeys(t, n)
	f := newKeyFilter(n)
	for i := range n {
		f.add(fmt.Appendf(nil, "/registry/pods/%d", i))
	}
	for i := range n {
		if !f.mayContain(fmt.Appendf(nil, "/registry/pods/%d", i)) {
			t.Fatalf("key %d added but not found", i)
		}
	}
	falsePositives := 0
	for i := range n {
		if f.mayContain(fmt.Appendf(nil, "/registry/pods/%d", n+i)) {
			falsePositives++
		}
	}
	if rate := float64(falsePositives) / n; rate > 0.02 {
		t.Fatalf("false positive rate %.4f at capacity, want about 0.01", rate)
	}
	if f.full() {
		t.Fatalf("filter full at its capacity (%d of %d bits set)", f.set.Load(), f.bitCount())
	}
	if est := f.keysEstimate(); est < n*9/10 || est > n*11/10 {
		t.Fatalf("estimated %d keys, added %d", est, n)
	}
	for i := range n {
		f.add(fmt.Appendf(nil, "/registry/pods/%d", n+i))
	}
	if !f.full() {
		t.Fatalf("filter not full at twice its capacity (%d of %d bits set)", f.set.Load(), f.bitCount())
	}
}

func waitFilterReady(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.filters.absent(nil) // promotes a finished rebuild, as a lookup does
		if s.filters.cur != nil && s.filters.cur.ready.Load() && s.filters.next == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("key filter not built in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// After a restart the filter is rebuilt from the engine: keys written
// before it are found, with their versions.
func TestKeyFilterBuiltFromStoredKeys(t *testing.T) {
	dir := t.TempDir()
	s, closeStore := openStoreAt(t, dir)
	for i := range 100 {
		put(t, s, fmt.Sprint("k", i), "v1")
	}
	del(t, s, "k7", "")
	for i := 0; i < 10; i++ { // a key with many versions, before the k keys
		put(t, s, "hot", fmt.Sprint(i))
	}
	closeStore()

	s, closeStore = openStoreAt(t, dir)
	defer closeStore()
	waitFilterReady(t, s)
	for i := range 100 {
		r, err := apply(t, s, func(wt *WriteTxn) (*pb.PutResponse, error) {
			return wt.Put(&pb.PutRequest{Key: fmt.Append(nil, "k", i), Value: []byte("v2"), PrevKv: true})
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 7 {
			if r.PrevKv != nil {
				t.Fatalf("deleted key k7 has a previous version: %v", r.PrevKv)
			}
			continue
		}
		if r.PrevKv == nil || r.PrevKv.Version != 1 || r.PrevKv.CreateRevision != int64(i+2) {
			t.Fatalf("k%d: previous version %v, want version 1 created at %d", i, r.PrevKv, i+2)
		}
	}
	s.latest.reset()
	r, err := apply(t, s, func(wt *WriteTxn) (*pb.PutResponse, error) {
		return wt.Put(&pb.PutRequest{Key: []byte("hot"), Value: []byte("x"), PrevKv: true})
	})
	if err != nil || r.PrevKv == nil || r.PrevKv.Version != 10 {
		t.Fatalf("hot: previous version %v (%v), want version 10", r.PrevKv, err)
	}
	if r := put(t, s, "never", "x"); r.PrevKv != nil {
		t.Fatalf("a new key has a previous version: %v", r.PrevKv)
	}
}

// A filter that fills up is rebuilt larger and keeps every key.
func TestKeyFilterGrows(t *testing.T) {
	setFilterMinKeys(t, 64)
	s := newTestStore(t)
	waitFilterReady(t, s)
	small := s.filters.cur.bitCount()
	const n = 2000
	for i := 0; i < n; i += 100 {
		var keys [][]byte
		for j := i; j < i+100; j++ {
			keys = append(keys, fmt.Append(nil, "k", j))
		}
		putBatch(t, s, []byte("v"), keys...)
		waitFilterReady(t, s)
	}
	if got := s.filters.cur.bitCount(); got < n*filterBitsPerKey || s.filters.cur.full() {
		t.Fatalf("filter of %d bits (started at %d) for %d keys", got, small, n)
	}
	s.latest.reset() // make every lookup ask the filter
	for i := range n {
		if s.filters.absent(fmt.Append(nil, "k", i)) {
			t.Fatalf("k%d written but absent from the grown filter", i)
		}
	}
}

// A state snapshot can bring keys the filter never saw: after the restore
// the filter is rebuilt from the new contents.
func TestKeyFilterFollowsRestore(t *testing.T) {
	src := newTestStore(t)
	put(t, src, "restored", "v1")
	put(t, src, "restored", "v2")
	var versions [][2][]byte
	it, err := src.db.NewIter(&pebble.IterOptions{LowerBound: []byte{storage.PrefixKV}, UpperBound: kvSpaceEnd})
	if err != nil {
		t.Fatal(err)
	}
	for it.First(); it.Valid(); it.Next() {
		versions = append(versions, [2][]byte{append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...)})
	}
	it.Close()

	s := newTestStore(t)
	put(t, s, "other", "x")
	waitFilterReady(t, s)
	if err := s.Restore(func() error {
		b := s.db.NewBatch()
		defer b.Close()
		for _, kv := range versions {
			if err := b.Set(kv[0], kv[1], nil); err != nil {
				return err
			}
		}
		if err := b.Set(storage.KeyCurrentRev, storage.PutUint64(3), nil); err != nil {
			return err
		}
		return b.Commit(pebble.NoSync)
	}); err != nil {
		t.Fatal(err)
	}
	waitFilterReady(t, s)
	r, err := apply(t, s, func(wt *WriteTxn) (*pb.PutResponse, error) {
		return wt.Put(&pb.PutRequest{Key: []byte("restored"), Value: []byte("v3"), PrevKv: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.PrevKv == nil || r.PrevKv.Version != 2 || string(r.PrevKv.Value) != "v2" {
		t.Fatalf("previous version after restore: %v, want v2 at version 2", r.PrevKv)
	}
}
