package storage

import (
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Every write first looks up the key's newest version, and for a key never
// written before that lookup visits every level of the LSM to find nothing.
// Bloom filters make such misses cheap, but Pebble consults them only for
// prefix seeks, which need a Split that tells the user-key part of an
// engine key from its revision suffix. keyComparer orders keys bytewise,
// exactly like Pebble's default comparer, and adds that Split.

// comparerName is persisted in the engine's OPTIONS and MANIFEST: an engine
// is always reopened with the comparer it was created with.
const comparerName = "cairn.keys.v1"

// legacyComparerName is the comparer engines were created with before
// keyComparer existed; they keep it, without prefix seeks.
var legacyComparerName = pebble.DefaultComparer.Name

var keyComparer = func() *pebble.Comparer {
	c := *pebble.DefaultComparer
	c.Split = splitVersion
	c.Name = comparerName
	return &c
}()

// Version keys are PrefixKV, the user key with 0x00 escaped as 0x00 0xFF and
// terminated by 0x00 0x01, then an 8-byte revision (see internal/mvcc). The
// terminator makes the escaped user key self-delimiting, so comparing
// prefixes then suffixes orders keys exactly as comparing them whole does.
const (
	escByte = 0x00
	escEnd  = 0x01
)

// splitVersion returns the length of a version key's prefix: up to and
// including the escaped user key's terminator. Any other key (raft log,
// metadata, bounds) is all prefix.
func splitVersion(key []byte) int {
	if len(key) == 0 || key[0] != PrefixKV {
		return len(key)
	}
	for i := 1; i+1 < len(key); i++ {
		if key[i] != escByte {
			continue
		}
		if key[i+1] == escEnd {
			return i + 2
		}
		i++ // an escaped 0x00: skip its second byte
	}
	return len(key)
}

// PrefixSeekable reports whether the engine's comparer splits version keys,
// so that readers may use SeekPrefixGE (and its bloom filters) for one key.
func (e *Engine) PrefixSeekable() bool { return e.prefixSeek }

// chooseComparer returns the comparer for the engine in dir: keyComparer
// for a new engine, or the one an existing engine was created with.
func chooseComparer(dir string, fs vfs.FS) *pebble.Comparer {
	if fs == nil {
		fs = vfs.Default
	}
	desc, err := pebble.Peek(dir, fs)
	if err != nil || !desc.Exists || desc.OptionsFilename == "" {
		return keyComparer
	}
	if usesComparer(desc.OptionsFilename, fs, legacyComparerName) {
		return pebble.DefaultComparer
	}
	return keyComparer
}

// usesComparer reports whether the OPTIONS file names comparer name.
func usesComparer(path string, fs vfs.FS, name string) bool {
	f, err := fs.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false
	}
	buf := make([]byte, st.Size())
	if _, err := f.ReadAt(buf, 0); err != nil {
		return false
	}
	for _, line := range strings.Split(string(buf), "\n") {
		if strings.TrimSpace(line) == "comparer="+name {
			return true
		}
	}
	return false
}

// bloomFilters sets a bloom filter on every level of po.
func bloomFilters(po *pebble.Options) {
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
}
