package mvcc

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-kv/cairn/internal/storage"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// HashKV hashes the key-value history a reader can still see up to rev (0:
// the current revision): every version above the compaction revision, and
// for each key its newest version at or below it unless that is a deletion.
// That set does not depend on how far background compaction got, so members
// that applied the same log agree on it. It returns the hash, the
// compaction revision and the revision hashed.
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
	h := crc32.New(castagnoli)
	var prefix []byte
	keyDone := false
	var revBuf [8]byte
	var rec record
	for it.First(); it.Valid(); it.Next() {
		p, mod, err := splitVersionKey(it.Key())
		if err != nil {
			return 0, 0, 0, err
		}
		if !bytes.Equal(p, prefix) {
			prefix, keyDone = append(prefix[:0], p...), false
		}
		if keyDone || mod > rev {
			continue
		}
		v := it.Value()
		if mod <= compact {
			keyDone = true // only the newest version at or below it counts
			if err := decodeRecord(v, &rec); err != nil {
				return 0, 0, 0, err
			}
			if rec.tombstone {
				continue
			}
		}
		_, _ = h.Write(p)
		binary.BigEndian.PutUint64(revBuf[:], uint64(mod))
		_, _ = h.Write(revBuf[:])
		_, _ = h.Write(v)
	}
	if err := it.Error(); err != nil {
		return 0, 0, 0, err
	}
	return h.Sum32(), compact, rev, nil
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
