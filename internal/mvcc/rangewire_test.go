package mvcc

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// TestRangeWireEqualsRange checks that RangeWire answers every request as
// Range does once its wire form is decoded, and that the KeyValues it
// encodes are the bytes protobuf writes for them.
func TestRangeWireEqualsRange(t *testing.T) {
	s := newTestStore(t)
	s.SetLeases(anyLease{})
	for i := range 20 {
		var lease int64
		if i%3 == 0 {
			lease = int64(1000 + i)
		}
		value := fmt.Sprintf("v%d", i)
		if i%5 == 0 {
			value = "" // an empty value is left out of the encoding
		}
		key := fmt.Sprintf("k%02d", i)
		if i == 7 {
			key = "k07\x00\x01" // a key holding the escape bytes
		}
		if _, err := apply(t, s, func(wt *WriteTxn) (*pb.PutResponse, error) {
			return wt.Put(&pb.PutRequest{Key: []byte(key), Value: []byte(value), Lease: lease})
		}); err != nil {
			t.Fatal(err)
		}
	}
	put(t, s, "k03", "again") // version 2
	del(t, s, "k04", "")
	midRev := put(t, s, "k05", "x").Header.Revision
	put(t, s, "k06", "later")

	all := []byte("k")
	end := []byte("l")
	reqs := map[string]*pb.RangeRequest{
		"one key":       {Key: []byte("k03")},
		"missing key":   {Key: []byte("nope")},
		"prefix":        {Key: all, RangeEnd: end},
		"from key":      {Key: all, RangeEnd: []byte{0}},
		"limit":         {Key: all, RangeEnd: end, Limit: 5},
		"limit all":     {Key: all, RangeEnd: end, Limit: 100},
		"limit exact":   {Key: all, RangeEnd: end, Limit: 19},
		"keys only":     {Key: all, RangeEnd: end, KeysOnly: true},
		"count only":    {Key: all, RangeEnd: end, CountOnly: true},
		"count limited": {Key: all, RangeEnd: end, CountOnly: true, Limit: 2},
		"old revision":  {Key: all, RangeEnd: end, Revision: midRev},
		"sort key asc":  {Key: all, RangeEnd: end, SortTarget: pb.RangeRequest_KEY, SortOrder: pb.RangeRequest_ASCEND, Limit: 3},
		"sort key desc": {Key: all, RangeEnd: end, SortOrder: pb.RangeRequest_DESCEND, Limit: 3},
		"sort value":    {Key: all, RangeEnd: end, SortTarget: pb.RangeRequest_VALUE},
		"filtered":      {Key: all, RangeEnd: end, MinModRevision: midRev},
		"empty range":   {Key: end, RangeEnd: all},
	}
	for name, req := range reqs {
		t.Run(name, func(t *testing.T) {
			want, err := s.Range(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.RangeWire(req)
			if err != nil {
				t.Fatal(err)
			}
			if n := WireKVCount(got); n != len(want.Kvs) {
				t.Errorf("WireKVCount = %d, want %d", n, len(want.Kvs))
			}
			encoded, err := proto.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			decoded := &pb.RangeResponse{}
			if err := proto.Unmarshal(encoded, decoded); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(decoded, want) {
				t.Fatalf("decoded wire range:\n%v\nwant:\n%v", decoded, want)
			}
			// The encoded KeyValues are protobuf's own bytes: marshaling
			// Range's answer with only its kvs gives them.
			if len(got.Kvs) == 0 {
				kvsOnly, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.RangeResponse{Kvs: want.Kvs})
				if err != nil {
					t.Fatal(err)
				}
				if string(got.ProtoReflect().GetUnknown()) != string(kvsOnly) {
					t.Error("encoded KeyValues differ from protobuf's encoding")
				}
			}
		})
	}
}

func TestRangeWireErrors(t *testing.T) {
	s := newTestStore(t)
	for i := range 5 {
		put(t, s, fmt.Sprintf("k%d", i), "v")
	}
	if _, err := s.RangeWire(&pb.RangeRequest{Key: []byte("k"), Revision: 100}); err != ErrFutureRev {
		t.Errorf("future revision: err = %v, want %v", err, ErrFutureRev)
	}
	if _, err := apply(t, s, func(wt *WriteTxn) (int, error) { return 0, wt.wb.Compact(4) }); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitCompacted(context.Background(), 4); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RangeWire(&pb.RangeRequest{Key: []byte("k"), Revision: 2}); err != ErrCompacted {
		t.Errorf("compacted revision: err = %v, want %v", err, ErrCompacted)
	}
}

func TestWireKVCountOfBuiltResponse(t *testing.T) {
	if n := WireKVCount(nil); n != 0 {
		t.Errorf("nil response: %d", n)
	}
	resp := &pb.RangeResponse{Kvs: make([]*mvccpb.KeyValue, 3)}
	if n := WireKVCount(resp); n != 3 {
		t.Errorf("built response: %d, want 3", n)
	}
}

// TestRangeWireResponsesDoNotShareBuffers: a response's encoded KeyValues
// stay its own while later ranges run, until the sender returns them to the
// pool. Ranges large enough to grow their buffer several times put the
// outgrown ones back as they go.
func TestRangeWireResponsesDoNotShareBuffers(t *testing.T) {
	s := newTestStore(t)
	for p := range 2 {
		keys := make([][]byte, 200)
		for i := range keys {
			keys[i] = fmt.Appendf(nil, "p%d/%03d", p, i)
		}
		putBatch(t, s, bytes.Repeat([]byte{byte('a' + p)}, 200), keys...)
	}
	first, err := s.RangeWire(&pb.RangeRequest{Key: []byte("p0/"), RangeEnd: []byte("p0/\xff")})
	if err != nil {
		t.Fatal(err)
	}
	kept := bytes.Clone(first.ProtoReflect().GetUnknown())
	for range 20 {
		if _, err := s.RangeWire(&pb.RangeRequest{Key: []byte("p1/"), RangeEnd: []byte("p1/\xff")}); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(first.ProtoReflect().GetUnknown(), kept) {
		t.Fatal("a later range wrote into an earlier response's KeyValues")
	}
}
