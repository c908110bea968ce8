package mvcc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/storage"
)

func newTestStore(t testing.TB) *Store {
	t.Helper()
	s, closeStore := openStoreAt(t, t.TempDir())
	t.Cleanup(closeStore)
	return s
}

// openStoreAt opens a store over the engine in dir, started like the
// server starts it.
func openStoreAt(t testing.TB, dir string) (*Store, func()) {
	t.Helper()
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := storage.Open(dir, storage.Options{}, lg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(eng, lg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	return s, func() { s.Close(); eng.Close() }
}

// apply runs fn in one write transaction and commits it like the applier.
func apply[T any](t testing.TB, s *Store, fn func(wt *WriteTxn) (T, error)) (T, error) {
	t.Helper()
	b := s.db.NewIndexedBatch()
	wb := s.NewBatch(b)
	wt := wb.Txn()
	res, err := fn(wt)
	wt.End()
	commitBatch(t, s, b, wb)
	return res, err
}

// commitBatch finishes, commits and publishes wb, a batch over b, as the
// applier does, and closes b.
func commitBatch(t testing.TB, s *Store, b *pebble.Batch, wb *Batch) {
	t.Helper()
	defer b.Close()
	if err := wb.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	s.Publish(wb)
}

// putBatch puts every key with val, one transaction each, in one batch.
func putBatch(t testing.TB, s *Store, val []byte, keys ...[]byte) {
	t.Helper()
	b := s.db.NewIndexedBatch()
	wb := s.NewBatch(b)
	for _, key := range keys {
		wt := wb.Txn()
		if _, err := wt.Put(&pb.PutRequest{Key: key, Value: val}); err != nil {
			t.Fatal(err)
		}
		wt.End()
	}
	commitBatch(t, s, b, wb)
}

func put(t testing.TB, s *Store, k, v string) *pb.PutResponse {
	t.Helper()
	r, err := apply(t, s, func(wt *WriteTxn) (*pb.PutResponse, error) {
		return wt.Put(&pb.PutRequest{Key: []byte(k), Value: []byte(v)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func del(t testing.TB, s *Store, k, end string) *pb.DeleteRangeResponse {
	t.Helper()
	r, err := apply(t, s, func(wt *WriteTxn) (*pb.DeleteRangeResponse, error) {
		var e []byte
		if end != "" {
			e = []byte(end)
		}
		return wt.DeleteRange(&pb.DeleteRangeRequest{Key: []byte(k), RangeEnd: e, PrevKv: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func kvsString(r *pb.RangeResponse) string {
	s := ""
	for _, kv := range r.Kvs {
		s += fmt.Sprintf("%s=%s@%d/%d/v%d ", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version)
	}
	return fmt.Sprintf("%s count=%d more=%v rev=%d", s, r.Count, r.More, r.Header.Revision)
}

func TestStoreRevisionsAndHistory(t *testing.T) {
	s := newTestStore(t)
	if s.Rev() != 1 {
		t.Fatalf("empty store rev = %d, want 1", s.Rev())
	}
	put(t, s, "a", "1")   // rev 2
	put(t, s, "b", "1")   // rev 3
	put(t, s, "a", "2")   // rev 4
	del(t, s, "b", "")    // rev 5
	put(t, s, "b", "new") // rev 6
	if d := del(t, s, "zz", ""); d.Deleted != 0 || d.Header.Revision != 6 {
		t.Fatalf("delete of a missing key changed the store: %v", d)
	}
	cases := []struct {
		req  *pb.RangeRequest
		want string
	}{
		{&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}}, "a=2@2/4/v2 b=new@6/6/v1  count=2 more=false rev=6"},
		{&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}, Revision: 3}, "a=1@2/2/v1 b=1@3/3/v1  count=2 more=false rev=6"},
		{&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}, Revision: 5}, "a=2@2/4/v2  count=1 more=false rev=6"},
		{&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}, Limit: 1}, "a=2@2/4/v2  count=2 more=true rev=6"},
		{&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}, SortOrder: pb.RangeRequest_DESCEND}, "b=new@6/6/v1 a=2@2/4/v2  count=2 more=false rev=6"},
		{&pb.RangeRequest{Key: []byte("b")}, "b=new@6/6/v1  count=1 more=false rev=6"},
		{&pb.RangeRequest{Key: []byte("b"), Revision: 5}, " count=0 more=false rev=6"},
	}
	for _, c := range cases {
		r, err := s.Range(c.req)
		if err != nil {
			t.Fatalf("%v: %v", c.req, err)
		}
		if got := kvsString(r); got != c.want {
			t.Errorf("%v:\n got %s\nwant %s", c.req, got, c.want)
		}
	}
	if _, err := s.Range(&pb.RangeRequest{Key: []byte("a"), Revision: 7}); err != ErrFutureRev {
		t.Fatalf("future rev: %v", err)
	}
}

func TestStoreCompaction(t *testing.T) {
	s := newTestStore(t)
	for i := 0; i < 5; i++ {
		put(t, s, "k", fmt.Sprint(i)) // revs 2..6
	}
	put(t, s, "gone", "x") // 7
	del(t, s, "gone", "")  // 8
	if _, err := apply(t, s, func(wt *WriteTxn) (int, error) { return 0, wt.wb.Compact(7) }); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitCompacted(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Range(&pb.RangeRequest{Key: []byte("k"), Revision: 6}); err != ErrCompacted {
		t.Fatalf("read below compaction: %v", err)
	}
	r, err := s.Range(&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}, Revision: 7})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kvsString(r), "gone=x@7/7/v1 k=4@2/6/v5  count=2 more=false rev=8"; got != want {
		t.Fatalf("at compaction rev: got %s want %s", got, want)
	}
	// Only the versions a read at >= 7 needs are left.
	it, _ := s.db.NewIter(nil)
	n := 0
	for it.SeekGE([]byte{storage.PrefixKV}); it.Valid() && it.Key()[0] == storage.PrefixKV; it.Next() {
		n++
	}
	it.Close()
	if n != 3 { // k@6, gone@7, gone tombstone@8
		t.Fatalf("%d versions left after compaction, want 3", n)
	}
	if _, err := apply(t, s, func(wt *WriteTxn) (int, error) { return 0, wt.wb.Compact(7) }); err != ErrCompacted {
		t.Fatalf("second compaction at same rev: %v", err)
	}
}

func TestKeyCountFollowsCreatesAndDeletes(t *testing.T) {
	s := newTestStore(t)
	put(t, s, "a", "1")
	put(t, s, "a", "2") // an update creates nothing
	put(t, s, "b", "1")
	put(t, s, "c", "1")
	del(t, s, "b", "d") // b and c
	del(t, s, "zz", "") // nothing
	if got := s.Keys(); got != 1 {
		t.Fatalf("keys = %d, want 1", got)
	}
}
