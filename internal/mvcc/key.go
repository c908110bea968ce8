package mvcc

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/cairn-kv/cairn/internal/storage"
)

// Escaping: 0x00 in a user key becomes 0x00 0xFF, and the key ends with
// 0x00 0x01. For user keys a < b the escaped forms compare a' < b', and no
// escaped key is a prefix of another, so the revision suffix never disturbs
// the order of user keys.
const (
	escByte    = 0x00
	escEscaped = 0xFF
	escEnd     = 0x01
	revLen     = 8
)

var errBadKey = errors.New("mvcc: malformed stored key")

// appendEscaped appends the escaped, terminated form of key to dst.
func appendEscaped(dst, key []byte) []byte {
	for _, b := range key {
		if b == escByte {
			dst = append(dst, escByte, escEscaped)
			continue
		}
		dst = append(dst, b)
	}
	return append(dst, escByte, escEnd)
}

// versionPrefix is the common prefix of every version of key.
func versionPrefix(dst, key []byte) []byte {
	dst = append(dst, storage.PrefixKV)
	return appendEscaped(dst, key)
}

// versionKey is the engine key of key's version at main revision rev.
func versionKey(dst, key []byte, rev int64) []byte {
	dst = versionPrefix(dst, key)
	return binary.BigEndian.AppendUint64(dst, ^uint64(rev))
}

// rangeBound is the engine key below which every version of every user key
// smaller than key sorts: the escaped prefix of key itself.
func rangeBound(key []byte) []byte { return versionPrefix(nil, key) }

// kvSpaceEnd bounds the whole version space.
var kvSpaceEnd = storage.PrefixEnd(storage.PrefixKV)

// splitVersionKey returns the version prefix (user key part) and the main
// revision of an engine key in the version space.
func splitVersionKey(k []byte) (prefix []byte, rev int64, err error) {
	if len(k) < 1+2+revLen || k[0] != storage.PrefixKV {
		return nil, 0, errBadKey
	}
	n := len(k) - revLen
	return k[:n], int64(^binary.BigEndian.Uint64(k[n:])), nil
}

// decodeUserKey unescapes the user key held in a version prefix.
func decodeUserKey(prefix []byte) ([]byte, error) {
	if len(prefix) < 3 || prefix[0] != storage.PrefixKV {
		return nil, errBadKey
	}
	return unescape(prefix[1:])
}

// unescape reverses appendEscaped; the input must be exactly one escaped key.
func unescape(esc []byte) ([]byte, error) {
	if len(esc) < 2 {
		return nil, errBadKey
	}
	return appendUnescaped(make([]byte, 0, len(esc)-2), esc)
}

// appendUnescaped appends the key that esc (exactly one escaped key)
// encodes to dst. It copies the runs between escape bytes whole: most keys
// have no escape byte but their terminator.
func appendUnescaped(dst, esc []byte) ([]byte, error) {
	for {
		i := bytes.IndexByte(esc, escByte)
		if i < 0 || i+1 >= len(esc) {
			return nil, errBadKey
		}
		dst = append(dst, esc[:i]...)
		switch esc[i+1] {
		case escEscaped:
			dst = append(dst, escByte)
			esc = esc[i+2:]
		case escEnd:
			if i+2 != len(esc) {
				return nil, errBadKey
			}
			return dst, nil
		default:
			return nil, errBadKey
		}
	}
}

// nextPrefix returns the smallest engine key after every version of the user
// key whose version prefix is p: the terminator 0x00 0x01 becomes 0x00 0x02.
func nextPrefix(p []byte) []byte {
	out := append([]byte(nil), p...)
	out[len(out)-1]++
	return out
}
