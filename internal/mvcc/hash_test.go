package mvcc

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// HashKV of the histories below, as etcd v3.6 answers it (the etcdctl
// goldens in internal/ctl/testdata/golden record the first four).
const (
	etcdHashEmpty      = 1084519789 // a new store, revision 1
	etcdHashAtRev5     = 2536253010
	etcdHashAtRev11    = 3290629399
	etcdHashCompacted6 = 814581597 // at revision 11 after a compaction at 6
)

func TestHashKVIsEtcds(t *testing.T) {
	s := newTestStore(t)
	checkHash(t, s, 0, etcdHashEmpty)
	put(t, s, "a", "1")               // 2
	put(t, s, "b", "2")               // 3
	put(t, s, "foo", "bar")           // 4
	put(t, s, "foo1", "bar1")         // 5
	put(t, s, "foo2", "bar 2")        // 6
	put(t, s, "foo", "bar2")          // 7
	put(t, s, "k\x01\n", "v\xff\t\"") // 8
	put(t, s, "zoo", "zv")            // 9
	del(t, s, "b", "")                // 10
	put(t, s, "b", "3")               // 11
	checkHash(t, s, 0, etcdHashAtRev11)
	checkHash(t, s, 5, etcdHashAtRev5)
	compactAt(t, s, 6)
	checkHash(t, s, 0, etcdHashCompacted6)
	if _, _, _, err := s.HashKV(5); err != ErrCompacted {
		t.Fatalf("hash below the compaction: %v", err)
	}
}

// When no key is live at the revision hashed, etcd hashes the versions its
// compaction kept at or below the compaction revision, changed since or not.
func TestHashKVWithNoLiveKeyIsEtcds(t *testing.T) {
	s := newTestStore(t)
	put(t, s, "x", "1") // 2
	put(t, s, "y", "2") // 3
	put(t, s, "x", "3") // 4
	compactAt(t, s, 4)
	del(t, s, "x", "") // 5
	del(t, s, "y", "") // 6
	checkHash(t, s, 0, 342740041)
	checkHash(t, s, 5, 3283954618)
	put(t, s, "z", "1") // 7
	compactAt(t, s, 7)
	checkHash(t, s, 0, 352988010)
	del(t, s, "z", "") // 8
	checkHash(t, s, 0, 196882475)
}

// Sub revisions, deletions inside a txn and leases take part in the hash.
func TestHashKVOfTxnsAndLeasesIsEtcds(t *testing.T) {
	s := newTestStore(t)
	s.SetLeases(anyLease{})
	const lease = 0x3ceea235a1064b04
	put(t, s, "c", "0")                                                    // 2
	if _, err := apply(t, s, func(wt *WriteTxn) (*pb.TxnResponse, error) { // 3
		return wt.Txn(&pb.TxnRequest{Success: []*pb.RequestOp{
			{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("a"), Value: []byte("1")}}},
			{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("b"), Value: []byte("2")}}},
			{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte("c")}}},
		}})
	}); err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"l", "v"}, {"a", "2"}} { // 4, 5
		if _, err := apply(t, s, func(wt *WriteTxn) (*pb.PutResponse, error) {
			return wt.Put(&pb.PutRequest{Key: []byte(kv[0]), Value: []byte(kv[1]), Lease: lease})
		}); err != nil {
			t.Fatal(err)
		}
	}
	checkHash(t, s, 0, 3458630125)
}

// anyLease is a lessor to which every lease exists.
type anyLease struct{}

func (anyLease) LeaseExists(int64) bool                    { return true }
func (anyLease) Attach(*pebble.Batch, int64, []byte) error { return nil }
func (anyLease) Detach(*pebble.Batch, int64, []byte) error { return nil }

func compactAt(t *testing.T, s *Store, rev int64) {
	t.Helper()
	if _, err := apply(t, s, func(wt *WriteTxn) (int, error) { return 0, wt.wb.Compact(rev) }); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitCompacted(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
}

func checkHash(t *testing.T, s *Store, rev int64, want uint32) {
	t.Helper()
	got, _, _, err := s.HashKV(rev)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("HashKV(%d) = %d, want etcd's %d", rev, got, want)
	}
}

// appendEtcdVersion's value must be what protobuf marshals.
func TestEtcdVersionIsMarshaledKeyValue(t *testing.T) {
	for _, tc := range []struct {
		mod int64
		rec record
	}{
		{7, record{sub: 2, create: 3, version: 4, lease: 0x1234567890, value: []byte("value")}},
		{1 << 40, record{sub: 0, create: 1 << 40, version: 1}},
		{9, record{sub: 130, tombstone: true}},
	} {
		key := []byte("some/key")
		got := appendEtcdVersion(nil, key, tc.mod, &tc.rec)
		revLen := 17
		kv := &mvccpb.KeyValue{Key: key}
		if tc.rec.tombstone {
			revLen = 18
		} else {
			kv = &mvccpb.KeyValue{Key: key, CreateRevision: tc.rec.create, ModRevision: tc.mod,
				Version: tc.rec.version, Value: tc.rec.value, Lease: tc.rec.lease}
		}
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(kv)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[revLen:]) != string(want) {
			t.Fatalf("%+v: value %x, want %x", tc.rec, got[revLen:], want)
		}
		rev := got[:revLen]
		if rev[8] != '_' || (tc.rec.tombstone && rev[17] != 't') {
			t.Fatalf("revision bytes %x", rev)
		}
	}
}
