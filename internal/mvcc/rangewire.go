package mvcc

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/cairn-kv/cairn/internal/wirebuf"
)

// A range answered over gRPC is encoded by gRPC's codec right after it is
// built: the KeyValues are copied out of the engine into Go objects, then
// walked by reflection and copied again into the message. For a 1000-key
// range that was most of the member's work, and the objects were garbage a
// moment later. RangeWire instead encodes each KeyValue into the wire form
// as the scan meets it.

// Field numbers of RangeResponse.kvs and of KeyValue (rpc.proto, kv.proto).
const (
	rangeRespKvs protowire.Number = 2

	kvKey            protowire.Number = 1
	kvCreateRevision protowire.Number = 2
	kvModRevision    protowire.Number = 3
	kvVersion        protowire.Number = 4
	kvValue          protowire.Number = 5
	kvLease          protowire.Number = 6
)

// RangeWire is Range for a response that goes straight to a gRPC client.
// When the keys come out in scan order (sorted by key ascending or not at
// all, no revision filters) the KeyValues are encoded as they are found and
// carried as the response's unknown fields, exactly the bytes protobuf
// would write for its kvs field; the response's Kvs stays empty. Any other
// request is served as Range serves it. The client codec writes such a
// response in field order; WireKVCount counts its KeyValues. The encoded
// bytes are a wirebuf buffer, which the sender may return to the pool once
// sent.
func (s *Store) RangeWire(req *pb.RangeRequest) (*pb.RangeResponse, error) {
	s.restoreMu.RLock()
	defer s.restoreMu.RUnlock()
	v := s.readView()
	if !inScanOrder(req) {
		return v.rangeRequest(req)
	}
	return v.rangeWire(req)
}

// inScanOrder reports whether req's answer is the scan's keys in the order
// met: nothing to sort or filter.
func inScanOrder(req *pb.RangeRequest) bool {
	return inKeyOrder(req.SortOrder, req.SortTarget) && !revisionFiltered(req)
}

func (v *readView) rangeWire(req *pb.RangeRequest) (*pb.RangeResponse, error) {
	rev, err := v.resolveRev(req.Revision)
	if err != nil {
		return nil, err
	}
	var w kvWriter
	keep := func(s *scanner) error { return w.add(s, !req.KeysOnly) }
	if req.CountOnly {
		keep = nil
	}
	count, err := v.scan(req.Key, NormalizeRangeEnd(req.RangeEnd), rev, req.Limit, keep)
	if err != nil {
		return nil, err
	}
	resp := &pb.RangeResponse{
		Header: &pb.ResponseHeader{Revision: v.curRev},
		Count:  count,
		// A count-only answer returns no keys, so none are left over.
		More: !req.CountOnly && req.Limit > 0 && count > req.Limit,
	}
	if len(w.buf) > 0 {
		resp.ProtoReflect().SetUnknown(w.buf)
	}
	return resp, nil
}

// kvWriter appends KeyValues as RangeResponse.kvs fields.
type kvWriter struct {
	buf []byte
	key []byte // the current key, unescaped
}

// firstWireBuf is the first buffer's size: a few KeyValues of usual size.
const firstWireBuf = 4 << 10

func (w *kvWriter) add(s *scanner, withValue bool) error {
	key, err := appendUnescaped(w.key[:0], s.prefix[1:])
	if err != nil {
		return err
	}
	w.key = key
	var value []byte
	if withValue {
		value = s.rec.value
	}
	create, mod, version, lease := s.rec.create, s.mod, s.rec.version, s.rec.lease
	size := bytesFieldSize(key) + varintFieldSize(create) + varintFieldSize(mod) +
		varintFieldSize(version) + bytesFieldSize(value) + varintFieldSize(lease)
	if need := 1 + protowire.SizeBytes(size); cap(w.buf)-len(w.buf) < need {
		w.grow(need)
	}
	b := protowire.AppendTag(w.buf, rangeRespKvs, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	w.buf = appendKeyValue(b, key, value, create, mod, version, lease)
	return nil
}

// grow makes room for n more bytes in a buffer twice as large, from
// wirebuf: append grows a large slice by a quarter at a time, and fresh
// large allocations kept the runtime busy returning and faulting in pages.
func (w *kvWriter) grow(n int) {
	b := wirebuf.Pool{}.Get(max(firstWireBuf, 2*cap(w.buf), len(w.buf)+n))
	*b = append((*b)[:0], w.buf...)
	if old := w.buf; old != nil {
		// The pool keeps the pointer it is given: it must not be &w.buf,
		// which is about to hold the new buffer.
		wirebuf.Pool{}.Put(&old)
	}
	w.buf = *b
}

// appendKeyValue appends the fields of a KeyValue in number order, zero
// values left out: byte for byte what protobuf's marshaling writes.
func appendKeyValue(dst, key, value []byte, create, mod, version, lease int64) []byte {
	dst = appendBytesField(dst, kvKey, key)
	dst = appendVarintField(dst, kvCreateRevision, create)
	dst = appendVarintField(dst, kvModRevision, mod)
	dst = appendVarintField(dst, kvVersion, version)
	dst = appendBytesField(dst, kvValue, value)
	return appendVarintField(dst, kvLease, lease)
}

// The helpers follow proto3: a zero value is left out. Every field number
// here is below 16, so a tag is one byte.

func bytesFieldSize(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	return 1 + protowire.SizeBytes(len(b))
}

func varintFieldSize(v int64) int {
	if v == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(uint64(v))
}

// WireKVCount is how many KeyValues resp holds, whether built (Kvs) or
// encoded by RangeWire.
func WireKVCount(resp *pb.RangeResponse) int {
	if resp == nil {
		return 0
	}
	n := len(resp.Kvs)
	b := resp.ProtoReflect().GetUnknown()
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return n
		}
		m := protowire.ConsumeFieldValue(num, typ, b[l:])
		if m < 0 {
			return n
		}
		if num == rangeRespKvs {
			n++
		}
		b = b[l+m:]
	}
	return n
}
