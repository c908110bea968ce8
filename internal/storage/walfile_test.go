package storage

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

func openForWALTest(t *testing.T, dir string, fs vfs.FS) *Engine {
	t.Helper()
	eng, err := Open(dir, Options{FS: fs}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// walSizes maps each WAL file in dir to its size on disk.
func walSizes(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, name := range names {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(name)] = fi.Size()
	}
	return out
}

func walValue(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 1000) }

func putSynced(t *testing.T, eng *Engine, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := eng.DB().Set(fmt.Appendf(nil, "key%05d", i), walValue(i), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
}

func checkKeys(t *testing.T, eng *Engine, n int) {
	t.Helper()
	for i := range n {
		v, ok, err := Get(eng.DB(), fmt.Appendf(nil, "key%05d", i))
		if err != nil || !ok || !bytes.Equal(v, walValue(i)) {
			t.Fatalf("key%05d: found %v, error %v, value right %v", i, ok, err, bytes.Equal(v, walValue(i)))
		}
	}
}

// copyDir copies dir as it is on disk now: with the engine still open, the
// image a crash of the process would leave (WAL tails included).
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func skipUnlessLinux(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("extending preallocation is Linux-only")
	}
}

func TestWALIsExtendedWhileOpenAndCutBackAtClose(t *testing.T) {
	skipUnlessLinux(t)
	dir := t.TempDir()
	eng := openForWALTest(t, dir, nil)
	putSynced(t, eng, 0, 100)
	var extended bool
	for _, size := range walSizes(t, dir) {
		extended = extended || size >= memTableBytes
	}
	if !extended {
		t.Errorf("WAL sizes %v while open: none extended to the preallocation", walSizes(t, dir))
	}
	// The preallocated space is not reported as used.
	if n := eng.SizeBytes(); n > 8<<20 {
		t.Errorf("SizeBytes %d after 100 KB of writes, want the written log, not its preallocation", n)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	for name, size := range walSizes(t, dir) {
		if size > 1<<20 {
			t.Errorf("%s is %d bytes after close, want it cut back to the ~100 KB written", name, size)
		}
	}
	eng = openForWALTest(t, dir, nil)
	defer eng.Close()
	checkKeys(t, eng, 100)
}

func TestCrashImageWithPreallocatedWALTailReplays(t *testing.T) {
	skipUnlessLinux(t)
	dir, crash := t.TempDir(), t.TempDir()
	eng := openForWALTest(t, dir, nil)
	putSynced(t, eng, 0, 200)
	copyDir(t, dir, crash)
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	var tail bool
	for _, size := range walSizes(t, crash) {
		tail = tail || size >= memTableBytes
	}
	if !tail {
		t.Fatalf("crash image WAL sizes %v: no zeroed preallocated tail to replay past", walSizes(t, crash))
	}
	eng = openForWALTest(t, crash, nil)
	defer eng.Close()
	checkKeys(t, eng, 200)
}

// reuseCountingFS counts the WAL files the engine recycles.
type reuseCountingFS struct {
	vfs.FS
	reused *atomic.Int32
}

func (fs reuseCountingFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	if strings.HasSuffix(newname, ".log") {
		fs.reused.Add(1)
	}
	return fs.FS.ReuseForWrite(oldname, newname, category)
}

func TestRecycledWALsSurviveACrash(t *testing.T) {
	skipUnlessLinux(t)
	dir, crash := t.TempDir(), t.TempDir()
	var reused atomic.Int32
	eng := openForWALTest(t, dir, reuseCountingFS{FS: vfs.Default, reused: &reused})
	const rounds, perRound = 8, 50
	for r := range rounds {
		putSynced(t, eng, r*perRound, (r+1)*perRound)
		if r < rounds-1 {
			if err := eng.DB().Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if reused.Load() == 0 {
		t.Fatal("the engine recycled no WAL file; the test does not cover reuse")
	}
	copyDir(t, dir, crash)
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng = openForWALTest(t, crash, nil)
	defer eng.Close()
	checkKeys(t, eng, rounds*perRound)
}
