package snapshot

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	bolt "go.etcd.io/bbolt"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// AlarmSource is implemented by a Source that has alarms to carry over, as
// etcd's snapshots carry its alarm bucket. It is optional.
type AlarmSource interface {
	Alarms() ([]*pb.AlarmMember, error)
}

// Writer writes snapshot files. The zero Writer is ready to use.
type Writer struct {
	// TempDir is where the database is built and sort runs spill; "" is
	// os.TempDir(). Its disk needs about twice the snapshot's size.
	TempDir string
	// BatchBytes bounds the versions held in memory at once, counted as
	// their encoded sizes, and the data of one bbolt transaction; 0 is 64 MiB.
	BatchBytes int
}

// Write writes a snapshot of src to w with a zero Writer.
func Write(w io.Writer, src Source) (sha [sha256.Size]byte, err error) {
	var wr Writer
	return wr.Write(w, src)
}

// Write builds an etcd backend database from src in a temporary file and
// streams it to w followed by its sha256, which it also returns: the bytes
// etcd's Maintenance.Snapshot RPC sends, and `etcdctl snapshot save` stores.
//
// Versions may come in any order. They are sorted in batches of BatchBytes;
// a batch that follows everything already in the database goes straight in,
// the others are spilled to sorted run files and merged at the end, so
// memory stays bounded and bbolt mostly appends. Two versions at one
// revision are an error.
func (wr *Writer) Write(w io.Writer, src Source) (sha [sha256.Size]byte, err error) {
	dir, err := os.MkdirTemp(wr.TempDir, "cairn-snapshot-")
	if err != nil {
		return sha, err
	}
	defer os.RemoveAll(dir)
	db, err := bolt.Open(filepath.Join(dir, "db"), 0o600, &bolt.Options{
		// As etcd: the free list is rebuilt on open instead of stored.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		// A temporary file: durability is not wanted.
		NoSync:     true,
		NoGrowSync: true,
	})
	if err != nil {
		return sha, err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()

	if err := db.Update(func(tx *bolt.Tx) error { return writeState(tx, src) }); err != nil {
		return sha, err
	}
	batch := wr.BatchBytes
	if batch <= 0 {
		batch = 64 << 20
	}
	s := &sorter{db: db, dir: dir, limit: batch}
	if err := src.Versions(s.add); err != nil {
		return sha, err
	}
	if err := s.finish(); err != nil {
		return sha, err
	}

	err = db.View(func(tx *bolt.Tx) error {
		h := sha256.New()
		out := &errWriter{w: w}
		if _, err := tx.WriteTo(io.MultiWriter(out, h)); err != nil {
			if out.err != nil {
				// bbolt flattens the error into text; give the caller
				// the writer's own (a cancelled stream, say).
				return out.err
			}
			return err
		}
		h.Sum(sha[:0])
		_, err := w.Write(sha[:])
		return err
	})
	return sha, err
}

// errWriter remembers the error of its writer.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// writeState creates etcd's buckets and fills all but the key bucket.
func writeState(tx *bolt.Tx, src Source) error {
	bs := make(map[string]*bolt.Bucket)
	for _, name := range allBuckets {
		b, err := tx.CreateBucket(name)
		if err != nil {
			return err
		}
		bs[string(name)] = b
	}
	put := func(bucket, k, v []byte) error {
		b := bs[string(bucket)]
		if b.Get(k) != nil {
			return fmt.Errorf("snapshot: duplicate %s entry %q", bucket, k)
		}
		return b.Put(k, v)
	}

	m, err := src.Meta()
	if err != nil {
		return err
	}
	if m == nil {
		m = new(Meta)
	}
	if err := writeMeta(m, put); err != nil {
		return err
	}

	leases, err := src.Leases()
	if err != nil {
		return err
	}
	for _, l := range leases {
		if err := put(bucketLease, uint64Bytes(uint64(l.ID)), marshalLease(l)); err != nil {
			return err
		}
	}

	members, removed, err := src.Members()
	if err != nil {
		return err
	}
	for _, mem := range members {
		v, err := marshalMember(mem)
		if err != nil {
			return err
		}
		if err := put(bucketMembers, memberKey(mem.ID), v); err != nil {
			return err
		}
	}
	for _, id := range removed {
		if err := put(bucketMembersRemoved, memberKey(id), removedValue); err != nil {
			return err
		}
	}

	a, err := src.Auth()
	if err != nil {
		return err
	}
	if err := writeAuth(a, put); err != nil {
		return err
	}

	if as, ok := src.(AlarmSource); ok {
		alarms, err := as.Alarms()
		if err != nil {
			return err
		}
		for _, al := range alarms {
			k, err := proto.MarshalOptions{Deterministic: true}.Marshal(al)
			if err != nil {
				return err
			}
			if len(k) == 0 {
				return errors.New("snapshot: an empty alarm")
			}
			if err := put(bucketAlarm, k, []byte{}); err != nil {
				return err
			}
		}
	}
	return nil
}

type putFunc func(bucket, k, v []byte) error

// writeMeta writes the meta and cluster entries etcd would have for m.
func writeMeta(m *Meta, put putFunc) error {
	entries := []struct {
		bucket, k, v []byte
		ok           bool
	}{
		{bucketMeta, metaConsistentIndex, uint64Bytes(m.ConsistentIndex), true},
		{bucketMeta, metaTerm, uint64Bytes(m.Term), true},
		{bucketMeta, metaScheduledCompact, appendRevKey(nil, m.ScheduledCompact, 0, false), m.ScheduledCompact > 0},
		{bucketMeta, metaFinishedCompact, appendRevKey(nil, m.FinishedCompact, 0, false), m.FinishedCompact > 0},
		{bucketMeta, metaConfState, m.ConfState, len(m.ConfState) > 0},
		{bucketMeta, metaStorageVersion, []byte(m.StorageVersion), m.StorageVersion != ""},
		{bucketCluster, clusterVersionKey, []byte(m.ClusterVersion), m.ClusterVersion != ""},
	}
	for _, e := range entries {
		if e.ok {
			if err := put(e.bucket, e.k, e.v); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeAuth writes the auth state; a nil one leaves the buckets empty. As in
// etcd, authEnabled is written only once auth has been turned on.
func writeAuth(a *Auth, put putFunc) error {
	if a == nil {
		return nil
	}
	if err := put(bucketAuth, authRevisionKey, uint64Bytes(a.Revision)); err != nil {
		return err
	}
	if a.Enabled {
		if err := put(bucketAuth, authEnabledKey, []byte{1}); err != nil {
			return err
		}
	}
	for _, u := range a.Users {
		if len(u.Name) == 0 {
			return errors.New("snapshot: a user without a name")
		}
		v, err := proto.MarshalOptions{Deterministic: true}.Marshal(u)
		if err != nil {
			return err
		}
		if err := put(bucketAuthUsers, u.Name, v); err != nil {
			return err
		}
	}
	for _, r := range a.Roles {
		if len(r.Name) == 0 {
			return errors.New("snapshot: a role without a name")
		}
		v, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
		if err != nil {
			return err
		}
		if err := put(bucketAuthRoles, r.Name, v); err != nil {
			return err
		}
	}
	return nil
}

// encodeVersion returns the key bucket entry for v.
func encodeVersion(v Version) (k, val []byte, err error) {
	if v.KV == nil || len(v.KV.Key) == 0 {
		return nil, nil, fmt.Errorf("snapshot: version %d_%d has no key", v.Main, v.Sub)
	}
	if v.Main <= 0 || v.Sub < 0 {
		return nil, nil, fmt.Errorf("snapshot: invalid revision %d_%d", v.Main, v.Sub)
	}
	kv := v.KV
	if v.Tombstone {
		// etcd records a deletion as the key alone.
		kv = &mvccpb.KeyValue{Key: v.KV.Key}
	}
	val, err = proto.MarshalOptions{Deterministic: true}.Marshal(kv)
	if err != nil {
		return nil, nil, err
	}
	return appendRevKey(make([]byte, 0, revKeyLen+1), v.Main, v.Sub, v.Tombstone), val, nil
}

// sameRevision reports whether two key bucket keys name one revision (one
// may be a tombstone).
func sameRevision(a, b []byte) bool {
	return len(a) >= revKeyLen && len(b) >= revKeyLen && bytes.Equal(a[:revKeyLen], b[:revKeyLen])
}

func duplicateRevision(k []byte) error {
	main, sub, _, _ := parseRevKey(k)
	return fmt.Errorf("snapshot: two versions at revision %d_%d", main, sub)
}

// fillPercent is how full bbolt packs key bucket pages, which are written
// in order: etcd's value for its sequential writes.
const fillPercent = 0.9

// record is one encoded key bucket entry.
type record struct{ k, v []byte }

// recordOverhead approximates a record's memory beyond its bytes.
const recordOverhead = 64

// sorter puts versions into the key bucket in sorted batches (see
// Writer.Write).
type sorter struct {
	db    *bolt.DB
	dir   string
	limit int

	buf   []record
	bytes int
	// last is the greatest key in the database, from direct batches.
	last []byte
	runs []string
}

func (s *sorter) add(v Version) error {
	k, val, err := encodeVersion(v)
	if err != nil {
		return err
	}
	s.buf = append(s.buf, record{k, val})
	s.bytes += len(k) + len(val) + recordOverhead
	if s.bytes >= s.limit {
		return s.flush()
	}
	return nil
}

// flush sorts the buffer and puts it in the database, or in a run file when
// it does not follow the database's content.
func (s *sorter) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	slices.SortFunc(s.buf, func(a, b record) int { return bytes.Compare(a.k, b.k) })
	for i := 1; i < len(s.buf); i++ {
		if sameRevision(s.buf[i-1].k, s.buf[i].k) {
			return duplicateRevision(s.buf[i].k)
		}
	}
	var err error
	if s.last == nil || (bytes.Compare(s.buf[0].k, s.last) > 0 && !sameRevision(s.buf[0].k, s.last)) {
		err = s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketKey)
			b.FillPercent = fillPercent
			for _, r := range s.buf {
				if err := b.Put(r.k, r.v); err != nil {
					return err
				}
			}
			return nil
		})
		s.last = s.buf[len(s.buf)-1].k
	} else {
		err = s.spill()
	}
	clear(s.buf)
	s.buf, s.bytes = s.buf[:0], 0
	return err
}

// finish flushes the buffer and merges the runs into the database.
func (s *sorter) finish() error {
	if err := s.flush(); err != nil {
		return err
	}
	if len(s.runs) == 0 {
		return nil
	}
	m, err := newMerger(s.runs)
	if err != nil {
		return err
	}
	defer m.close()
	var prev []byte
	for done := false; !done; {
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketKey)
			b.FillPercent = fillPercent
			for n := 0; n < s.limit; {
				r, ok, err := m.next()
				if err != nil {
					return err
				}
				if !ok {
					done = true
					return nil
				}
				if prev != nil && sameRevision(prev, r.k) {
					return duplicateRevision(r.k)
				}
				prev = r.k
				// The direct batches may hold this revision, either way.
				other := append(bytes.Clone(r.k[:revKeyLen]), tombstoneMark)
				if b.Get(r.k[:revKeyLen]) != nil || b.Get(other) != nil {
					return duplicateRevision(r.k)
				}
				if err := b.Put(r.k, r.v); err != nil {
					return err
				}
				n += len(r.k) + len(r.v) + recordOverhead
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
