package mvcc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// modelStore is the obvious in-memory model of etcd's revision rules: the
// full history of every key.
type modelStore struct {
	rev     int64
	history map[string][]*mvccpb.KeyValue // versions in revision order; Version 0 = deleted
}

func (m *modelStore) latest(k string, rev int64) *mvccpb.KeyValue {
	var out *mvccpb.KeyValue
	for _, kv := range m.history[k] {
		if kv.ModRevision <= rev {
			out = kv
		}
	}
	if out == nil || out.Version == 0 {
		return nil
	}
	return out
}

func (m *modelStore) put(k, v string) {
	m.rev++
	kv := &mvccpb.KeyValue{Key: []byte(k), Value: []byte(v), ModRevision: m.rev, CreateRevision: m.rev, Version: 1}
	if prev := m.latest(k, m.rev); prev != nil {
		kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
	}
	m.history[k] = append(m.history[k], kv)
}

func (m *modelStore) del(start, end string) int {
	var keys []string
	for k := range m.history {
		if k >= start && k < end && m.latest(k, m.rev) != nil {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return 0
	}
	m.rev++
	for _, k := range keys {
		m.history[k] = append(m.history[k], &mvccpb.KeyValue{Key: []byte(k), ModRevision: m.rev})
	}
	return len(keys)
}

func (m *modelStore) rangeAt(start, end string, rev int64) []*mvccpb.KeyValue {
	var out []*mvccpb.KeyValue
	for k := range m.history {
		if k >= start && k < end {
			if kv := m.latest(k, rev); kv != nil {
				out = append(out, kv)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out
}

// TestStoreMatchesModel runs random puts, deletes and compactions and checks
// that every range at every retained revision matches the model.
func TestStoreMatchesModel(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			testModel(t, seed)
		})
	}
}

func testModel(t *testing.T, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, seed))
	s := newTestStore(t)
	m := &modelStore{rev: 1, history: map[string][]*mvccpb.KeyValue{}}
	keys := []string{"", "\x00", "\x00\x00", "a", "a\x00", "a\x00b", "ab", "b", "ba", "\xff", "\xff\xff", "c"}
	key := func() string { return keys[1+rnd.IntN(len(keys)-1)] }
	var compacted int64
	for i := 0; i < 400; i++ {
		switch op := rnd.IntN(10); {
		case op < 6:
			k, v := key(), fmt.Sprint(i)
			put(t, s, k, v)
			m.put(k, v)
		case op == 8:
			k := key()
			got := del(t, s, k, "")
			if want := m.del(k, k+"\x00"); got.Deleted != int64(want) {
				t.Fatalf("step %d: delete %q deleted %d, want %d", i, k, got.Deleted, want)
			}
		case op < 8:
			a, b := key(), key()
			if a > b {
				a, b = b, a
			}
			got := del(t, s, a, b)
			modelEnd := b
			if b == "\x00" {
				modelEnd = "\xff\xff\xff\xff" // every key from a on
			}
			if want := m.del(a, modelEnd); got.Deleted != int64(want) {
				t.Fatalf("step %d: delete [%q,%q) deleted %d, want %d", i, a, b, got.Deleted, want)
			}
		default:
			if m.rev > compacted+1 {
				c := compacted + 1 + rnd.Int64N(m.rev-compacted)
				if _, err := apply(t, s, func(wt *WriteTxn) (int, error) { return 0, wt.wb.Compact(c) }); err != nil {
					t.Fatalf("compact %d: %v", c, err)
				}
				compacted = c
			}
		}
		if s.Rev() != m.rev {
			t.Fatalf("step %d: rev %d, model %d", i, s.Rev(), m.rev)
		}
		checkRandomRange(t, rnd, s, m, keys, compacted)
	}
}

func checkRandomRange(t *testing.T, rnd *rand.Rand, s *Store, m *modelStore, keys []string, compacted int64) {
	t.Helper()
	a, b := keys[1+rnd.IntN(len(keys)-1)], keys[rnd.IntN(len(keys))]
	end := []byte(b)
	modelEnd := b
	if b == "" || b == "\x00" {
		// A range end of "\x00" means every key from a on.
		end, modelEnd = []byte{0}, "\xff\xff\xff\xff"
	}
	rev := max(compacted, 1) + rnd.Int64N(m.rev-max(compacted, 1)+1)
	limit := rnd.Int64N(4)
	req := &pb.RangeRequest{Key: []byte(a), RangeEnd: end, Revision: rev, Limit: limit}
	got, err := s.Range(req)
	if err != nil {
		t.Fatalf("range %q..%q@%d: %v", a, b, rev, err)
	}
	want := m.rangeAt(a, modelEnd, rev)
	if got.Count != int64(len(want)) {
		t.Fatalf("range %q..%q@%d: count %d, want %d", a, b, rev, got.Count, len(want))
	}
	if limit > 0 && int64(len(want)) > limit {
		want = want[:limit]
		if !got.More {
			t.Fatalf("range %q..%q@%d limit %d: more not set", a, b, rev, limit)
		}
	}
	if len(got.Kvs) != len(want) {
		t.Fatalf("range %q..%q@%d: %d kvs, want %d", a, b, rev, len(got.Kvs), len(want))
	}
	for i := range want {
		g, w := got.Kvs[i], want[i]
		if !bytes.Equal(g.Key, w.Key) || !bytes.Equal(g.Value, w.Value) || g.ModRevision != w.ModRevision ||
			g.CreateRevision != w.CreateRevision || g.Version != w.Version {
			t.Fatalf("range %q..%q@%d kv %d: got %v want %v", a, b, rev, i, g, w)
		}
	}
}
