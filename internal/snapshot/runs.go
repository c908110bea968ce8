package snapshot

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// A run is a file of sorted records, each a uvarint key length, the key, a
// uvarint value length and the value. Runs hold the batches of versions that
// arrive out of order until they are merged into the database.

// spill writes the sorted buffer to a new run file.
func (s *sorter) spill() (err error) {
	path := filepath.Join(s.dir, fmt.Sprintf("run-%06d", len(s.runs)))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := bufio.NewWriterSize(f, 256<<10)
	var hdr []byte
	for _, r := range s.buf {
		hdr = binary.AppendUvarint(hdr[:0], uint64(len(r.k)))
		w.Write(hdr)
		w.Write(r.k)
		hdr = binary.AppendUvarint(hdr[:0], uint64(len(r.v)))
		w.Write(hdr)
		w.Write(r.v)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	s.runs = append(s.runs, path)
	return nil
}

// runReader reads one run.
type runReader struct {
	f   *os.File
	r   *bufio.Reader
	cur record
}

// read loads the next record into cur; ok is false at the end of the run.
func (rr *runReader) read() (ok bool, err error) {
	field := func() ([]byte, error) {
		n, err := binary.ReadUvarint(rr.r)
		if err != nil {
			return nil, err
		}
		b := make([]byte, n)
		_, err = io.ReadFull(rr.r, b)
		return b, err
	}
	k, err := field()
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("snapshot: read %s: %w", rr.f.Name(), err)
	}
	v, err := field()
	if err != nil {
		return false, fmt.Errorf("snapshot: read %s: %w", rr.f.Name(), noEOF(err))
	}
	rr.cur = record{k, v}
	return true, nil
}

// noEOF turns an end of file inside a record into the error it is.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// merger yields the records of several runs in key order.
type merger struct {
	all []*runReader
	h   runHeap
}

func newMerger(paths []string) (*merger, error) {
	m := new(merger)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			m.close()
			return nil, err
		}
		rr := &runReader{f: f, r: bufio.NewReaderSize(f, 64<<10)}
		m.all = append(m.all, rr)
		ok, err := rr.read()
		if err != nil {
			m.close()
			return nil, err
		}
		if ok {
			m.h = append(m.h, rr)
		}
	}
	heap.Init(&m.h)
	return m, nil
}

// next returns the smallest record left; ok is false when none is.
func (m *merger) next() (r record, ok bool, err error) {
	if len(m.h) == 0 {
		return record{}, false, nil
	}
	rr := m.h[0]
	r = rr.cur
	more, err := rr.read()
	if err != nil {
		return record{}, false, err
	}
	if more {
		heap.Fix(&m.h, 0)
	} else {
		heap.Pop(&m.h)
	}
	return r, true, nil
}

func (m *merger) close() {
	for _, rr := range m.all {
		rr.f.Close()
	}
}

// runHeap orders run readers by their current key.
type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return bytes.Compare(h[i].cur.k, h[j].cur.k) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
