package mvcc

import (
	"bytes"

	"github.com/cockroachdb/pebble/v2"
)

// scanner walks the user keys of [start, end) that are live at revision rev,
// in key order, yielding each key's newest version at or below rev.
type scanner struct {
	it     *pebble.Iterator
	rev    int64
	single bool // start is one key, not a range

	// Valid after next returns true.
	prefix []byte // version prefix of the current user key (owned copy)
	mod    int64  // mod revision of the current version
	rec    record // decoded version; rec.value aliases the iterator

	skip    bool // the iterator still sits on a version of prefix
	seekBuf []byte
}

// newScanner opens a scan over r. end == nil reads the single key start;
// an empty non-nil end reads every key >= start.
func newScanner(r pebble.Reader, start, end []byte, rev int64, prefixSeek bool) (*scanner, error) {
	lower := rangeBound(start)
	var upper []byte
	switch {
	case end == nil:
		upper = nextPrefix(lower)
	case len(end) == 0:
		upper = kvSpaceEnd
	default:
		upper = rangeBound(end)
	}
	// For one key, the bottom level's filters are worth reading too: a
	// write's lookup of a key never written before misses every level.
	single := end == nil
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper, UseL6Filters: single && prefixSeek})
	if err != nil {
		return nil, err
	}
	s := &scanner{it: it, rev: rev, single: single}
	if bytes.Compare(lower, upper) >= 0 {
		return s, nil // empty range: the iterator stays unpositioned
	}
	switch {
	case s.single && prefixSeek:
		// A prefix seek skips, by their bloom filters, the tables that
		// do not hold the key: most of them, and all for a new key.
		it.SeekPrefixGE(versionKey(nil, start, rev))
	case s.single:
		it.SeekGE(versionKey(nil, start, rev))
	default:
		it.First()
	}
	return s, nil
}

func (s *scanner) close() error { return s.it.Close() }

// next advances to the next live user key. It returns false at the end of
// the range or on error (see err).
func (s *scanner) next() (bool, error) {
	if s.skip {
		s.skipVersions()
	}
	for s.it.Valid() {
		prefix, mod, err := splitVersionKey(s.it.Key())
		if err != nil {
			return false, err
		}
		if mod > s.rev {
			// Newer than the read revision: jump to this key's newest
			// version at or below it, if there is one.
			// The seek key is built in s.seekBuf: prefix aliases the
			// iterator's buffer, which the seek overwrites.
			s.seekBuf = append(append(s.seekBuf[:0], prefix...), make([]byte, revLen)...)
			n := len(s.seekBuf) - revLen
			putInverted(s.seekBuf[n:], s.rev)
			if !s.it.SeekGE(s.seekBuf) {
				return false, s.it.Error()
			}
			p2, mod2, err := splitVersionKey(s.it.Key())
			if err != nil {
				return false, err
			}
			if !bytes.Equal(p2, s.seekBuf[:n]) {
				continue // no version at or below rev; now on the next key
			}
			prefix, mod = p2, mod2
		}
		if err := decodeRecord(s.it.Value(), &s.rec); err != nil {
			return false, err
		}
		s.prefix = append(s.prefix[:0], prefix...)
		s.mod = mod
		if s.rec.tombstone {
			s.skipVersions()
			continue
		}
		s.skip = true
		return true, nil
	}
	return false, s.it.Error()
}

// skipVersions moves the iterator past every remaining version of s.prefix.
func (s *scanner) skipVersions() {
	s.skip = false
	nextUserKey(s.it, s.prefix)
}

// nextUserKey moves it past every remaining version of the user key whose
// version prefix is prefix (which must not alias the iterator's key) and
// reports whether it is still valid. A few Next calls are cheaper than a
// seek when keys have few versions.
func nextUserKey(it *pebble.Iterator, prefix []byte) bool {
	for i := 0; i < 3; i++ {
		if !it.Next() {
			return false
		}
		p, _, err := splitVersionKey(it.Key())
		if err != nil || !bytes.Equal(p, prefix) {
			return true // an error shows when the caller splits the key
		}
	}
	return it.SeekGE(nextPrefix(prefix))
}

func putInverted(dst []byte, rev int64) {
	v := ^uint64(rev)
	for i := 7; i >= 0; i-- {
		dst[i] = byte(v)
		v >>= 8
	}
}
