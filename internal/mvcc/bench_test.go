package mvcc

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// BenchmarkPut measures one put per applied batch, the applier's unit of
// work, with 256-byte values over a growing key space.
func BenchmarkPut(b *testing.B) {
	s := newTestStore(b)
	val := make([]byte, 256)
	i := 0
	for b.Loop() {
		key := fmt.Appendf(nil, "/registry/pods/ns/pod-%08d", i%100000)
		if _, err := apply(b, s, func(wt *WriteTxn) (*pb.PutResponse, error) {
			return wt.Put(&pb.PutRequest{Key: key, Value: val})
		}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPutBatch100 measures puts applied 100 to a batch, as the applier
// groups the entries of one raft Ready.
func BenchmarkPutBatch100(b *testing.B) {
	s := newTestStore(b)
	val := make([]byte, 256)
	i := 0
	for b.Loop() {
		bt := s.db.NewIndexedBatch()
		wb := s.NewBatch(bt)
		for j := 0; j < 100; j++ {
			wt := wb.Txn()
			key := fmt.Appendf(nil, "/registry/pods/ns/pod-%08d", i%100000)
			if _, err := wt.Put(&pb.PutRequest{Key: key, Value: val}); err != nil {
				b.Fatal(err)
			}
			wt.End()
			i++
		}
		if err := wb.Finish(); err != nil {
			b.Fatal(err)
		}
		if err := bt.Commit(pebble.NoSync); err != nil {
			b.Fatal(err)
		}
		s.Publish(wb)
		bt.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/put")
}

// BenchmarkRangePrefix1000 reads a 1000-key prefix among 10000 keys, each
// with a few versions.
func BenchmarkRangePrefix1000(b *testing.B) {
	s := newTestStore(b)
	val := make([]byte, 256)
	for v := 0; v < 3; v++ {
		bt := s.db.NewIndexedBatch()
		wb := s.NewBatch(bt)
		for i := 0; i < 10000; i++ {
			wt := wb.Txn()
			key := fmt.Appendf(nil, "/registry/ns%02d/pod-%05d", i/1000, i)
			if _, err := wt.Put(&pb.PutRequest{Key: key, Value: val}); err != nil {
				b.Fatal(err)
			}
			wt.End()
		}
		_ = wb.Finish()
		_ = bt.Commit(pebble.NoSync)
		s.Publish(wb)
		bt.Close()
	}
	req := &pb.RangeRequest{Key: []byte("/registry/ns05/"), RangeEnd: []byte("/registry/ns050")}
	for b.Loop() {
		r, err := s.Range(req)
		if err != nil || len(r.Kvs) != 1000 {
			b.Fatalf("%v %d", err, len(r.Kvs))
		}
	}
}

// BenchmarkRangeCountOnly counts a 1000-key prefix.
func BenchmarkRangeCountOnly(b *testing.B) {
	s := newTestStore(b)
	bt := s.db.NewIndexedBatch()
	wb := s.NewBatch(bt)
	for i := 0; i < 10000; i++ {
		wt := wb.Txn()
		key := fmt.Appendf(nil, "/registry/ns%02d/pod-%05d", i/1000, i)
		_, _ = wt.Put(&pb.PutRequest{Key: key, Value: []byte("v")})
		wt.End()
	}
	_ = wb.Finish()
	_ = bt.Commit(pebble.NoSync)
	s.Publish(wb)
	bt.Close()
	req := &pb.RangeRequest{Key: []byte("/registry/ns05/"), RangeEnd: []byte("/registry/ns050"), CountOnly: true}
	for b.Loop() {
		if r, err := s.Range(req); err != nil || r.Count != 1000 {
			b.Fatal(err)
		}
	}
}
