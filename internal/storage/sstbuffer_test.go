package storage

import (
	"bytes"
	"io"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// countingFS counts the writes that reach the files below it.
type countingFS struct {
	vfs.FS
	writes *int
}

func (fs countingFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	return countingFile{File: f, writes: fs.writes}, err
}

type countingFile struct {
	vfs.File
	writes *int
}

func (f countingFile) Write(p []byte) (int, error) {
	*f.writes++
	return f.File.Write(p)
}

func TestSSTBufferFSBuffersTablesOnly(t *testing.T) {
	mem := vfs.NewMem()
	var writes int
	fs := sstBufferFS{countingFS{FS: mem, writes: &writes}}
	block := bytes.Repeat([]byte{7}, 4096)

	tbl, err := fs.Create("000001.sst", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := tbl.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	if writes != 0 {
		t.Errorf("%d writes reached the table file before a sync", writes)
	}
	// A stat or a read sees everything written so far.
	if st, err := tbl.Stat(); err != nil || st.Size() != 10*4096 {
		t.Fatalf("stat: size %v, err %v; want %d", st, err, 10*4096)
	}
	got := make([]byte, 4096)
	if _, err := tbl.ReadAt(got, 9*4096); err != nil || !bytes.Equal(got, block) {
		t.Fatalf("read back the last block: err %v", err)
	}
	if _, err := tbl.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Close(); err != nil {
		t.Fatal(err)
	}
	if writes > 3 {
		t.Errorf("%d writes for 10 blocks, want them gathered", writes)
	}
	f, err := mem.Open("000001.sst")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(f)
	f.Close()
	if len(data) != 10*4096+4 || string(data[len(data)-4:]) != "tail" {
		t.Errorf("file holds %d bytes, want %d ending in the last write", len(data), 10*4096+4)
	}

	// The write-ahead log and every other file are written through.
	writes = 0
	wal, err := fs.Create("000002.log", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	defer wal.Close()
	if _, err := wal.Write(block); err != nil {
		t.Fatal(err)
	}
	if writes != 1 {
		t.Errorf("a log write reached the file %d times, want at once", writes)
	}
}

func TestSSTBufferFSCloseWritesTheRest(t *testing.T) {
	mem := vfs.NewMem()
	fs := sstBufferFS{mem}
	tbl, err := fs.Create("000003.sst", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Write([]byte("unsynced")); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := mem.Stat("000003.sst")
	if err != nil || st.Size() != int64(len("unsynced")) {
		t.Errorf("after close: %v, %v", st, err)
	}
}
