package raftnode

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/storage"
)

func openTestEngine(t testing.TB, dir string) *storage.Engine {
	t.Helper()
	eng, err := storage.Open(dir, storage.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func ents(term uint64, from, to uint64) []*raftpb.Entry {
	var out []*raftpb.Entry
	for i := from; i <= to; i++ {
		out = append(out, &raftpb.Entry{Term: proto.Uint64(term), Index: proto.Uint64(i), Data: []byte{byte(i)}})
	}
	return out
}

func TestLogStoreAppendOverwriteTruncateReopen(t *testing.T) {
	dir := t.TempDir()
	eng := openTestEngine(t, dir)
	ls, err := OpenLogStore(eng.DB())
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := ls.FirstIndex(); fi != 1 {
		t.Fatalf("empty first index %d", fi)
	}
	hs := &raftpb.HardState{Term: proto.Uint64(1), Vote: proto.Uint64(7), Commit: proto.Uint64(3)}
	if err := ls.Append(hs, ents(1, 1, 10), true); err != nil {
		t.Fatal(err)
	}
	// A new leader overwrites the tail from index 6 with a shorter log.
	if err := ls.Append(nil, ents(2, 6, 8), true); err != nil {
		t.Fatal(err)
	}
	if li, _ := ls.LastIndex(); li != 8 {
		t.Fatalf("last index %d after overwrite, want 8", li)
	}
	if tm, _ := ls.Term(5); tm != 1 {
		t.Fatalf("term(5)=%d", tm)
	}
	if tm, _ := ls.Term(6); tm != 2 {
		t.Fatalf("term(6)=%d", tm)
	}
	if _, err := ls.Term(9); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("term(9): %v", err)
	}
	got, err := ls.Entries(2, 9, 1<<20)
	if err != nil || len(got) != 7 || got[0].GetIndex() != 2 || got[6].GetTerm() != 2 {
		t.Fatalf("entries: %v %v", got, err)
	}
	if got, _ := ls.Entries(2, 9, 1); len(got) != 1 {
		t.Fatalf("maxSize 1 returned %d entries, want 1", len(got))
	}
	if err := ls.Truncate(4); err != nil {
		t.Fatal(err)
	}
	if fi, _ := ls.FirstIndex(); fi != 5 {
		t.Fatalf("first index %d after truncate, want 5", fi)
	}
	if _, err := ls.Entries(4, 6, 1<<20); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("entries below the truncation: %v", err)
	}
	if tm, _ := ls.Term(4); tm != 1 {
		t.Fatalf("term at the truncation point %d, want 1 (kept for log matching)", tm)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}

	eng = openTestEngine(t, dir)
	defer eng.Close()
	ls, err = OpenLogStore(eng.DB())
	if err != nil {
		t.Fatal(err)
	}
	gotHS, _, _ := ls.InitialState()
	if gotHS.GetTerm() != 1 || gotHS.GetVote() != 7 || gotHS.GetCommit() != 3 {
		t.Fatalf("hard state after reopen: %v", gotHS)
	}
	fi, _ := ls.FirstIndex()
	li, _ := ls.LastIndex()
	if fi != 5 || li != 8 {
		t.Fatalf("bounds after reopen [%d,%d], want [5,8]", fi, li)
	}
	// Entries now come from the engine, not the cache.
	got, err = ls.Entries(5, 9, 1<<20)
	if err != nil || len(got) != 4 || got[1].GetTerm() != 2 || got[0].GetData()[0] != 5 {
		t.Fatalf("entries after reopen: %v %v", got, err)
	}
}

func TestLogStoreRefusesGap(t *testing.T) {
	eng := openTestEngine(t, t.TempDir())
	defer eng.Close()
	ls, _ := OpenLogStore(eng.DB())
	if err := ls.Append(nil, ents(1, 1, 3), true); err != nil {
		t.Fatal(err)
	}
	if err := ls.Append(nil, ents(1, 5, 6), true); !errors.Is(err, errLogGap) {
		t.Fatalf("append with a gap: %v", err)
	}
}

func TestLogStoreCacheBounded(t *testing.T) {
	eng := openTestEngine(t, t.TempDir())
	defer eng.Close()
	ls, _ := OpenLogStore(eng.DB())
	for i := uint64(1); i <= cacheMaxEntries+100; i += 100 {
		if err := ls.Append(nil, ents(1, i, i+99), false); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(ls.mu.cache); n > cacheMaxEntries {
		t.Fatalf("cache holds %d entries, bound %d", n, cacheMaxEntries)
	}
	got, err := ls.Entries(1, 3, 1<<20)
	if err != nil || len(got) != 2 || got[1].GetIndex() != 2 {
		t.Fatalf("evicted entries not read back: %v %v", got, err)
	}
}
