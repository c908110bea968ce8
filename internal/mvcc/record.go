package mvcc

import (
	"encoding/binary"
	"errors"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// A version record is the value of a version entry:
//
//	flags (1 byte) | sub uvarint | create_revision uvarint | version uvarint |
//	lease varint | value bytes...
//
// The user key and mod_revision live in the entry's key. Tombstones carry
// only flags and sub.
const flagTombstone = 1

var errBadRecord = errors.New("mvcc: malformed version record")

// record is a decoded version record.
type record struct {
	tombstone bool
	sub       int64
	create    int64
	version   int64
	lease     int64
	value     []byte // aliases the engine's buffer until copied
}

func appendRecord(dst []byte, r *record) []byte {
	var flags byte
	if r.tombstone {
		flags |= flagTombstone
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(r.sub))
	if r.tombstone {
		return dst
	}
	dst = binary.AppendUvarint(dst, uint64(r.create))
	dst = binary.AppendUvarint(dst, uint64(r.version))
	dst = binary.AppendVarint(dst, r.lease)
	return append(dst, r.value...)
}

// decodeRecord decodes b into r; r.value aliases b.
func decodeRecord(b []byte, r *record) error {
	if len(b) < 2 {
		return errBadRecord
	}
	r.tombstone = b[0]&flagTombstone != 0
	b = b[1:]
	sub, n := binary.Uvarint(b)
	if n <= 0 {
		return errBadRecord
	}
	r.sub, b = int64(sub), b[n:]
	if r.tombstone {
		r.create, r.version, r.lease, r.value = 0, 0, 0, nil
		return nil
	}
	create, n := binary.Uvarint(b)
	if n <= 0 {
		return errBadRecord
	}
	b = b[n:]
	ver, n := binary.Uvarint(b)
	if n <= 0 {
		return errBadRecord
	}
	b = b[n:]
	lease, n := binary.Varint(b)
	if n <= 0 {
		return errBadRecord
	}
	r.create, r.version, r.lease, r.value = int64(create), int64(ver), lease, b[n:]
	return nil
}

// keyValue builds the wire KeyValue of a live version. withValue=false leaves
// Value empty (keys_only).
func (r *record) keyValue(key []byte, mod int64, withValue bool) *mvccpb.KeyValue {
	kv := &mvccpb.KeyValue{
		Key:            key,
		CreateRevision: r.create,
		ModRevision:    mod,
		Version:        r.version,
		Lease:          r.lease,
	}
	if withValue && len(r.value) > 0 {
		kv.Value = append([]byte(nil), r.value...)
	}
	return kv
}

// A change-log value is flags (1 byte) followed by the user key.
func appendChange(dst []byte, key []byte, tombstone bool) []byte {
	var flags byte
	if tombstone {
		flags = flagTombstone
	}
	return append(append(dst, flags), key...)
}

func decodeChange(b []byte) (key []byte, tombstone bool, err error) {
	if len(b) < 1 {
		return nil, false, errBadRecord
	}
	return b[1:], b[0]&flagTombstone != 0, nil
}
