package mvcc

import (
	"encoding/binary"

	"github.com/cairn-kv/cairn/internal/storage"
)

// Revision identifies one change: the main revision of its transaction and
// its position (sub) inside it.
type Revision struct {
	Main int64
	Sub  int64
}

// GreaterThan orders revisions by main, then sub.
func (r Revision) GreaterThan(o Revision) bool {
	if r.Main != o.Main {
		return r.Main > o.Main
	}
	return r.Sub > o.Sub
}

const revLogKeyLen = 1 + 16

// revLogKey is the change-log key of r.
func revLogKey(r Revision) []byte {
	k := make([]byte, revLogKeyLen)
	k[0] = storage.PrefixRevLog
	binary.BigEndian.PutUint64(k[1:], uint64(r.Main))
	binary.BigEndian.PutUint64(k[9:], uint64(r.Sub))
	return k
}

// decodeRevLogKey is the inverse of revLogKey.
func decodeRevLogKey(k []byte) (Revision, bool) {
	if len(k) != revLogKeyLen || k[0] != storage.PrefixRevLog {
		return Revision{}, false
	}
	return Revision{
		Main: int64(binary.BigEndian.Uint64(k[1:])),
		Sub:  int64(binary.BigEndian.Uint64(k[9:])),
	}, true
}

// revLogStart is the first change-log key of main revision main.
func revLogStart(main int64) []byte { return revLogKey(Revision{Main: main}) }
