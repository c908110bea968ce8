package v3rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/grpc"
)

// TestRequestStatsOf pins the counts etcd logs in "request stats".
func TestRequestStatsOf(t *testing.T) {
	put := func(k, v string) *pb.RequestOp {
		return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(k), Value: []byte(v)}}}
	}
	rng := func(k string) *pb.RequestOp {
		return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte(k)}}}
	}
	txn := &pb.TxnRequest{Success: []*pb.RequestOp{put("a", "secret"), put("b", "secret")}, Failure: []*pb.RequestOp{rng("a")}}
	for _, tc := range []struct {
		name      string
		req, resp any
		wantCount [2]int64 // request count, response count
		wantSizes bool     // sizes are set (not -1)
		noContent string   // must not appear in the content
	}{
		{name: "range counts the total", req: &pb.RangeRequest{Key: []byte("a"), Limit: 1},
			resp: &pb.RangeResponse{Kvs: []*mvccpb.KeyValue{{Key: []byte("a")}}, Count: 7}, wantCount: [2]int64{0, 7}, wantSizes: true},
		{name: "put", req: &pb.PutRequest{Key: []byte("k"), Value: []byte("secret")}, resp: &pb.PutResponse{},
			wantCount: [2]int64{1, 0}, wantSizes: true, noContent: "secret"},
		{name: "failed put", req: &pb.PutRequest{Key: []byte("k"), Value: []byte("secret")}, resp: (*pb.PutResponse)(nil),
			wantCount: [2]int64{1, 0}, wantSizes: true, noContent: "secret"},
		{name: "delete counts deleted", req: &pb.DeleteRangeRequest{Key: []byte("a")}, resp: &pb.DeleteRangeResponse{Deleted: 3},
			wantCount: [2]int64{0, 3}, wantSizes: true},
		{name: "txn success branch", req: txn, resp: &pb.TxnResponse{Succeeded: true}, wantCount: [2]int64{2, 0}, wantSizes: true, noContent: "secret"},
		{name: "txn failure branch", req: txn, resp: &pb.TxnResponse{Succeeded: false}, wantCount: [2]int64{1, 0}, wantSizes: true, noContent: "secret"},
		{name: "other", req: &pb.LeaseGrantRequest{TTL: 5}, resp: &pb.LeaseGrantResponse{}, wantCount: [2]int64{-1, -1}},
		{name: "error", req: &pb.LeaseGrantRequest{TTL: 5}, resp: nil, wantCount: [2]int64{-1, -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := statsOf(tc.req, tc.resp)
			if got := [2]int64{st.reqCount, st.respCount}; got != tc.wantCount {
				t.Errorf("counts: got %v, want %v", got, tc.wantCount)
			}
			if got := st.reqSize >= 0 && st.respSize >= 0; got != tc.wantSizes {
				t.Errorf("sizes %d/%d: set %v, want %v", st.reqSize, st.respSize, got, tc.wantSizes)
			}
			if tc.noContent != "" && strings.Contains(st.content, tc.noContent) {
				t.Errorf("content %q shows a value", st.content)
			}
			if tc.noContent != "" && !strings.Contains(st.content, "value_size:6") {
				t.Errorf("content %q lacks the value size", st.content)
			}
		})
	}
}

// TestSlowRequestInterceptor: requests over the threshold draw a warning,
// the others a debug line only when debug is enabled.
func TestSlowRequestInterceptor(t *testing.T) {
	info := &grpc.UnaryServerInfo{FullMethod: "/etcdserverpb.KV/Put"}
	req := &pb.PutRequest{Key: []byte("k"), Value: []byte("v")}
	for _, tc := range []struct {
		name      string
		level     slog.Level
		threshold time.Duration
		want      string // the level logged, "" for none
	}{
		{name: "slow", level: slog.LevelInfo, threshold: time.Nanosecond, want: "WARN"},
		{name: "fast", level: slog.LevelInfo, threshold: time.Hour, want: ""},
		{name: "fast at debug", level: slog.LevelDebug, threshold: time.Hour, want: "DEBUG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			lg := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: tc.level}))
			handler := func(context.Context, any) (any, error) { return &pb.PutResponse{}, nil }
			if _, err := SlowRequestInterceptor(lg, tc.threshold)(t.Context(), req, info, handler); err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if buf.Len() != 0 {
					t.Fatalf("logged %s", buf.String())
				}
				return
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, buf.String())
			}
			if line["level"] != tc.want || line["msg"] != "request stats" {
				t.Errorf("got %v %q, want %v \"request stats\"", line["level"], line["msg"], tc.want)
			}
			for _, k := range []string{"start time", "time spent", "remote", "response type", "request count", "request size", "response count", "response size", "request content"} {
				if _, ok := line[k]; !ok {
					t.Errorf("field %q missing: %s", k, buf.String())
				}
			}
			if line["remote"] != "No remote client info." || line["response type"] != info.FullMethod {
				t.Errorf("remote %v, response type %v", line["remote"], line["response type"])
			}
		})
	}
}
