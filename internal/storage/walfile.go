package storage

import (
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// The write-ahead log is synced after every raft append, so the cost of one
// fdatasync sets the put latency of a lightly loaded member. The engine
// preallocates its WAL files without changing their size
// (FALLOC_FL_KEEP_SIZE); every append then grows the file, and every
// fdatasync also commits that size change to the filesystem's journal.
// walFS preallocates with the size extended instead, so appends land inside
// the file and an fdatasync has only data to write; at close the file is cut
// back to what was written, so sizes, reuse and the db size the member
// reports see the log as the engine wrote it.
//
// Measured on ext4 here: 700-byte appends each followed by fdatasync cost
// about 97 µs of CPU and 187 µs of wall time per sync when the file grows,
// 85 and 165 when it was extended beforehand. Single-client puts: 10% more
// per second, p99 15% lower.
//
// A file cut short by a crash keeps its zeroed preallocated tail; the
// engine reads a zeroed or stale tail as the end of the log (it must, as it
// reuses old log files whose tails hold earlier records).

// walFS gives the engine's WAL files (*.log) extending preallocation. Files
// without a descriptor (in-memory test filesystems) are left as they are.
type walFS struct{ vfs.FS }

func (fs walFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	return wrapWAL(name, f, err)
}

func (fs walFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	return wrapWAL(newname, f, err)
}

func wrapWAL(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") || f.Fd() == vfs.InvalidFd {
		return f, err
	}
	return &walFile{File: f}, nil
}

// walFile tracks where the log ends so Close can drop the preallocated
// space beyond it. The engine writes a log from one goroutine at a time;
// the atomics only make that independent of its internals.
type walFile struct {
	vfs.File
	end      atomic.Int64 // bytes written from the start of the file
	extended atomic.Bool  // the size was extended past end
}

func (f *walFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	f.end.Add(int64(n))
	return n, err
}

func (f *walFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	for end := off + int64(n); ; {
		cur := f.end.Load()
		if end <= cur || f.end.CompareAndSwap(cur, end) {
			break
		}
	}
	return n, err
}

// Preallocate reserves [off, off+length) and extends the file over it; where
// the filesystem cannot, the engine's own size-keeping preallocation runs.
func (f *walFile) Preallocate(off, length int64) error {
	if err := extendFile(f.Fd(), off, length); err == nil {
		f.extended.Store(true)
		return nil
	}
	return f.File.Preallocate(off, length)
}

// Close cuts the file back to the written log, then closes it. The cut need
// not be durable: a zeroed tail reads as the end of the log.
func (f *walFile) Close() error {
	var err error
	if f.extended.Load() {
		err = truncateFile(f.Fd(), f.end.Load())
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}
