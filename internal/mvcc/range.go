package mvcc

import (
	"bytes"
	"sort"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// readView is a consistent view to range over: the engine (or a batch that
// holds a transaction's own writes), the revision it reads at by default and
// the compaction revision below which history is gone.
type readView struct {
	r      pebble.Reader
	curRev int64
	// compactRev reports the compaction revision now. It is consulted again
	// after the scan's iterator exists: a compaction published before that
	// point may already have deleted versions the read needs.
	compactRev func() int64
	// prefixSeek: single-key reads may use prefix seeks (storage's
	// Engine.PrefixSeekable).
	prefixSeek bool
}

// NormalizeRangeEnd applies etcd's range_end conventions: a single 0x00 byte
// means "every key from key on", returned as an empty non-nil slice; an
// empty range_end means the single key (nil).
func NormalizeRangeEnd(end []byte) []byte {
	if len(end) == 1 && end[0] == 0 {
		return []byte{}
	}
	if len(end) == 0 {
		return nil
	}
	return end
}

// resolveRev turns a requested revision into the one to read at.
func (v *readView) resolveRev(rev int64) (int64, error) {
	if rev > v.curRev {
		return 0, ErrFutureRev
	}
	if rev <= 0 {
		rev = v.curRev
	}
	if rev < v.compactRev() {
		return 0, ErrCompacted
	}
	return rev, nil
}

// rangeResult is what a scan found: the kvs it kept and the number of live
// keys in the range at the read revision.
type rangeResult struct {
	kvs   []*mvccpb.KeyValue
	count int64
}

// scanKVs collects up to limit (0 = all) live keys of [key, end) at rev and
// counts all of them. countOnly skips building KeyValues.
func (v *readView) scanKVs(key, end []byte, rev int64, limit int64, countOnly, keysOnly bool) (rangeResult, error) {
	var res rangeResult
	alloc := newKVAlloc(limit)
	keep := func(s *scanner) error {
		kv, err := alloc.keyValue(s, !keysOnly)
		if err == nil {
			res.kvs = append(res.kvs, kv)
		}
		return err
	}
	if countOnly {
		keep = nil
	}
	var err error
	res.count, err = v.scan(key, end, rev, limit, keep)
	return res, err
}

// scan walks the live keys of [key, end) at rev, hands the first limit of
// them (0 = all) to keep, if not nil, and returns how many there are.
func (v *readView) scan(key, end []byte, rev int64, limit int64, keep func(*scanner) error) (int64, error) {
	s, err := newScanner(v.r, key, end, rev, v.prefixSeek)
	if err != nil {
		return 0, err
	}
	defer s.close()
	if rev < v.compactRev() {
		return 0, ErrCompacted
	}
	var count int64
	for {
		ok, err := s.next()
		if err != nil || !ok {
			return count, err
		}
		count++
		if keep == nil || (limit > 0 && count > limit) {
			continue
		}
		if err := keep(s); err != nil {
			return count, err
		}
	}
}

// kvAlloc hands out the KeyValues of one range and their key and value
// bytes from a few larger allocations instead of three small ones per key:
// a 1000-key range otherwise spends much of its time allocating and in the
// collector. Chunks stay small enough that a response kept alive by a
// single KeyValue pins little else.
type kvAlloc struct {
	kvs   []mvccpb.KeyValue
	bytes []byte
	// next sizes of the KeyValue and byte chunks; they double up to a cap.
	nextKVs, nextBytes int
}

const (
	kvChunkMax    = 256
	bytesChunkMax = 64 << 10
	// ownAllocMin: byte strings at least this long get their own
	// allocation instead of a share of a chunk.
	ownAllocMin = 4 << 10
)

func newKVAlloc(limit int64) kvAlloc {
	a := kvAlloc{nextKVs: 8, nextBytes: 4 << 10}
	if limit > 0 && limit < kvChunkMax {
		a.nextKVs = int(limit)
	}
	return a
}

// keyValue builds the scanner's current version as a wire KeyValue;
// withValue=false leaves Value empty (keys_only).
func (a *kvAlloc) keyValue(s *scanner, withValue bool) (*mvccpb.KeyValue, error) {
	if len(a.kvs) == 0 {
		a.kvs = make([]mvccpb.KeyValue, a.nextKVs)
		a.nextKVs = min(2*a.nextKVs, kvChunkMax)
	}
	kv := &a.kvs[0]
	a.kvs = a.kvs[1:]
	// The version prefix is a tag byte, the escaped key and a two-byte
	// terminator: the key is at most that long minus three.
	key, err := appendUnescaped(a.take(len(s.prefix)-3), s.prefix[1:])
	if err != nil {
		return nil, err
	}
	kv.Key = key
	kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease = s.rec.create, s.mod, s.rec.version, s.rec.lease
	if withValue && len(s.rec.value) > 0 {
		kv.Value = append(a.take(len(s.rec.value)), s.rec.value...)
	}
	return kv, nil
}

// take returns an empty slice with capacity n: a share of the current
// chunk, capped so that appending past n reallocates instead of running
// into the next share; large byte strings get their own allocation.
func (a *kvAlloc) take(n int) []byte {
	if n <= 0 {
		return nil
	}
	if n >= ownAllocMin {
		return make([]byte, 0, n)
	}
	if cap(a.bytes)-len(a.bytes) < n {
		a.bytes = make([]byte, 0, a.nextBytes)
		a.nextBytes = min(2*a.nextBytes, bytesChunkMax)
	}
	at := len(a.bytes)
	a.bytes = a.bytes[:at+n]
	return a.bytes[at : at : at+n]
}

// rangeRequest executes a RangeRequest with etcd's exact semantics; the
// response header carries only the revision.
func (v *readView) rangeRequest(req *pb.RangeRequest) (*pb.RangeResponse, error) {
	rev, err := v.resolveRev(req.Revision)
	if err != nil {
		return nil, err
	}
	filtered := revisionFiltered(req)
	// Sorting and filtering need every key; otherwise fetch one more than
	// the limit so that "more" is known.
	limit := req.Limit
	if req.SortOrder != pb.RangeRequest_NONE || filtered {
		limit = 0
	}
	if limit > 0 {
		limit++
	}
	// Values are dropped for keys_only after sorting, as etcd does: a sort
	// by value still sees them.
	sortByValue := req.SortTarget == pb.RangeRequest_VALUE
	res, err := v.scanKVs(req.Key, NormalizeRangeEnd(req.RangeEnd), rev, limit, req.CountOnly, req.KeysOnly && !sortByValue)
	if err != nil {
		return nil, err
	}
	kvs := res.kvs
	if filtered {
		kvs = filterKVs(kvs, req)
	}
	sortKVs(kvs, req.SortOrder, req.SortTarget)
	if req.KeysOnly && sortByValue {
		for _, kv := range kvs {
			kv.Value = nil
		}
	}
	resp := &pb.RangeResponse{Header: &pb.ResponseHeader{Revision: v.curRev}, Count: res.count}
	if req.Limit > 0 && int64(len(kvs)) > req.Limit {
		kvs = kvs[:req.Limit]
		resp.More = true
	}
	resp.Kvs = kvs
	return resp, nil
}

// revisionFiltered reports whether req keeps only keys whose mod or create
// revision is within bounds.
func revisionFiltered(req *pb.RangeRequest) bool {
	return req.MinModRevision != 0 || req.MaxModRevision != 0 ||
		req.MinCreateRevision != 0 || req.MaxCreateRevision != 0
}

func filterKVs(kvs []*mvccpb.KeyValue, req *pb.RangeRequest) []*mvccpb.KeyValue {
	out := kvs[:0]
	for _, kv := range kvs {
		if req.MinModRevision != 0 && kv.ModRevision < req.MinModRevision {
			continue
		}
		if req.MaxModRevision != 0 && kv.ModRevision > req.MaxModRevision {
			continue
		}
		if req.MinCreateRevision != 0 && kv.CreateRevision < req.MinCreateRevision {
			continue
		}
		if req.MaxCreateRevision != 0 && kv.CreateRevision > req.MaxCreateRevision {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// inKeyOrder reports whether a sort by order and target is the scan's key
// order: by key, ascending or unsorted.
func inKeyOrder(order pb.RangeRequest_SortOrder, target pb.RangeRequest_SortTarget) bool {
	return target == pb.RangeRequest_KEY && (order == pb.RangeRequest_NONE || order == pb.RangeRequest_ASCEND)
}

// sortKVs sorts in place. A non-key target with order NONE sorts ascending;
// key order with NONE or ASCEND is the scan order already. Ties keep key
// order.
func sortKVs(kvs []*mvccpb.KeyValue, order pb.RangeRequest_SortOrder, target pb.RangeRequest_SortTarget) {
	if inKeyOrder(order, target) {
		return
	}
	if order == pb.RangeRequest_NONE {
		order = pb.RangeRequest_ASCEND
	}
	var less func(a, b *mvccpb.KeyValue) bool
	switch target {
	case pb.RangeRequest_KEY:
		less = func(a, b *mvccpb.KeyValue) bool { return bytes.Compare(a.Key, b.Key) < 0 }
	case pb.RangeRequest_VERSION:
		less = func(a, b *mvccpb.KeyValue) bool { return a.Version < b.Version }
	case pb.RangeRequest_CREATE:
		less = func(a, b *mvccpb.KeyValue) bool { return a.CreateRevision < b.CreateRevision }
	case pb.RangeRequest_MOD:
		less = func(a, b *mvccpb.KeyValue) bool { return a.ModRevision < b.ModRevision }
	case pb.RangeRequest_VALUE:
		less = func(a, b *mvccpb.KeyValue) bool { return bytes.Compare(a.Value, b.Value) < 0 }
	default:
		return
	}
	if order == pb.RangeRequest_DESCEND {
		sort.SliceStable(kvs, func(i, j int) bool { return less(kvs[j], kvs[i]) })
		return
	}
	sort.SliceStable(kvs, func(i, j int) bool { return less(kvs[i], kvs[j]) })
}
