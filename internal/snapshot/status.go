package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"regexp"

	"google.golang.org/protobuf/encoding/protowire"
)

// Errors of HashKV, with the texts of etcd's mvcc package.
var (
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	ErrFutureRev = errors.New("mvcc: required revision is a future revision")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Status is what `etcdutl snapshot status` reports.
type Status struct {
	// Hash is a CRC-32C over every bucket in name order: the bucket's name,
	// then each key and value in key order.
	Hash uint32
	// Revision is the main revision of the last entry of the key bucket.
	Revision int64
	// TotalKey is the number of keys that exist at the last revision.
	TotalKey int
	// TotalSize is the database's size: its pages in use.
	TotalSize int64
	// Version is the storage version, or "" if the snapshot predates 3.6.
	Version string
}

// semver matches the versions etcd accepts as a storage version.
var semver = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// Status reads the whole database and computes its status as etcdutl does.
func (f *File) Status() (Status, error) {
	st := Status{TotalSize: f.db.Size()}
	h := crc32.New(castagnoli)
	live := make(map[string]bool)
	err := f.db.buckets(func(b bucketRef) error {
		h.Write([]byte(b.name))
		return f.db.forEach(b, func(k, v []byte, nested bool) error {
			h.Write(k)
			if !nested {
				// bbolt shows a nested bucket's value as nil.
				h.Write(v)
			}
			switch b.name {
			case string(bucketKey):
				main, _, tomb, err := parseRevKey(k)
				if err != nil {
					return fmt.Errorf("%w: %w", ErrCorrupt, err)
				}
				key, err := keyOf(v)
				if err != nil {
					return corruptf("revision %x: %v", k, err)
				}
				st.Revision = main
				live[string(key)] = !tomb
			case string(bucketMeta):
				if bytes.Equal(k, metaStorageVersion) && semver.Match(v) {
					st.Version = string(v)
				}
			}
			return nil
		})
	})
	if err != nil {
		return Status{}, err
	}
	for _, ok := range live {
		if ok {
			st.TotalKey++
		}
	}
	st.Hash = h.Sum32()
	return st, nil
}

// keyOf returns the key of an mvccpb.KeyValue (field 1) without decoding the
// rest of it.
func keyOf(v []byte) ([]byte, error) {
	var key []byte
	for len(v) > 0 {
		num, typ, n := protowire.ConsumeTag(v)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		v = v[n:]
		if num == 1 && typ == protowire.BytesType {
			key, n = protowire.ConsumeBytes(v)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, v)
		}
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		v = v[n:]
	}
	return key, nil
}

// HashKV is what `etcdutl hashkv` reports.
type HashKV struct {
	Hash            uint32
	HashRevision    int64
	CompactRevision int64
}

// revision is a main and sub revision.
type revision struct{ main, sub int64 }

// indexEntry is a key's latest revision in a replay of the key bucket.
type indexEntry struct {
	rev  revision
	tomb bool
}

// HashKV computes the hash of the key space at revision rev (0: the latest)
// as etcd computes it after loading this database: the Castagnoli CRC-32 of
// "key" followed by the key and value of every entry of the key bucket up to
// rev, leaving out the entries at or below the compaction revision that
// compaction would not keep, and a tombstone at the compaction revision
// itself (etcd releases differ on whether compaction removes it).
//
// The revisions compaction keeps are each key's latest one at rev, unless
// that is a deletion. As etcd does, the filter is dropped when no key has
// such a revision. A rev below the compaction revision is ErrCompacted and
// one past the latest revision is ErrFutureRev.
func (f *File) HashKV(rev int64) (HashKV, error) {
	compact, scheduled, err := f.compaction()
	if err != nil {
		return HashKV{}, err
	}

	// Replay the key bucket as etcd rebuilds its index: a deletion of a
	// key it has not seen, or of one already deleted, leaves no trace.
	cut := rev
	if rev <= 0 {
		cut = math.MaxInt64
	}
	current := int64(1)
	index := make(map[string]indexEntry)
	err = f.each(bucketKey, func(k, v []byte) error {
		main, sub, tomb, err := parseRevKey(k)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		current = main
		if main > cut {
			return nil
		}
		key, err := keyOf(v)
		if err != nil {
			return corruptf("revision %x: %v", k, err)
		}
		e, seen := index[string(key)]
		if tomb && (!seen || e.tomb) {
			return nil
		}
		index[string(key)] = indexEntry{rev: revision{main, sub}, tomb: tomb}
		return nil
	})
	if err != nil {
		return HashKV{}, err
	}
	// Loading also finishes an interrupted compaction.
	current = max(current, compact, scheduled)
	if scheduled != 0 && scheduled > compact {
		compact = scheduled
	}
	switch {
	case rev > 0 && rev < compact:
		return HashKV{}, ErrCompacted
	case rev > 0 && rev > current:
		return HashKV{}, ErrFutureRev
	case rev == 0:
		rev = current
	}

	keepAny := false
	keep := make(map[revision]bool)
	for _, e := range index {
		if !e.tomb {
			keepAny = true
			if e.rev.main <= compact {
				keep[e.rev] = true
			}
		}
	}

	h := crc32.New(castagnoli)
	h.Write(bucketKey)
	err = f.each(bucketKey, func(k, v []byte) error {
		main, sub, tomb, err := parseRevKey(k)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		switch {
		case main > rev:
		case main <= compact && keepAny && !keep[revision{main, sub}]:
		case main == compact && tomb:
		default:
			h.Write(k)
			h.Write(v)
		}
		return nil
	})
	if err != nil {
		return HashKV{}, err
	}
	return HashKV{Hash: h.Sum32(), HashRevision: rev, CompactRevision: compact}, nil
}

// compaction returns the finished compaction revision (-1 when there was
// none) and the scheduled one (0 when none).
func (f *File) compaction() (finished, scheduled int64, err error) {
	finished = -1
	err = f.each(bucketMeta, func(k, v []byte) error {
		var err error
		switch {
		case bytes.Equal(k, metaFinishedCompact):
			finished, err = parseCompactRev(v)
		case bytes.Equal(k, metaScheduledCompact):
			scheduled, err = parseCompactRev(v)
		}
		if err != nil {
			return fmt.Errorf("%w: meta %s: %w", ErrCorrupt, k, err)
		}
		return nil
	})
	return finished, scheduled, err
}
