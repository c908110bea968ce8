package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// A state snapshot is the replicated state machine as a byte stream, sent
// to a member too far behind to catch up from the raft log:
//
//	repeated: uvarint(len key) key uvarint(len value) value
//	end:      uvarint(0), then 8 bytes big-endian pair count and 4 bytes
//	          CRC-32C of everything up to and including the end marker
//
// Keys are never empty, so a zero length marks the end.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrBadStateSnapshot: a truncated or corrupted state snapshot.
var ErrBadStateSnapshot = errors.New("storage: corrupt state snapshot")

// WriteStateSnapshot writes every state-machine key of r to w.
func WriteStateSnapshot(w io.Writer, r pebble.Reader) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	crc := crc32.New(crcTable)
	out := io.MultiWriter(bw, crc)
	var count uint64
	var hdr []byte
	for _, span := range StateSpans() {
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: span[0], UpperBound: span[1]})
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return err
			}
			hdr = binary.AppendUvarint(hdr[:0], uint64(len(it.Key())))
			if _, err := out.Write(hdr); err != nil {
				it.Close()
				return err
			}
			if _, err := out.Write(it.Key()); err != nil {
				it.Close()
				return err
			}
			hdr = binary.AppendUvarint(hdr[:0], uint64(len(v)))
			if _, err := out.Write(hdr); err != nil {
				it.Close()
				return err
			}
			if _, err := out.Write(v); err != nil {
				it.Close()
				return err
			}
			count++
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	if _, err := out.Write(binary.AppendUvarint(nil, 0)); err != nil {
		return err
	}
	trailer := binary.BigEndian.AppendUint64(nil, count)
	trailer = binary.BigEndian.AppendUint32(trailer, crc.Sum32())
	if _, err := bw.Write(trailer); err != nil {
		return err
	}
	return bw.Flush()
}

// ReadStateSnapshot reads a state snapshot, calling fn for each pair, and
// verifies its count and checksum at the end. fn's arguments are only valid
// during the call.
func ReadStateSnapshot(r io.Reader, fn func(key, value []byte) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	crc := crc32.New(crcTable)
	tr := &teeByteReader{r: br, crc: crc}
	var count uint64
	var key, val []byte
	for {
		klen, err := binary.ReadUvarint(tr)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadStateSnapshot, err)
		}
		if klen == 0 {
			break
		}
		if key, err = readN(tr, key, klen); err != nil {
			return err
		}
		vlen, err := binary.ReadUvarint(tr)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadStateSnapshot, err)
		}
		if val, err = readN(tr, val, vlen); err != nil {
			return err
		}
		if !IsStateKey(key) {
			return fmt.Errorf("%w: key %q is not state", ErrBadStateSnapshot, key)
		}
		if err := fn(key, val); err != nil {
			return err
		}
		count++
	}
	sum := crc.Sum32()
	var trailer [12]byte
	if _, err := io.ReadFull(br, trailer[:]); err != nil {
		return fmt.Errorf("%w: missing trailer", ErrBadStateSnapshot)
	}
	if n := binary.BigEndian.Uint64(trailer[:8]); n != count {
		return fmt.Errorf("%w: %d pairs, trailer says %d", ErrBadStateSnapshot, count, n)
	}
	if c := binary.BigEndian.Uint32(trailer[8:]); c != sum {
		return fmt.Errorf("%w: checksum mismatch", ErrBadStateSnapshot)
	}
	return nil
}

// maxSnapshotField bounds one key or value, so a corrupt length cannot make
// the reader allocate without limit.
const maxSnapshotField = 1 << 30

func readN(r io.Reader, buf []byte, n uint64) ([]byte, error) {
	if n > maxSnapshotField {
		return nil, fmt.Errorf("%w: field of %d bytes", ErrBadStateSnapshot, n)
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadStateSnapshot, err)
	}
	return buf, nil
}

// teeByteReader feeds every byte read into the checksum.
type teeByteReader struct {
	r   *bufio.Reader
	crc io.Writer
	one [1]byte
}

func (t *teeByteReader) ReadByte() (byte, error) {
	b, err := t.r.ReadByte()
	if err == nil {
		t.one[0] = b
		_, _ = t.crc.Write(t.one[:])
	}
	return b, err
}

func (t *teeByteReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	_, _ = t.crc.Write(p[:n])
	return n, err
}

// installBatchBytes bounds each batch while installing a state snapshot.
const installBatchBytes = 16 << 20

// InstallState replaces the state machine in db with the snapshot read from
// r. It is not atomic: the caller records that an installation is pending
// (KeySnapshotPending) before, and clears it after, so a crash in between
// installs again on restart.
func InstallState(db *pebble.DB, r io.Reader) error {
	b := db.NewBatch()
	for _, span := range StateSpans() {
		if err := b.DeleteRange(span[0], span[1], nil); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	b.Close()
	b = db.NewBatch()
	err := ReadStateSnapshot(r, func(k, v []byte) error {
		if err := b.Set(k, v, nil); err != nil {
			return err
		}
		if b.Len() < installBatchBytes {
			return nil
		}
		if err := b.Commit(pebble.NoSync); err != nil {
			return err
		}
		b.Close()
		b = db.NewBatch()
		return nil
	})
	if err != nil {
		b.Close()
		return err
	}
	defer b.Close()
	return b.Commit(pebble.Sync)
}
