package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// TestSlowLog pins etcd's "apply request took too long" lines: fields,
// prefixes, response summaries, and put values shown only as sizes.
func TestSlowLog(t *testing.T) {
	long := time.Now().Add(-time.Hour) // a start that makes any request slow
	for _, tc := range []struct {
		name  string
		log   func(SlowLog)
		want  map[string]any
		never string // must not appear in the line
	}{
		{
			name: "applied put",
			log: func(l SlowLog) {
				l.Applied(long, &pb.InternalRaftRequest{Header: &pb.RequestHeader{ID: 7}, Put: &pb.PutRequest{Key: []byte("foo"), Value: []byte("secret")}},
					Result{Resp: &pb.PutResponse{Header: &pb.ResponseHeader{Revision: 2}}})
			},
			want:  map[string]any{"prefix": "", "response": "size:4", "request": `header:<ID:7> put:<key:"foo" value_size:6 >`},
			never: "secret",
		},
		{
			name: "applied authentication",
			log: func(l SlowLog) {
				l.Applied(long, &pb.InternalRaftRequest{Header: &pb.RequestHeader{ID: 7}, Authenticate: &pb.InternalAuthenticateRequest{Name: "alice", SimpleToken: "tokenABCDEFGHIJKL.3"}},
					Result{Resp: &pb.AuthenticateResponse{}})
			},
			want:  map[string]any{"request": `header:<ID:7> authenticate:<name:alice simple_token:<redacted>>`},
			never: "tokenABCDEFGHIJKL",
		},
		{
			name: "applied user add",
			log: func(l SlowLog) {
				l.Applied(long, &pb.InternalRaftRequest{Header: &pb.RequestHeader{ID: 7}, AuthUserAdd: &pb.AuthUserAddRequest{Name: "alice", Password: "pw-secret", HashedPassword: "$2a$10$hash"}},
					Result{Resp: &pb.AuthUserAddResponse{}})
			},
			want:  map[string]any{"request": `header:<ID:7> auth_user_add:<name:alice>`},
			never: "secret",
		},
		{
			name: "applied error",
			log: func(l SlowLog) {
				l.Applied(long, &pb.InternalRaftRequest{Header: &pb.RequestHeader{ID: 7}, DeleteRange: &pb.DeleteRangeRequest{Key: []byte("foo")}},
					Result{Err: errors.New("boom")})
			},
			want: map[string]any{"prefix": "", "response": "", "error": "boom"},
		},
		{
			name: "read-only range",
			log: func(l SlowLog) {
				l.ReadOnlyRange(long, &pb.RangeRequest{Key: []byte("a")}, &pb.RangeResponse{Kvs: []*mvccpb.KeyValue{{Key: []byte("a")}}, Count: 1}, nil)
			},
			want: map[string]any{"prefix": "read-only range ", "response": "range_response_count:1 size:7"},
		},
		{
			name: "read-only txn",
			log: func(l SlowLog) {
				l.ReadOnlyTxn(long, &pb.TxnRequest{Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("a")}}}}},
					&pb.TxnResponse{Succeeded: true, Responses: []*pb.ResponseOp{{Response: &pb.ResponseOp_ResponseRange{ResponseRange: &pb.RangeResponse{}}}}}, nil)
			},
			want: map[string]any{"prefix": "read-only txn ", "response": "responses:<range_response_count:0> size:6"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := SlowLog{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), Threshold: 100 * time.Millisecond}
			tc.log(l)
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%v: %q", err, buf.String())
			}
			if line["level"] != "WARN" || line["msg"] != "apply request took too long" {
				t.Errorf("got %v %q", line["level"], line["msg"])
			}
			if _, ok := line["took"]; !ok {
				t.Error("no took")
			}
			if got := time.Duration(line["expected-duration"].(float64)); got != 100*time.Millisecond {
				t.Errorf("expected-duration %v", got)
			}
			for k, want := range tc.want {
				got := line[k]
				if s, ok := got.(string); ok && k == "request" {
					got = strings.Join(strings.Fields(s), " ") // protobuf varies its spacing
				}
				if got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if _, ok := tc.want["error"]; !ok {
				if _, has := line["error"]; has {
					t.Errorf("error field without an error: %v", line["error"])
				}
			}
			if tc.never != "" && strings.Contains(buf.String(), tc.never) {
				t.Errorf("line shows %q: %s", tc.never, buf.String())
			}
		})
	}
}

// TestSlowLogQuiet: fast requests, and a zero threshold, log nothing.
func TestSlowLogQuiet(t *testing.T) {
	var buf bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&buf, nil))
	SlowLog{Logger: lg, Threshold: time.Hour}.ReadOnlyRange(time.Now(), &pb.RangeRequest{}, nil, nil)
	SlowLog{Logger: lg}.ReadOnlyRange(time.Now().Add(-time.Hour), &pb.RangeRequest{}, nil, nil)
	if buf.Len() != 0 {
		t.Errorf("logged %s", buf.String())
	}
}
