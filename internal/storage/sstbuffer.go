package storage

import (
	"bufio"
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// sstWriteBuffer is the buffer a table file is written through. The engine
// writes a table a block (4 KiB) at a time through a buffer of the same
// size: with flushes and compactions that was a system call per block,
// a tenth of a member's CPU under transactions of puts.
const sstWriteBuffer = 256 << 10

// sstBufferFS buffers the writes of the engine's table files; every other
// file is written through, so the write-ahead log reaches the OS at each
// write as the engine expects. A table is only read once written and
// synced, and the buffer is emptied before every sync, stat or close.
type sstBufferFS struct{ vfs.FS }

func (fs sstBufferFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil || !strings.HasSuffix(name, ".sst") {
		return f, err
	}
	return &bufferedFile{File: f, w: bufio.NewWriterSize(f, sstWriteBuffer)}, nil
}

// bufferedFile is a file written through a buffer.
type bufferedFile struct {
	vfs.File
	w *bufio.Writer
}

func (f *bufferedFile) Write(p []byte) (int, error) { return f.w.Write(p) }

func (f *bufferedFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.w.Flush(); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *bufferedFile) Read(p []byte) (int, error) {
	if err := f.w.Flush(); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *bufferedFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.w.Flush(); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *bufferedFile) Stat() (vfs.FileInfo, error) {
	if err := f.w.Flush(); err != nil {
		return nil, err
	}
	return f.File.Stat()
}

func (f *bufferedFile) Sync() error {
	if err := f.w.Flush(); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *bufferedFile) SyncData() error {
	if err := f.w.Flush(); err != nil {
		return err
	}
	return f.File.SyncData()
}

func (f *bufferedFile) SyncTo(length int64) (bool, error) {
	if err := f.w.Flush(); err != nil {
		return false, err
	}
	return f.File.SyncTo(length)
}

func (f *bufferedFile) Close() error {
	err := f.w.Flush()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}
