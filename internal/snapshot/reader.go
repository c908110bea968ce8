package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// Errors checking a snapshot file's trailer; the texts are etcdutl's.
var (
	// ErrMissingHash: the file has no sha256 trailer (it is a copy of a
	// member's db file, or truncated) and the check was not skipped.
	ErrMissingHash = errors.New("snapshot missing hash but --skip-hash-check=false")
	// ErrHashMismatch is wrapped by *HashMismatchError.
	ErrHashMismatch = errors.New("snapshot hash mismatch")
	// ErrNotEtcd: a bbolt database without etcd's buckets.
	ErrNotEtcd = errors.New("not an etcd snapshot")
)

// hashSize is the length of the trailer, a sha256 of the database bytes.
const hashSize = sha256.Size

// HashMismatchError reports a trailer that is not the sha256 of the
// database bytes before it.
type HashMismatchError struct {
	// Want is the trailer, Got the hash of the file's database bytes.
	Want, Got [hashSize]byte
}

// Error prints both hashes as etcdutl does, as lists of byte values.
func (e *HashMismatchError) Error() string {
	return fmt.Sprintf("expected sha256 %v, got %v", e.Want[:], e.Got[:])
}

// Unwrap makes errors.Is(err, ErrHashMismatch) hold.
func (e *HashMismatchError) Unwrap() error { return ErrHashMismatch }

// File is an open snapshot file. Its methods read the file afresh on each
// call and may be called concurrently.
type File struct {
	c       io.Closer
	db      *boltDB
	hasHash bool
}

// Open opens the snapshot file at path. A file that ends with a sha256
// trailer (size%512 == 32) must match it, and one without a trailer is
// refused, unless skipHashCheck is set; either way the trailer is not part
// of the database. Open then checks the database's meta pages, that the file
// holds all of the database, and that it has etcd's key and meta buckets.
func Open(path string, skipHashCheck bool) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		err = fmt.Errorf("%s is a directory: %w", path, ErrInvalid)
	}
	var sf *File
	if err == nil {
		sf, err = open(f, st.Size(), skipHashCheck)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	sf.c = f
	return sf, nil
}

// open reads a snapshot file of size bytes from r.
func open(r io.ReaderAt, size int64, skipHashCheck bool) (*File, error) {
	hasHash := size%512 == hashSize
	if hasHash {
		size -= hashSize
		if !skipHashCheck {
			if err := checkHash(r, size); err != nil {
				return nil, err
			}
		}
	} else if !skipHashCheck {
		return nil, ErrMissingHash
	}
	db, err := openBolt(r, size)
	if err != nil {
		return nil, err
	}
	for _, name := range [][]byte{bucketKey, bucketMeta} {
		if _, ok, err := db.bucket(name); err != nil {
			return nil, err
		} else if !ok {
			return nil, fmt.Errorf("%w: the database has no %q bucket", ErrNotEtcd, name)
		}
	}
	return &File{c: io.NopCloser(nil), db: db, hasHash: hasHash}, nil
}

// checkHash compares the sha256 of the first size bytes of r with the
// trailer that follows them.
func checkHash(r io.ReaderAt, size int64) error {
	var e HashMismatchError
	if _, err := r.ReadAt(e.Want[:], size); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, size)); err != nil {
		return err
	}
	h.Sum(e.Got[:0])
	if e.Got != e.Want {
		return &e
	}
	return nil
}

// Close closes the file.
func (f *File) Close() error { return f.c.Close() }

// HasHash reports whether the file ends with a sha256 trailer, as files from
// the Snapshot RPC do.
func (f *File) HasHash() bool { return f.hasHash }

// each calls fn with every entry of the named bucket; a missing bucket is
// empty. Entries that are buckets themselves do not belong in etcd's layout.
func (f *File) each(name []byte, fn func(k, v []byte) error) error {
	ref, ok, err := f.db.bucket(name)
	if err != nil || !ok {
		return err
	}
	return f.db.forEach(ref, func(k, v []byte, nested bool) error {
		if nested {
			return corruptf("bucket %q holds a nested bucket %q", name, k)
		}
		return fn(k, v)
	})
}

