package storage

import (
	"encoding/binary"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// versionKeyForTest builds a version key as internal/mvcc does.
func versionKeyForTest(user []byte, rev uint64) []byte {
	k := []byte{PrefixKV}
	for _, b := range user {
		if b == escByte {
			k = append(k, escByte, 0xFF)
			continue
		}
		k = append(k, b)
	}
	k = append(k, escByte, escEnd)
	return binary.BigEndian.AppendUint64(k, ^rev)
}

// Split's contract (see pebble.Split) over the keys the engine holds:
// version keys, their bounds and other keys. (pebble.CheckComparer asks
// more, that any prefix's tail be a valid prefix too, which only matters for
// synthetic-prefix ingestion, never used here.)
func TestKeyComparerIsConsistent(t *testing.T) {
	users := [][]byte{{}, {0}, {0, 0}, {0, 1}, {1}, []byte("a"), []byte("a\x00"), []byte("a\x00b"), []byte("ab"), {0xFF}, {0xFF, 0}}
	var keys [][]byte
	for _, u := range users {
		for _, rev := range []uint64{1, 2, 255, 256, 1 << 40} {
			keys = append(keys, versionKeyForTest(u, rev))
		}
		bound := versionKeyForTest(u, 0)
		bound = bound[:len(bound)-8]
		next := append([]byte(nil), bound...)
		next[len(next)-1]++ // as mvcc's nextPrefix bounds one key's versions
		keys = append(keys, bound, next)
	}
	keys = append(keys, []byte("r-raft\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01"), []byte{PrefixKV + 1}, []byte("a"))
	c := keyComparer
	for _, a := range keys {
		pa, sa := a[:c.Split(a)], a[c.Split(a):]
		if len(sa) > 0 && c.Compare(pa, a) >= 0 {
			t.Errorf("prefix of %x does not sort before it", a)
		}
		for _, b := range keys {
			pb, sb := b[:c.Split(b)], b[c.Split(b):]
			cmp, pcmp := c.Compare(a, b), c.Compare(pa, pb)
			if cmp <= 0 && pcmp > 0 || pcmp < 0 && cmp >= 0 {
				t.Errorf("order of %x, %x (%d) disagrees with their prefixes' (%d)", a, b, cmp, pcmp)
			}
			if pcmp == 0 && cmp != c.ComparePointSuffixes(sa, sb) {
				t.Errorf("order of %x, %x disagrees with their suffixes'", a, b)
			}
		}
	}
}

func TestSplitVersion(t *testing.T) {
	for _, u := range [][]byte{{}, {0}, {0, 1}, []byte("k\x00\x01x"), []byte("plain")} {
		k := versionKeyForTest(u, 7)
		if got, want := splitVersion(k), len(k)-8; got != want {
			t.Errorf("splitVersion(%q) = %d, want %d", k, got, want)
		}
		// A range bound (the prefix alone) is all prefix.
		if got := splitVersion(k[:len(k)-8]); got != len(k)-8 {
			t.Errorf("splitVersion(bound %q) = %d", k[:len(k)-8], got)
		}
	}
	for _, k := range [][]byte{nil, []byte("m-meta"), {PrefixKV}, {PrefixKV, 0}} {
		if got := splitVersion(k); got != len(k) {
			t.Errorf("splitVersion(%q) = %d, want whole key", k, got)
		}
	}
}

// An engine created before the key comparer existed keeps Pebble's default
// comparer: it opens, and readers do not use prefix seeks on it.
func TestLegacyEngineKeepsItsComparer(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, &pebble.Options{FormatMajorVersion: pebble.FormatNewest})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte("m-x"), []byte("v"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	e, err := Open(dir, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.PrefixSeekable() {
		t.Error("legacy engine reports prefix seeks")
	}
	v, closer, err := e.DB().Get([]byte("m-x"))
	if err != nil || string(v) != "v" {
		t.Fatalf("get = %q, %v", v, err)
	}
	closer.Close()
	e.Close()

	fresh, err := Open(t.TempDir(), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if !fresh.PrefixSeekable() {
		t.Error("new engine does not use the key comparer")
	}
}
