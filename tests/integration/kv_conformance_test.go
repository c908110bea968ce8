package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

var update = flag.Bool("update", false, "rewrite golden files (with CAIRN_REF_ETCD: from the reference etcd)")

// step is one request of a conformance script; its rendered outcome is
// compared with etcd's.
type step struct {
	name string
	do   func(ctx context.Context, kv pb.KVClient) (any, error)
}

func rng(name string, r *pb.RangeRequest) step {
	return step{name, func(ctx context.Context, kv pb.KVClient) (any, error) { return kv.Range(ctx, r) }}
}

func put(name string, r *pb.PutRequest) step {
	return step{name, func(ctx context.Context, kv pb.KVClient) (any, error) { return kv.Put(ctx, r) }}
}

func del(name string, r *pb.DeleteRangeRequest) step {
	return step{name, func(ctx context.Context, kv pb.KVClient) (any, error) { return kv.DeleteRange(ctx, r) }}
}

func txn(name string, r *pb.TxnRequest) step {
	return step{name, func(ctx context.Context, kv pb.KVClient) (any, error) { return kv.Txn(ctx, r) }}
}

func compact(name string, r *pb.CompactionRequest) step {
	return step{name, func(ctx context.Context, kv pb.KVClient) (any, error) { return kv.Compact(ctx, r) }}
}

func b(s string) []byte { return []byte(s) }

func opPut(k, v string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: b(k), Value: b(v)}}}
}

func opGet(k, end string) *pb.RequestOp {
	r := &pb.RangeRequest{Key: b(k)}
	if end != "" {
		r.RangeEnd = b(end)
	}
	return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: r}}
}

func opDel(k, end string) *pb.RequestOp {
	r := &pb.DeleteRangeRequest{Key: b(k)}
	if end != "" {
		r.RangeEnd = b(end)
	}
	return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: r}}
}

func opTxn(t *pb.TxnRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: t}}
}

func cmpValue(k string, res pb.Compare_CompareResult, v string) *pb.Compare {
	return &pb.Compare{Key: b(k), Target: pb.Compare_VALUE, Result: res, TargetUnion: &pb.Compare_Value{Value: b(v)}}
}

func cmpInt(k string, target pb.Compare_CompareTarget, res pb.Compare_CompareResult, n int64) *pb.Compare {
	c := &pb.Compare{Key: b(k), Target: target, Result: res}
	switch target {
	case pb.Compare_VERSION:
		c.TargetUnion = &pb.Compare_Version{Version: n}
	case pb.Compare_CREATE:
		c.TargetUnion = &pb.Compare_CreateRevision{CreateRevision: n}
	case pb.Compare_MOD:
		c.TargetUnion = &pb.Compare_ModRevision{ModRevision: n}
	case pb.Compare_LEASE:
		c.TargetUnion = &pb.Compare_Lease{Lease: n}
	}
	return c
}

// runScript runs steps in order against a fresh server and renders each
// outcome: the response as JSON, or the gRPC code and message.
func runScript(t *testing.T, steps []step) string {
	t.Helper()
	ep := startTarget(t)
	conn, err := grpc.NewClient(ep, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kv := pb.NewKVClient(conn)
	var out bytes.Buffer
	for _, s := range steps {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := s.do(ctx, kv)
		cancel()
		fmt.Fprintf(&out, "## %s\n", s.name)
		if err != nil {
			st, _ := status.FromError(err)
			fmt.Fprintf(&out, "error %s: %s\n\n", st.Code(), st.Message())
			continue
		}
		js, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%s\n\n", js)
	}
	return out.String()
}

// checkGolden compares got with testdata/<name>.golden, or rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (record it with CAIRN_REF_ETCD=<etcd binary> go test -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("outcomes differ from etcd's (%s):\n%s", path, diffSections(string(want), got))
	}
}

// diffSections reports the first differing steps of two rendered scripts.
func diffSections(want, got string) string {
	ws, gs := strings.Split(want, "\n## "), strings.Split(got, "\n## ")
	var b strings.Builder
	n := 0
	for i := 0; i < max(len(ws), len(gs)) && n < 10; i++ {
		var w, g string
		if i < len(ws) {
			w = ws[i]
		}
		if i < len(gs) {
			g = gs[i]
		}
		if w != g {
			fmt.Fprintf(&b, "--- etcd:\n%s\n+++ cairn:\n%s\n", w, g)
			n++
		}
	}
	return b.String()
}
