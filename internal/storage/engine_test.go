package storage

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

func TestSizesAreReported(t *testing.T) {
	eng, err := Open(t.TempDir(), Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for i := 0; i < 100; i++ {
		if err := eng.DB().Set([]byte{byte(i)}, make([]byte, 100), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if eng.SizeBytes() <= 0 || eng.LiveBytes() <= 0 || eng.LiveBytes() > eng.SizeBytes() {
		m := eng.DB().Metrics()
		t.Fatalf("size %d, in use %d; wal %+v", eng.SizeBytes(), eng.LiveBytes(), m.WAL)
	}
}

// Reads of flushed data are served from the block cache once read: the
// cache must have room beyond the full-sized memtables the engine reserves
// in it.
func TestBlockCacheKeepsBlocks(t *testing.T) {
	eng, err := Open(t.TempDir(), Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	// Memtables start small and double: fill them up to full size first.
	big := make([]byte, 1<<20)
	for i := 0; i < 2*memTableBytes>>20; i++ {
		if err := eng.DB().Set([]byte(fmt.Sprint("big", i)), big, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 1000; i++ {
		if err := eng.DB().Set([]byte(fmt.Sprint("key", i)), make([]byte, 100), pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.DB().Flush(); err != nil {
		t.Fatal(err)
	}
	before := eng.Stats()
	for round := 0; round < 2; round++ {
		for i := 0; i < 1000; i++ {
			if _, ok, err := Get(eng.DB(), []byte(fmt.Sprint("key", i))); err != nil || !ok {
				t.Fatalf("key%d: found %v, %v", i, ok, err)
			}
		}
	}
	st := eng.Stats()
	hits, misses := st.BlockCacheHits-before.BlockCacheHits, st.BlockCacheMisses-before.BlockCacheMisses
	if st.BlockCacheBytes == 0 || hits < misses {
		t.Fatalf("block cache holds %d bytes, %d hits and %d misses after reading 1000 keys twice (memtables %d bytes)",
			st.BlockCacheBytes, hits, misses, st.MemTableBytes)
	}
}
