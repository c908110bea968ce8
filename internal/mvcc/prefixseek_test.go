package mvcc

import (
	"fmt"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// Single-key reads through prefix seeks (bloom filters) return exactly what
// plain seeks return, for keys in the memtable and in tables, at every
// revision, for deleted keys, keys never written, and keys that are
// prefixes of one another or hold 0x00 bytes.
func TestPrefixSeekMatchesSeek(t *testing.T) {
	s := newTestStore(t)
	if !s.prefixSeek {
		t.Fatal("a new engine should support prefix seeks")
	}
	keys := []string{"a", "a\x00", "a\x00b", "a\x01", "ab", "b", "\x00", "\x00\x00", "\xff"}
	for round := 0; round < 3; round++ {
		for i, k := range keys {
			put(t, s, k, fmt.Sprintf("v%d-%d", round, i))
		}
		if _, err := apply(t, s, func(wt *WriteTxn) (*pb.DeleteRangeResponse, error) {
			return wt.DeleteRange(&pb.DeleteRangeRequest{Key: []byte(keys[round])})
		}); err != nil {
			t.Fatal(err)
		}
		if round == 1 {
			if err := s.db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		s.latest.reset()
	}
	probe := append(keys, "", "a\x00a", "aa", "c", "\x00\x01")
	cur := s.currentRev.Load()
	for rev := int64(0); rev <= cur; rev++ {
		for _, k := range probe {
			if k == "" {
				continue
			}
			req := &pb.RangeRequest{Key: []byte(k), Revision: rev}
			s.prefixSeek = true
			got, err1 := s.Range(req)
			s.prefixSeek = false
			want, err2 := s.Range(req)
			if (err1 == nil) != (err2 == nil) || (err1 == nil && !proto.Equal(got, want)) {
				t.Fatalf("key %q rev %d: prefix seek %v, %v; seek %v, %v", k, rev, got, err1, want, err2)
			}
		}
	}
	// And the writes' lookups: a put's previous value through either.
	s.latest.reset()
	s.prefixSeek = true
	r, err := apply(t, s, func(wt *WriteTxn) (*pb.PutResponse, error) {
		return wt.Put(&pb.PutRequest{Key: []byte("a\x01"), Value: []byte("new"), PrevKv: true})
	})
	if err != nil || r.PrevKv == nil || string(r.PrevKv.Value) != "v2-3" {
		t.Fatalf("put prev_kv = %v, %v", r.PrevKv, err)
	}
}
