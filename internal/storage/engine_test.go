package storage

import (
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
