package raftnode

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// BenchmarkLogStoreAppend appends 32 entries of 300 bytes without a sync,
// as a busy leader's Ready does, and reads them back as committed entries.
func BenchmarkLogStoreAppend(b *testing.B) {
	eng := openTestEngine(b, b.TempDir())
	defer eng.Close()
	ls, err := OpenLogStore(eng.DB())
	if err != nil {
		b.Fatal(err)
	}
	const batch = 32
	data := make([]byte, 300)
	next := uint64(1)
	for b.Loop() {
		es := make([]*raftpb.Entry, batch)
		for i := range es {
			es[i] = &raftpb.Entry{Term: proto.Uint64(1), Index: proto.Uint64(next + uint64(i)), Type: raftpb.EntryNormal.Enum(), Data: data}
		}
		if err := ls.Append(nil, es, false); err != nil {
			b.Fatal(err)
		}
		if got, err := ls.Entries(next, next+batch, 1<<20); err != nil || len(got) != batch {
			b.Fatalf("Entries: %d entries, error %v", len(got), err)
		}
		next += batch
	}
}
