package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// This file reads a bbolt database file (format version 2) without bbolt.
// Everything read from the file is checked before it is used: page numbers
// against the high-water mark, element offsets against their page, the tree
// against cycles and keys against their order. Pages are read with ReadAt,
// one at a time, so memory does not grow with the file.
//
// The layout, all integers in the writer's byte order (little-endian on
// every platform etcd supports):
//
//	page header   id u64, flags u16, count u16, overflow u32 (16 bytes); a
//	              page and its overflow pages are one buffer
//	meta          in pages 0 and 1 after the header: magic u32, version u32,
//	              page size u32, flags u32, root bucket {root page u64,
//	              sequence u64}, freelist page u64, high-water page u64,
//	              txid u64, FNV-64a checksum of the preceding 56 bytes
//	branch elem   pos u32, key size u32, child page u64; the key is pos
//	              bytes after the element
//	leaf elem     flags u32, pos u32, key size u32, value size u32; key then
//	              value, pos bytes after the element
//	bucket value  root page u64, sequence u64; when root is 0 the bucket is
//	              inline and a leaf page (header and elements) follows

// Errors opening a database. The first three are bbolt's texts.
var (
	// ErrInvalid: the file is not a bbolt database.
	ErrInvalid = errors.New("invalid database")
	// ErrVersionMismatch: a bbolt database of another format version.
	ErrVersionMismatch = errors.New("version mismatch")
	// ErrChecksum: both meta pages fail their checksum.
	ErrChecksum = errors.New("checksum error")
	// ErrTruncated: the file ends before the database does.
	ErrTruncated = errors.New("snapshot file is truncated")
	// ErrCorrupt: the database's structure is damaged.
	ErrCorrupt = errors.New("snapshot file is corrupt")
)

const (
	pageHeaderSize   = 16
	elemSize         = 16
	bucketHeaderSize = 16
	metaSize         = 64
	metaChecksumAt   = 56

	boltMagic   = 0xED0CDAED
	boltVersion = 2

	pageBranch = 0x01
	pageLeaf   = 0x02

	leafBucket = 0x01

	// Page sizes tried when meta page 0 is damaged and cannot tell.
	minPageSize = 512
	maxPageSize = 1 << 16
)

var le = binary.LittleEndian

// boltMeta is the part of a meta page the reader uses.
type boltMeta struct {
	pageSize  int
	root      uint64
	highWater uint64
	txid      uint64
}