// Versions calls fn with every version in the key bucket, in revision order,
// and stops at the first error fn returns, returning it.
func (f *File) Versions(fn func(Version) error) error {
	var fnErr error
	err := f.each(bucketKey, func(k, v []byte) error {
		main, sub, tomb, err := parseRevKey(k)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		kv := new(mvccpb.KeyValue)
		if err := proto.Unmarshal(v, kv); err != nil {
			return corruptf("revision %d_%d: %v", main, sub, err)
		}
		if err := fn(Version{Main: main, Sub: sub, Tombstone: tomb, KV: kv}); err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// Leases returns the leases in ID order (as unsigned big-endian keys sort).
func (f *File) Leases() ([]Lease, error) {
	var ls []Lease
	err := f.each(bucketLease, func(k, v []byte) error {
		if len(k) != 8 {
			return corruptf("lease key %x", k)
		}
		l, err := unmarshalLease(v)
		if err != nil {
			return corruptf("lease %x: %v", k, err)
		}
		if l.ID == 0 {
			// A lease record always carries its ID; fall back on the key.
			l.ID = int64(binary.BigEndian.Uint64(k))
		}
		ls = append(ls, l)
		return nil
	})
	return ls, err
}

// Members returns the members and the IDs of removed members, each in the
// order of their hex keys.
func (f *File) Members() (members []Member, removed []uint64, err error) {
	err = f.each(bucketMembers, func(k, v []byte) error {
		id, err := parseMemberKey(k)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		m, err := unmarshalMember(v)
		if err != nil {
			return corruptf("member %s: %v", k, err)
		}
		if m.ID != id {
			return corruptf("member %s holds ID %x", k, m.ID)
		}
		members = append(members, m)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	err = f.each(bucketMembersRemoved, func(k, _ []byte) error {
		id, err := parseMemberKey(k)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		removed = append(removed, id)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return members, removed, nil
}

// Auth returns the auth state, users and roles in name order.
func (f *File) Auth() (*Auth, error) {
	a := new(Auth)
	err := f.each(bucketAuth, func(k, v []byte) error {
		switch {
		case bytes.Equal(k, authEnabledKey):
			a.Enabled = len(v) == 1 && v[0] == 1
		case bytes.Equal(k, authRevisionKey):
			rev, err := parseUint64(string(k), v)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			a.Revision = rev
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = f.each(bucketAuthUsers, func(k, v []byte) error {
		u := new(authpb.User)
		if err := proto.Unmarshal(v, u); err != nil {
			return corruptf("user %q: %v", k, err)
		}
		a.Users = append(a.Users, u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = f.each(bucketAuthRoles, func(k, v []byte) error {
		r := new(authpb.Role)
		if err := proto.Unmarshal(v, r); err != nil {
			return corruptf("role %q: %v", k, err)
		}
		a.Roles = append(a.Roles, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Meta returns the backend's bookkeeping. Absent entries are zero.
func (f *File) Meta() (*Meta, error) {
	m := new(Meta)
	err := f.each(bucketMeta, func(k, v []byte) error {
		var err error
		switch {
		case bytes.Equal(k, metaConsistentIndex):
			m.ConsistentIndex, err = parseUint64(string(k), v)
		case bytes.Equal(k, metaTerm):
			m.Term, err = parseUint64(string(k), v)
		case bytes.Equal(k, metaScheduledCompact):
			m.ScheduledCompact, err = parseCompactRev(v)
		case bytes.Equal(k, metaFinishedCompact):
			m.FinishedCompact, err = parseCompactRev(v)
		case bytes.Equal(k, metaConfState):
			m.ConfState = bytes.Clone(v)
		case bytes.Equal(k, metaStorageVersion):
			m.StorageVersion = string(v)
		}
		if err != nil {
			return fmt.Errorf("%w: meta %s: %w", ErrCorrupt, k, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = f.each(bucketCluster, func(k, v []byte) error {
		if bytes.Equal(k, clusterVersionKey) {
			m.ClusterVersion = string(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Alarms returns the alarms raised when the snapshot was taken.
func (f *File) Alarms() ([]*pb.AlarmMember, error) {
	var as []*pb.AlarmMember
	err := f.each(bucketAlarm, func(k, _ []byte) error {
		a := new(pb.AlarmMember)
		if err := proto.Unmarshal(k, a); err != nil {
			return corruptf("alarm %x: %v", k, err)
		}
		as = append(as, a)
		return nil
	})
	return as, err
}
