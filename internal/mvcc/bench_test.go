package mvcc

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/wirebuf"
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
	keys := make([][]byte, 100)
	for b.Loop() {
		for j := range keys {
			keys[j] = fmt.Appendf(nil, "/registry/pods/ns/pod-%08d", i%100000)
			i++
		}
		putBatch(b, s, val, keys...)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/put")
}

// BenchmarkPutNewKeysBatch100 measures puts of keys never written before
// (the lookup of the newest version finds nothing), 100 to a batch, on a
// store already holding 200,000 keys.
func BenchmarkPutNewKeysBatch100(b *testing.B) {
	s := newTestStore(b)
	val := make([]byte, 256)
	keys := make([][]byte, 100)
	putBatches := func(from, n int) {
		for i := from; i < from+n; i += 100 {
			for j := range keys {
				// Spread consecutive keys over the key space, as clients do.
				keys[j] = fmt.Appendf(nil, "/registry/pods/ns/pod-%010d", uint64(i+j)*2654435761%(1<<32))
			}
			putBatch(b, s, val, keys...)
		}
	}
	putBatches(0, 200000)
	next := 200000
	b.ResetTimer()
	for b.Loop() {
		putBatches(next, 100)
		next += 100
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(next-200000), "ns/put")
}

// BenchmarkRangePrefix1000 reads a 1000-key prefix among 10000 keys, each
// with a few versions.
func BenchmarkRangePrefix1000(b *testing.B) {
	s, req := rangePrefix1000Store(b)
	for b.Loop() {
		r, err := s.Range(req)
		if err != nil || len(r.Kvs) != 1000 {
			b.Fatalf("%v %d", err, len(r.Kvs))
		}
	}
}

// BenchmarkRangePrefix1000Encoded takes the same range to its wire form, as
// answering it over gRPC does: built as objects, then marshaled; or encoded
// as scanned (RangeWire), the codec then sending the buffer as it is and
// returning it to the pool.
func BenchmarkRangePrefix1000Encoded(b *testing.B) {
	s, req := rangePrefix1000Store(b)
	b.Run("objects", func(b *testing.B) {
		for b.Loop() {
			r, err := s.Range(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := proto.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wire", func(b *testing.B) {
		for b.Loop() {
			r, err := s.RangeWire(req)
			if err != nil || WireKVCount(r) != 1000 {
				b.Fatalf("%v %d", err, WireKVCount(r))
			}
			kvs := r.ProtoReflect().GetUnknown()
			buf := []byte(kvs)
			wirebuf.Pool{}.Put(&buf)
		}
	})
}

// rangePrefix1000Store holds three versions of 10,000 keys of 256 bytes
// named like Kubernetes objects; the request reads one namespace of 1000.
func rangePrefix1000Store(b *testing.B) (*Store, *pb.RangeRequest) {
	s := newTestStore(b)
	val := make([]byte, 256)
	keys := make([][]byte, 10000)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "/registry/ns%02d/pod-%05d", i/1000, i)
	}
	for v := 0; v < 3; v++ {
		putBatch(b, s, val, keys...)
	}
	return s, &pb.RangeRequest{Key: []byte("/registry/ns05/"), RangeEnd: []byte("/registry/ns050")}
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

// BenchmarkPutNewKeys measures puts, 100 to a batch, of keys never written before over a
// store whose 300,000 keys are flushed to tables, the new keys falling
// between the old ones: each put's newest-version
// lookup misses the latest cache and searches the LSM. "prefix" uses the
// engine's prefix seeks and bloom filters, "seek" a plain seek.
func BenchmarkPutNewKeys(b *testing.B) {
	for _, mode := range []struct {
		name   string
		prefix bool
	}{{"prefix", true}, {"seek", false}} {
		b.Run(mode.name, func(b *testing.B) {
			s := newTestStore(b)
			val := make([]byte, 256)
			for n := 0; n < 3; n++ {
				bt := s.db.NewIndexedBatch()
				wb := s.NewBatch(bt)
				for i := 0; i < 100000; i++ {
					wt := wb.Txn()
					key := fmt.Appendf(nil, "/registry/pods/pod-%08d", 2*(n*100000+i))
					if _, err := wt.Put(&pb.PutRequest{Key: key, Value: val}); err != nil {
						b.Fatal(err)
					}
					wt.End()
				}
				_ = wb.Finish()
				_ = bt.Commit(pebble.NoSync)
				s.Publish(wb)
				bt.Close()
				if err := s.db.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			s.latest.reset()
			s.prefixSeek = mode.prefix
			i := 0
			for b.Loop() {
				bt := s.db.NewIndexedBatch()
				wb := s.NewBatch(bt)
				for j := 0; j < 100; j++ {
					wt := wb.Txn()
					key := fmt.Appendf(nil, "/registry/pods/pod-%08d", 2*((i*7919)%300000)+1)
					if _, err := wt.Put(&pb.PutRequest{Key: key, Value: val}); err != nil {
						b.Fatal(err)
					}
					wt.End()
					i++
				}
				_ = wb.Finish()
				_ = bt.Commit(pebble.NoSync)
				s.Publish(wb)
				bt.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/put")
		})
	}
}

// BenchmarkTxn10Puts measures transactions of 10 puts (benchmark txn-put
// --txn-ops 10), 10 transactions to a batch, over 100,000 keys.
func BenchmarkTxn10Puts(b *testing.B) {
	s := newTestStore(b)
	val := make([]byte, 256)
	i := 0
	for b.Loop() {
		bt := s.db.NewIndexedBatch()
		wb := s.NewBatch(bt)
		for range 10 {
			ops := make([]*pb.RequestOp, 10)
			for j := range ops {
				key := fmt.Appendf(nil, "/registry/pods/ns/pod-%08d", i*7919%100000)
				ops[j] = &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: key, Value: val}}}
				i++
			}
			wt := wb.Txn()
			if _, err := wt.Txn(&pb.TxnRequest{Success: ops}); err != nil {
				b.Fatal(err)
			}
			wt.End()
		}
		commitBatch(b, s, bt, wb)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/put")
}