// boltDB is an open database file.
type boltDB struct {
	r         io.ReaderAt
	size      int64 // bytes that belong to the database (trailer excluded)
	pageSize  int
	highWater uint64 // pages in use; the database is highWater*pageSize bytes
	root      uint64 // root page of the bucket of buckets
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// openBolt reads the meta pages of the database in the first size bytes of
// r and picks the newer valid one, as bbolt does.
func openBolt(r io.ReaderAt, size int64) (*boltDB, error) {
	m0, err0 := readMeta(r, size, 0)
	var best *boltMeta
	if err0 == nil {
		best = &m0
	}
	// Meta page 1 is one page in; when meta 0 cannot give the page size,
	// try each size bbolt may have used.
	sizes := []int{m0.pageSize}
	if err0 != nil {
		sizes = sizes[:0]
		for ps := minPageSize; ps <= maxPageSize; ps *= 2 {
			sizes = append(sizes, ps)
		}
	}
	for _, ps := range sizes {
		m1, err := readMeta(r, size, int64(ps))
		if err != nil || m1.pageSize != ps {
			continue
		}
		if best == nil || m1.txid > best.txid {
			best = &m1
		}
		break
	}
	if best == nil {
		return nil, err0
	}
	db := &boltDB{r: r, size: size, pageSize: best.pageSize, highWater: best.highWater, root: best.root}
	if db.highWater < 3 || db.root < 2 || db.root >= db.highWater {
		return nil, corruptf("meta page: root page %d, high-water mark %d", db.root, db.highWater)
	}
	if have := uint64(size) / uint64(db.pageSize); have < db.highWater {
		return nil, fmt.Errorf("%w: the database needs %d bytes (%d pages of %d), the file holds %d",
			ErrTruncated, db.highWater*uint64(db.pageSize), db.highWater, db.pageSize, size)
	}
	return db, nil
}

// readMeta reads and validates the meta page at off.
func readMeta(r io.ReaderAt, size, off int64) (boltMeta, error) {
	if off+pageHeaderSize+metaSize > size {
		return boltMeta{}, ErrInvalid
	}
	var buf [metaSize]byte
	if _, err := r.ReadAt(buf[:], off+pageHeaderSize); err != nil {
		return boltMeta{}, err
	}
	if le.Uint32(buf[0:]) != boltMagic {
		return boltMeta{}, ErrInvalid
	}
	if le.Uint32(buf[4:]) != boltVersion {
		return boltMeta{}, ErrVersionMismatch
	}
	h := fnv.New64a()
	h.Write(buf[:metaChecksumAt])
	if h.Sum64() != le.Uint64(buf[metaChecksumAt:]) {
		return boltMeta{}, ErrChecksum
	}
	ps := int(le.Uint32(buf[8:]))
	if ps < minPageSize || ps > maxPageSize || ps&(ps-1) != 0 {
		return boltMeta{}, ErrInvalid
	}
	return boltMeta{
		pageSize:  ps,
		root:      le.Uint64(buf[16:]),
		highWater: le.Uint64(buf[40:]),
		txid:      le.Uint64(buf[48:]),
	}, nil
}

// Size is the database's size as bbolt reports it: the pages in use.
func (db *boltDB) Size() int64 { return int64(db.highWater) * int64(db.pageSize) }

// page is a tree page (with its overflow) or an inline bucket's page.
type page struct {
	id    uint64
	buf   []byte
	flags uint16
	count int
}

func parsePage(id uint64, buf []byte) (*page, error) {
	if len(buf) < pageHeaderSize {
		return nil, corruptf("page %d: %d bytes", id, len(buf))
	}
	p := &page{id: id, buf: buf, flags: le.Uint16(buf[8:]), count: int(le.Uint16(buf[10:]))}
	if p.flags != pageBranch && p.flags != pageLeaf {
		return nil, corruptf("page %d: flags %#x, want a branch or leaf page", id, p.flags)
	}
	if pageHeaderSize+p.count*elemSize > len(buf) {
		return nil, corruptf("page %d: %d elements overflow the page", id, p.count)
	}
	return p, nil
}

// readPage reads tree page id and its overflow pages.
func (db *boltDB) readPage(id uint64) (*page, error) {
	if id < 2 || id >= db.highWater {
		return nil, corruptf("page %d out of range [2, %d)", id, db.highWater)
	}
	off := int64(id) * int64(db.pageSize)
	var hdr [pageHeaderSize]byte
	if _, err := db.r.ReadAt(hdr[:], off); err != nil {
		return nil, fmt.Errorf("read page %d: %w", id, err)
	}
	if got := le.Uint64(hdr[:]); got != id {
		return nil, corruptf("page %d: header names page %d", id, got)
	}
	overflow := uint64(le.Uint32(hdr[12:]))
	if id+overflow >= db.highWater {
		return nil, corruptf("page %d: %d overflow pages pass the high-water mark %d", id, overflow, db.highWater)
	}
	buf := make([]byte, (1+overflow)*uint64(db.pageSize))
	if _, err := db.r.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("read page %d: %w", id, err)
	}
	return parsePage(id, buf)
}

// span returns n bytes at off of p's buffer, or an error if they pass its end.
func (p *page) span(off, n uint64) ([]byte, error) {
	if off > uint64(len(p.buf)) || n > uint64(len(p.buf))-off {
		return nil, corruptf("page %d: element data out of bounds", p.id)
	}
	return p.buf[off : off+n : off+n], nil
}

// branch returns the child page of branch element i.
func (p *page) branch(i int) uint64 {
	return le.Uint64(p.buf[pageHeaderSize+i*elemSize+8:])
}

