package mvcc

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"hash/crc32"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/cairn-kv/cairn/internal/storage"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// HashKV hashes the key-value history up to rev (0: the current revision)
// exactly as etcd does, so that the hashes of Cairn and etcd members holding
// the same history agree. It returns the hash, the compaction revision and
// the revision hashed.
//
// The versions hashed are, as in etcd once its compaction finished: every
// version above the compaction revision, and each key's newest version at
// or below it when that is live and the key did not change after it. When
// no key is live at rev, etcd hashes every version its compaction kept:
// then the newest live version at or below the compaction revision counts
// for every key. The hash is a CRC-32C over the name of etcd's key bucket
// and then, in revision order, each version as etcd stores it
// (appendEtcdVersion).
//
// The store keeps versions in key order, so each version's CRC is taken as
// the scan meets it and the CRCs are combined in revision order afterwards:
// memory holds 24 bytes a version hashed, never the versions.
func (s *Store) HashKV(rev int64) (hash uint32, compactRev, hashRev int64, err error) {
	s.restoreMu.RLock()
	defer s.restoreMu.RUnlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{storage.PrefixKV}, UpperBound: kvSpaceEnd})
	if err != nil {
		return 0, 0, 0, err
	}
	defer it.Close()
	cur, compact := s.currentRev.Load(), s.compactRev.Load()
	if rev > cur {
		return 0, 0, 0, ErrFutureRev
	}
	if rev <= 0 {
		rev = cur
	}
	if rev < compact {
		return 0, 0, 0, ErrCompacted
	}
	parts, err := hashParts(it, rev, compact)
	if err != nil {
		return 0, 0, 0, err
	}
	slices.SortFunc(parts, func(a, b hashPart) int {
		return cmp.Or(cmp.Compare(a.main, b.main), cmp.Compare(a.sub, b.sub))
	})
	hash = crc32.Checksum(etcdKeyBucket, castagnoli)
	for _, p := range parts {
		hash = crcCombine(hash, p.crc, int(p.len))
	}
	return hash, compact, rev, nil
}

// etcdKeyBucket is the name of etcd's bucket of versions, which its hash
// starts with.
var etcdKeyBucket = []byte("key")

// hashPart is one hashed version: its revision, and the CRC and length of
// its etcd form.
type hashPart struct {
	main, sub int64
	crc, len  uint32
}

// hashParts scans the version space for the versions HashKV covers.
func hashParts(it *pebble.Iterator, rev, compact int64) ([]hashPart, error) {
	var parts, ifNoneLive []hashPart
	var prefix, key, buf []byte
	var rec record
	// Per key, newest version first: seen (its newest version at or below
	// rev was met), changed (a version above the compaction revision was),
	// done (its newest version at or below the compaction revision was).
	var seen, changed, done, anyLive bool
	for it.First(); it.Valid(); it.Next() {
		p, mod, err := splitVersionKey(it.Key())
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p, prefix) {
			prefix, seen, changed, done = append(prefix[:0], p...), false, false, false
			if key, err = appendUnescaped(key[:0], prefix[1:]); err != nil {
				return nil, err
			}
		}
		if done || mod > rev {
			continue
		}
		if err := decodeRecord(it.Value(), &rec); err != nil {
			return nil, err
		}
		if !seen {
			seen, anyLive = true, anyLive || !rec.tombstone
		}
		if mod <= compact {
			done = true
			if rec.tombstone {
				continue
			}
		}
		buf = appendEtcdVersion(buf[:0], key, mod, &rec)
		part := hashPart{main: mod, sub: rec.sub, crc: crc32.Checksum(buf, castagnoli), len: uint32(len(buf))}
		switch {
		case mod > compact:
			changed = true
			parts = append(parts, part)
		case changed:
			ifNoneLive = append(ifNoneLive, part)
		default:
			parts = append(parts, part)
		}
	}
	if !anyLive {
		parts = append(parts, ifNoneLive...)
	}
	return parts, it.Error()
}

// appendEtcdVersion appends a version as etcd's key bucket holds it: the key
// is the revision (main and sub big-endian around '_', with a trailing 't'
// for a deletion), the value the marshaled mvccpb.KeyValue, which for a
// deletion holds only the key. Fields go in number order and zero values
// are left out, byte for byte what protobuf's marshaling produces.
func appendEtcdVersion(dst, key []byte, mod int64, rec *record) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(mod))
	dst = append(dst, '_')
	dst = binary.BigEndian.AppendUint64(dst, uint64(rec.sub))
	if rec.tombstone {
		dst = append(dst, 't')
		return appendBytesField(dst, kvKey, key)
	}
	return appendKeyValue(dst, key, rec.value, rec.create, mod, rec.version, rec.lease)
}

func appendVarintField(dst []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.VarintType)
	return protowire.AppendVarint(dst, uint64(v))
}

func appendBytesField(dst []byte, num protowire.Number, b []byte) []byte {
	if len(b) == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, b)
}

// Hash hashes every state-machine key and value in the engine.
func (s *Store) Hash() (uint32, int64, error) {
	s.restoreMu.RLock()
	defer s.restoreMu.RUnlock()
	h := crc32.New(castagnoli)
	rev := s.currentRev.Load()
	for _, span := range storage.StateSpans() {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: span[0], UpperBound: span[1]})
		if err != nil {
			return 0, 0, err
		}
		for it.First(); it.Valid(); it.Next() {
			_, _ = h.Write(it.Key())
			_, _ = h.Write(it.Value())
		}
		if err := it.Close(); err != nil {
			return 0, 0, err
		}
	}
	return h.Sum32(), rev, nil
}
