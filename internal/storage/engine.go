package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options tune the engine. The zero value is fine for production.
type Options struct {
	// CacheBytes is the block cache size, memtables included; 0 means
	// defaultCacheBytes.
	CacheBytes int64
	// FS replaces the filesystem, for tests that inject faults.
	FS vfs.FS
	// WALDir puts the engine's write-ahead log (where the raft log is made
	// durable) in its own directory, etcd's --wal-dir, typically on a
	// faster disk; "" keeps it in dir. An engine must always be opened with
	// the WAL directory it was created with: Open refuses another.
	WALDir string
}

// The engine reserves each memtable's size (memTableBytes) in its block
// cache: with a cache no larger than one memtable, as this engine had at
// first, no block stays cached and every read of an index, filter or data
// block is a system call. defaultCacheBytes leaves room for two memtables
// (the live one and one being flushed) and at least 128 MiB of blocks.
const (
	memTableBytes     = 64 << 20
	defaultCacheBytes = 2*memTableBytes + 128<<20
)

// walDirMarker records, in the engine's directory, the WAL directory the
// engine was created with: opened without it, unflushed writes would be
// silently missing.
const walDirMarker = "WAL_DIR"

// Engine is the member's Pebble instance.
type Engine struct {
	db  *pebble.DB
	dir string
	lg  *slog.Logger
	// prefixSeek: the comparer splits version keys (comparer.go).
	prefixSeek bool

	// approxSize caches SizeBytes for ApproxSizeBytes: reading Pebble's
	// metrics takes locks and allocates, too much for every request.
	approxSize   atomic.Int64
	approxSizeAt atomic.Int64 // unix nanoseconds of the cached value
}

// Open opens (creating if needed) the engine in dir; lg may be nil.
func Open(dir string, opts Options, lg *slog.Logger) (*Engine, error) {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if opts.FS == nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create storage dir: %w", err)
		}
	}
	if opts.FS == nil {
		if err := checkWALDir(dir, opts.WALDir); err != nil {
			return nil, err
		}
	}
	cacheBytes := opts.CacheBytes
	if cacheBytes == 0 {
		cacheBytes = defaultCacheBytes
	}
	fs := opts.FS
	if fs == nil {
		fs = vfs.Default
	}
	po := &pebble.Options{
		FS:                          sstBufferFS{walFS{fs}},
		CacheSize:                   cacheBytes,
		MemTableSize:                memTableBytes,
		MemTableStopWritesThreshold: 4,
		// Pebble's default. At 2, L0 tables were compacted sooner and more
		// often: 3% more member CPU under 10-put txns (seven alternating
		// pairs), and puts, gets and ranges after a write load were no
		// faster.
		L0CompactionThreshold: 4,
		L0StopWritesThreshold: 1000,
		LBaseMaxBytes:         64 << 20,
		MaxOpenFiles:          1000,
		FormatMajorVersion:    pebble.FormatNewest,
		Logger:                pebbleLogger{lg},
		WALDir:                opts.WALDir,
		Comparer:              chooseComparer(dir, opts.FS),
	}
	bloomFilters(po)
	po.EnsureDefaults()
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("open storage %s: %w", dir, err)
	}
	return &Engine{db: db, dir: dir, lg: lg, prefixSeek: po.Comparer == keyComparer}, nil
}

// checkWALDir refuses to open the engine in dir with another WAL directory
// than the one it was created with, and records it for a new engine.
func checkWALDir(dir, walDir string) error {
	if walDir != "" {
		abs, err := filepath.Abs(walDir)
		if err != nil {
			return err
		}
		walDir = abs
		if err := os.MkdirAll(walDir, 0o700); err != nil {
			return fmt.Errorf("create wal dir: %w", err)
		}
	}
	marker := filepath.Join(dir, walDirMarker)
	prev, err := os.ReadFile(marker)
	switch {
	case err == nil:
		if string(prev) != walDir {
			return fmt.Errorf("data dir %s was created with --wal-dir=%q; start it with that --wal-dir (now %q)", filepath.Dir(dir), string(prev), walDir)
		}
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	if existing, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*")); len(existing) > 0 {
		// An engine from before the marker existed: it kept its WAL in dir.
		if walDir != "" {
			return fmt.Errorf("data dir %s keeps its write-ahead log inside; start it without --wal-dir", filepath.Dir(dir))
		}
	}
	return os.WriteFile(marker, []byte(walDir), 0o600)
}

