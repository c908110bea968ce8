package mvcc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/storage"
)

// exportSorted reads every version of s in revision order, as snapshot
// files hold them.
func exportSorted(t *testing.T, s *Store) []ExportedVersion {
	t.Helper()
	var vs []ExportedVersion
	if err := ExportVersions(s.db, func(v ExportedVersion) error { vs = append(vs, v); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(vs, func(a, b ExportedVersion) int {
		if a.Main != b.Main {
			return int(a.Main - b.Main)
		}
		return int(a.Sub - b.Sub)
	})
	return vs
}

// importInto writes vs into a fresh engine and opens a store on it.
func importInto(t *testing.T, vs []ExportedVersion, scheduled, finished, bump int64, mark bool) *Store {
	t.Helper()
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := storage.Open(t.TempDir(), storage.Options{}, lg)
	if err != nil {
		t.Fatal(err)
	}
	im := NewImporter(eng.DB(), scheduled, finished)
	for _, v := range vs {
		if err := im.Add(v.Main, v.Sub, v.Tombstone, v.KV); err != nil {
			t.Fatal(err)
		}
	}
	noLeases := func(*pebble.Batch, int64, []byte) error { return nil }
	if err := im.Finish(noLeases, bump, mark); err != nil {
		t.Fatal(err)
	}
	s, err := New(eng, lg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	t.Cleanup(func() {
		s.Close()
		eng.Close()
	})
	return s
}

func TestExportImportKeepsHistory(t *testing.T) {
	src := newTestStore(t)
	for i := 0; i < 12; i++ {
		put(t, src, fmt.Sprintf("k%d", i%4), fmt.Sprint(i)) // revs 2..13
	}
	del(t, src, "k1", "") // 14
	if _, err := apply(t, src, func(wt *WriteTxn) (int, error) { return 0, wt.wb.Compact(9) }); err != nil {
		t.Fatal(err)
	}
	if err := src.WaitCompacted(context.Background(), 9); err != nil {
		t.Fatal(err)
	}
	put(t, src, "k2", "late") // 15

	dst := importInto(t, exportSorted(t, src), 9, 9, 0, false)
	if dst.Rev() != src.Rev() || dst.CompactRev() != src.CompactRev() {
		t.Fatalf("revisions: got %d/%d, want %d/%d", dst.Rev(), dst.CompactRev(), src.Rev(), src.CompactRev())
	}
	for _, rev := range []int64{0, 9, 12, 14} {
		req := &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev}
		want, err := src.Range(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dst.Range(req)
		if err != nil {
			t.Fatal(err)
		}
		if kvsString(got) != kvsString(want) {
			t.Fatalf("at %d: got %s, want %s", rev, kvsString(got), kvsString(want))
		}
	}
	wantHash, _, _, err := src.HashKV(0)
	if err != nil {
		t.Fatal(err)
	}
	gotHash, _, _, err := dst.HashKV(0)
	if err != nil || gotHash != wantHash {
		t.Fatalf("hash %d (%v), want %d", gotHash, err, wantHash)
	}
	if _, err := dst.Range(&pb.RangeRequest{Key: []byte("k0"), Revision: 8}); err != ErrCompacted {
		t.Fatalf("read below the compaction: %v", err)
	}
}

// A history whose compaction was interrupted is compacted when the store
// opens; a bumped revision is marked compacted.
func TestImportFinishesCompactionAndBumps(t *testing.T) {
	src := newTestStore(t)
	for i := 0; i < 10; i++ {
		put(t, src, "k", fmt.Sprint(i)) // revs 2..11
	}
	dst := importInto(t, exportSorted(t, src), 6, 0, 100, true)
	if dst.Rev() != 111 || dst.CompactRev() != 111 {
		t.Fatalf("rev %d compact %d, want 111/111", dst.Rev(), dst.CompactRev())
	}
	if err := dst.WaitCompacted(context.Background(), 111); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := ExportVersions(dst.db, func(ExportedVersion) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d versions after the compaction, want 1", n)
	}
	r, err := dst.Range(&pb.RangeRequest{Key: []byte("k")})
	if err != nil || kvsString(r) != "k=9@2/11/v10  count=1 more=false rev=111" {
		t.Fatalf("range after import: %s %v", kvsString(r), err)
	}
	put(t, dst, "k", "new")
	if dst.Rev() != 112 {
		t.Fatalf("next write at %d, want 112", dst.Rev())
	}
}

func TestImportRefusesDisorder(t *testing.T) {
	src := newTestStore(t)
	put(t, src, "a", "1")
	put(t, src, "b", "2")
	vs := exportSorted(t, src)
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := storage.Open(t.TempDir(), storage.Options{}, lg)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	im := NewImporter(eng.DB(), 0, 0)
	defer im.Abort()
	if err := im.Add(vs[1].Main, vs[1].Sub, false, vs[1].KV); err != nil {
		t.Fatal(err)
	}
	if err := im.Add(vs[0].Main, vs[0].Sub, false, vs[0].KV); err == nil {
		t.Fatal("an older version after a newer one was accepted")
	}
}
