package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/etcdserverpb/gw"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
)

// Gateway serves etcd's JSON gateway (/v3/kv/range, /v3/watch, ...) by
// forwarding to the member's own gRPC services over conn: keys and values
// are base64, 64-bit integers strings and field names the proto names, so
// the curl recipes written for etcd work. /v3beta/ is an alias. Each of
// extra adds more routes to the gateway's mux (the lock and election
// services bring theirs).
func Gateway(ctx context.Context, conn *grpc.ClientConn, extra ...func(*runtime.ServeMux, grpc.ClientConnInterface) error) (http.Handler, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &compactJSON{runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
		}}),
	)
	regs := []func() error{
		func() error { return gw.RegisterKVHandlerClient(ctx, mux, pb.NewKVClient(conn)) },
		func() error { return gw.RegisterWatchHandlerClient(ctx, mux, pb.NewWatchClient(conn)) },
		func() error { return gw.RegisterLeaseHandlerClient(ctx, mux, pb.NewLeaseClient(conn)) },
		func() error { return gw.RegisterClusterHandlerClient(ctx, mux, pb.NewClusterClient(conn)) },
		func() error { return gw.RegisterMaintenanceHandlerClient(ctx, mux, pb.NewMaintenanceClient(conn)) },
		func() error { return gw.RegisterAuthHandlerClient(ctx, mux, pb.NewAuthClient(conn)) },
	}
	for _, add := range extra {
		regs = append(regs, func() error { return add(mux, conn) })
	}
	for _, reg := range regs {
		if err := reg(); err != nil {
			return nil, err
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v3beta/") {
			r.URL.Path = "/v3/" + strings.TrimPrefix(r.URL.Path, "/v3beta/")
		}
		mux.ServeHTTP(w, r)
	}), nil
}

// compactJSON is protojson without the whitespace it varies on purpose, so
// output is stable from run to run.
type compactJSON struct{ runtime.JSONPb }

func (c *compactJSON) Marshal(v any) ([]byte, error) {
	b, err := c.JSONPb.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return b, nil
	}
	return out.Bytes(), nil
}

func (c *compactJSON) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := c.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}
