package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// watchScript drives raw watch streams and KV writes and records every
// response, grouped per stream and watch ID (etcd and Cairn may interleave
// different watchers of a stream differently; each watcher's own sequence
// must be identical).
type watchScript struct {
	t       *testing.T
	kv      pb.KVClient
	wc      pb.WatchClient
	ctx     context.Context
	mu      sync.Mutex
	got     map[string][]string // "stream/watch id" -> responses
	streams map[string]pb.Watch_WatchClient
	last    time.Time
	log     bytes.Buffer
}

func newWatchScript(t *testing.T) *watchScript {
	ep := startTarget(t)
	conn, err := grpc.NewClient(ep, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &watchScript{
		t: t, kv: pb.NewKVClient(conn), wc: pb.NewWatchClient(conn), ctx: ctx,
		got: map[string][]string{}, streams: map[string]pb.Watch_WatchClient{},
	}
}

func (w *watchScript) stream(name string) pb.Watch_WatchClient {
	if s, ok := w.streams[name]; ok {
		return s
	}
	s, err := w.wc.Watch(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	w.streams[name] = s
	go func() {
		for {
			resp, err := s.Recv()
			if err != nil {
				return
			}
			js, _ := json.Marshal(resp)
			w.mu.Lock()
			k := fmt.Sprintf("%s/%d", name, resp.WatchId)
			w.got[k] = append(w.got[k], string(js))
			w.last = time.Now()
			w.mu.Unlock()
		}
	}()
	return s
}

// settle waits until no response arrived for a while.
func (w *watchScript) settle() {
	time.Sleep(100 * time.Millisecond)
	for {
		w.mu.Lock()
		idle := time.Since(w.last)
		w.mu.Unlock()
		if idle > 250*time.Millisecond {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *watchScript) create(stream string, r *pb.WatchCreateRequest) {
	if err := w.stream(stream).Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: r}}); err != nil {
		w.t.Fatal(err)
	}
	w.settle()
}

func (w *watchScript) cancel(stream string, id int64) {
	if err := w.stream(stream).Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CancelRequest{CancelRequest: &pb.WatchCancelRequest{WatchId: id}}}); err != nil {
		w.t.Fatal(err)
	}
	w.settle()
}

func (w *watchScript) progress(stream string) {
	if err := w.stream(stream).Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{ProgressRequest: &pb.WatchProgressRequest{}}}); err != nil {
		w.t.Fatal(err)
	}
	w.settle()
}

func (w *watchScript) do(s step) {
	if _, err := s.do(w.ctx, w.kv); err != nil {
		w.t.Fatalf("%s: %v", s.name, err)
	}
}

func (w *watchScript) render() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	keys := make([]string, 0, len(w.got))
	for k := range w.got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "## %s\n", k)
		for _, r := range w.got[k] {
			fmt.Fprintln(&b, r)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestConformanceWatch(t *testing.T) {
	w := newWatchScript(t)
	for i := 0; i < 5; i++ {
		w.do(put("seed", &pb.PutRequest{Key: []byte(fmt.Sprintf("w%d", i)), Value: b("v")}))
	}
	w.do(put("w1 again", &pb.PutRequest{Key: b("w1"), Value: b("v2")})) // rev 7
	w.do(compact("compact 5", &pb.CompactionRequest{Revision: 5}))

	w.create("s1", &pb.WatchCreateRequest{Key: b("w"), RangeEnd: b("x"), StartRevision: 2})
	w.create("s1", &pb.WatchCreateRequest{Key: b("w"), StartRevision: -5})
	w.create("s1", &pb.WatchCreateRequest{Key: b("w"), RangeEnd: b("x"), StartRevision: 5, PrevKv: true})
	w.create("s1", &pb.WatchCreateRequest{Key: b("w1"), WatchId: 7})
	w.create("s1", &pb.WatchCreateRequest{Key: b("w2"), WatchId: 7})
	w.create("s1", &pb.WatchCreateRequest{})
	w.create("s1", &pb.WatchCreateRequest{Key: b("w1"), StartRevision: 9})
	w.cancel("s1", 99)
	w.cancel("s1", 7)

	w.create("s2", &pb.WatchCreateRequest{Key: b("w"), RangeEnd: b("x"), Filters: []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NOPUT}})
	w.create("s2", &pb.WatchCreateRequest{Key: b("w"), RangeEnd: b("x"), Filters: []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NODELETE}, PrevKv: true})
	w.create("s2", &pb.WatchCreateRequest{Key: b("w3"), RangeEnd: []byte{0}})
	w.progress("s2")
	w.progress("s3") // a stream without watchers gets nothing

	w.do(txn("txn", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("w1", "t"), opPut("w2", "t"), opDel("w3", "")}})) // rev 8
	w.settle()
	w.do(put("w1=a", &pb.PutRequest{Key: b("w1"), Value: b("a")}))            // rev 9
	w.do(put("w1=b", &pb.PutRequest{Key: b("w1"), Value: b("b")}))            // rev 10
	w.do(del("del w", &pb.DeleteRangeRequest{Key: b("w"), RangeEnd: b("x")})) // rev 11
	w.do(put("z", &pb.PutRequest{Key: b("z"), Value: b("z")}))                // rev 12
	w.settle()
	w.progress("s2")
	w.create("s4", &pb.WatchCreateRequest{Key: b("w"), RangeEnd: b("x"), StartRevision: 8, PrevKv: true})
	w.progress("s4")
	checkGolden(t, "watch", w.render())
}