// leaf returns leaf element i.
func (p *page) leaf(i int) (flags uint32, k, v []byte, err error) {
	e := pageHeaderSize + i*elemSize
	flags = le.Uint32(p.buf[e:])
	pos, ksize, vsize := uint64(le.Uint32(p.buf[e+4:])), uint64(le.Uint32(p.buf[e+8:])), uint64(le.Uint32(p.buf[e+12:]))
	kv, err := p.span(uint64(e)+pos, ksize+vsize)
	if err != nil {
		return 0, nil, nil, err
	}
	return flags, kv[:ksize:ksize], kv[ksize:], nil
}

// bucketRef locates a bucket's tree: a root page, or an inline page.
type bucketRef struct {
	name   string
	root   uint64
	inline *page
}

// parseBucketValue decodes the value of a bucket entry.
func parseBucketValue(name string, v []byte) (bucketRef, error) {
	if len(v) < bucketHeaderSize {
		return bucketRef{}, corruptf("bucket %q: %d-byte header", name, len(v))
	}
	ref := bucketRef{name: name, root: le.Uint64(v)}
	if ref.root != 0 {
		return ref, nil
	}
	p, err := parsePage(0, v[bucketHeaderSize:])
	if err != nil {
		return bucketRef{}, fmt.Errorf("inline bucket %q: %w", name, err)
	}
	if p.flags != pageLeaf {
		return bucketRef{}, corruptf("inline bucket %q is not a leaf page", name)
	}
	ref.inline = p
	return ref, nil
}

// errStop ends a forEach early without an error.
var errStop = errors.New("stop")

// frame is a page being walked and the next element to visit.
type frame struct {
	p *page
	i int
}

// forEach calls fn with every entry of the bucket, in key order; nested is
// set for an entry that is itself a bucket. Key and value stay valid after
// fn returns (every page is read into a buffer of its own).
func (db *boltDB) forEach(b bucketRef, fn func(k, v []byte, nested bool) error) error {
	// A page may appear once in a tree: a damaged file could link pages
	// into a cycle. One bit per page in use (256 KiB for an 8 GiB file).
	visited := make([]uint64, (db.highWater+63)/64)
	var stack []frame
	push := func(id uint64) error {
		if id < db.highWater && visited[id/64]&(1<<(id%64)) != 0 {
			return corruptf("bucket %q: page %d is reached twice", b.name, id)
		}
		p, err := db.readPage(id)
		if err != nil {
			return err
		}
		visited[id/64] |= 1 << (id % 64)
		stack = append(stack, frame{p: p})
		return nil
	}
	if b.inline != nil {
		stack = append(stack, frame{p: b.inline})
	} else if err := push(b.root); err != nil {
		return err
	}
	var prev []byte
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.i >= top.p.count {
			stack = stack[:len(stack)-1]
			continue
		}
		i := top.i
		top.i++
		if top.p.flags == pageBranch {
			if err := push(top.p.branch(i)); err != nil {
				return err
			}
			continue
		}
		flags, k, v, err := top.p.leaf(i)
		if err != nil {
			return err
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return corruptf("bucket %q: keys out of order on page %d", b.name, top.p.id)
		}
		prev = k
		if err := fn(k, v, flags&leafBucket != 0); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// buckets calls fn with each top-level bucket, in name order.
func (db *boltDB) buckets(fn func(b bucketRef) error) error {
	return db.forEach(bucketRef{name: "", root: db.root}, func(k, v []byte, nested bool) error {
		if !nested {
			return corruptf("top-level key %q is not a bucket", k)
		}
		ref, err := parseBucketValue(string(k), v)
		if err != nil {
			return err
		}
		return fn(ref)
	})
}

// bucket finds a top-level bucket; ok is false when there is none.
func (db *boltDB) bucket(name []byte) (ref bucketRef, ok bool, err error) {
	err = db.buckets(func(b bucketRef) error {
		if b.name == string(name) {
			ref, ok = b, true
			return errStop
		}
		return nil
	})
	return ref, ok, err
}