// DB exposes the Pebble instance to the packages that own a key prefix.
func (e *Engine) DB() *pebble.DB { return e.db }

// Dir is the engine's directory.
func (e *Engine) Dir() string { return e.dir }

// Close closes the engine. Callers must have closed every iterator.
func (e *Engine) Close() error { return e.db.Close() }

// Get returns a copy of the value at key, or ok=false when it is absent.
func Get(r pebble.Reader, key []byte) (val []byte, ok bool, err error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	val = append([]byte(nil), v...)
	return val, true, closer.Close()
}

// GetUint64 reads an 8-byte big-endian value; absent keys read as 0.
func GetUint64(r pebble.Reader, key []byte) (uint64, error) {
	v, ok, err := Get(r, key)
	if err != nil || !ok {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("storage: key %q holds %d bytes, want 8", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Compact rewrites the whole key space, dropping deleted and overwritten
// data, and returns once obsolete files are gone. Writes go on meanwhile:
// this is what etcd's stop-the-world defragmentation becomes on an LSM.
func (e *Engine) Compact(ctx context.Context) error {
	defer e.approxSizeAt.Store(0) // the size changed: measure it afresh
	if err := e.db.Flush(); err != nil {
		return err
	}
	return e.db.Compact(ctx, []byte{0}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true)
}

// SizeBytes is the disk space the engine uses (what etcd calls the db size):
// live files and files awaiting deletion, but not old WAL files kept for
// reuse (their space is not growth). Pebble counts the active WAL's
// physical size only once it is closed, so its logical size stands in.
func (e *Engine) SizeBytes() int64 {
	m := e.db.Metrics()
	n := m.DiskSpaceUsage() - m.WAL.ObsoletePhysicalSize
	if m.WAL.Size > m.WAL.PhysicalSize {
		n += m.WAL.Size - m.WAL.PhysicalSize
	}
	return int64(n)
}

// approxSizeTTL is how stale ApproxSizeBytes may be.
const approxSizeTTL = 100 * time.Millisecond

// ApproxSizeBytes is SizeBytes as of at most approxSizeTTL ago, cheap enough
// for a per-request quota check (the quota is a threshold, not a promise to
// the byte).
func (e *Engine) ApproxSizeBytes() int64 {
	now := time.Now().UnixNano()
	if now-e.approxSizeAt.Load() < int64(approxSizeTTL) {
		return e.approxSize.Load()
	}
	n := e.SizeBytes()
	e.approxSize.Store(n)
	e.approxSizeAt.Store(now)
	return n
}

// LiveBytes is the space of live data: the WAL (data not yet flushed) and
// live tables, without files awaiting deletion. It is what etcd calls the
// size "in use".
func (e *Engine) LiveBytes() int64 {
	m := e.db.Metrics()
	return int64(max(m.WAL.Size, m.WAL.PhysicalSize) + m.Table.Local.LiveSize + m.BlobFiles.Local.LiveSize)
}

// pebbleLogger sends Pebble's own messages to slog at debug level, except
// errors; Fatalf is a broken invariant inside the engine.
type pebbleLogger struct{ lg *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.lg.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.lg.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.lg.Error(msg, "component", "pebble")
	panic("storage: " + msg)
}

// Stats are the engine's internals an operator watches: how well the block
// cache serves reads, and how much background work the LSM does.
type Stats struct {
	BlockCacheBytes  int64
	BlockCacheHits   int64
	BlockCacheMisses int64
	MemTableBytes    uint64
	L0Files          int64
	Tables           int64
	Flushes          int64
	Compactions      int64
	ReadAmp          int
}

// Stats reads the engine's current statistics.
func (e *Engine) Stats() Stats {
	m := e.db.Metrics()
	return Stats{
		BlockCacheBytes:  m.BlockCache.Size,
		BlockCacheHits:   m.BlockCache.Hits,
		BlockCacheMisses: m.BlockCache.Misses,
		MemTableBytes:    m.MemTable.Size,
		L0Files:          m.Levels[0].TablesCount,
		Tables:           m.Total().TablesCount,
		Flushes:          m.Flush.Count,
		Compactions:      m.Compact.Count,
		ReadAmp:          m.ReadAmp(),
	}
}
