package metrics

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

func okHandler(context.Context, any) (any, error) { return "resp", nil }

func badHandler(context.Context, any) (any, error) {
	return nil, status.Error(codes.InvalidArgument, "bad")
}

// TestUnaryInterceptorCounts checks the grpc_server_* series the
// interceptor keeps per method and code, with and without latency
// histograms.
func TestUnaryInterceptorCounts(t *testing.T) {
	for _, extensive := range []bool{false, true} {
		m := New(Sources{Extensive: extensive})
		ic := m.UnaryInterceptor()
		put := &grpc.UnaryServerInfo{FullMethod: "/etcdserverpb.KV/Put"}
		rng := &grpc.UnaryServerInfo{FullMethod: "/etcdserverpb.KV/Range"}
		ctx := context.Background()
		for range 3 {
			if resp, err := ic(ctx, nil, put, okHandler); resp != "resp" || err != nil {
				t.Fatalf("interceptor changed the answer: %v %v", resp, err)
			}
		}
		if _, err := ic(ctx, nil, put, badHandler); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("interceptor changed the error: %v", err)
		}
		_, _ = ic(ctx, nil, rng, okHandler)

		g := m.grpc
		checks := []struct {
			name string
			got  float64
			want float64
		}{
			{"Put started", counterValue(g.started.WithLabelValues("unary", "etcdserverpb.KV", "Put")), 4},
			{"Put received", counterValue(g.received.WithLabelValues("unary", "etcdserverpb.KV", "Put")), 4},
			{"Put sent", counterValue(g.sent.WithLabelValues("unary", "etcdserverpb.KV", "Put")), 3},
			{"Put OK", counterValue(g.handled.WithLabelValues("unary", "etcdserverpb.KV", "Put", "OK")), 3},
			{"Put InvalidArgument", counterValue(g.handled.WithLabelValues("unary", "etcdserverpb.KV", "Put", "InvalidArgument")), 1},
			{"Range started", counterValue(g.started.WithLabelValues("unary", "etcdserverpb.KV", "Range")), 1},
			{"Range OK", counterValue(g.handled.WithLabelValues("unary", "etcdserverpb.KV", "Range", "OK")), 1},
			{"client requests", counterValue(g.clientRequests.WithLabelValues("unary", "unknown")), 5},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("extensive=%v: %s = %v, want %v", extensive, c.name, c.got, c.want)
			}
		}
		if extensive {
			ch := make(chan prometheus.Metric, 10)
			g.latency.Collect(ch)
			close(ch)
			if n := len(ch); n != 2 {
				t.Errorf("latency histograms: %d series, want 2 (Put, Range)", n)
			}
		} else if g.latency != nil {
			t.Error("latency histograms without --metrics extensive")
		}
	}
}

func BenchmarkUnaryInterceptor(b *testing.B) {
	ic := New(Sources{}).UnaryInterceptor()
	info := &grpc.UnaryServerInfo{FullMethod: "/etcdserverpb.KV/Put"}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = ic(ctx, nil, info, okHandler)
		}
	})
}

// TestClientRequestsByKindAndVersion checks that each request counts once
// under its kind and the API version its client sent, however often the
// same series is reached.
func TestClientRequestsByKindAndVersion(t *testing.T) {
	m := New(Sources{})
	unary := m.UnaryInterceptor()
	stream := m.StreamInterceptor()
	put := &grpc.UnaryServerInfo{FullMethod: "/etcdserverpb.KV/Put"}
	watch := &grpc.StreamServerInfo{FullMethod: "/etcdserverpb.Watch/Watch", IsClientStream: true, IsServerStream: true}
	v36 := metadata.NewIncomingContext(context.Background(), metadata.Pairs("client-api-version", "3.6"))
	v35 := metadata.NewIncomingContext(context.Background(), metadata.Pairs("client-api-version", "3.5"))
	for _, ctx := range []context.Context{v36, v36, v35, context.Background(), v36} {
		if _, err := unary(ctx, nil, put, okHandler); err != nil {
			t.Fatal(err)
		}
	}
	for _, ctx := range []context.Context{v36, v35, v35} {
		if err := stream(nil, fakeStream{ctx: ctx}, watch, func(any, grpc.ServerStream) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	want := map[[2]string]float64{
		{"unary", "3.6"}: 3, {"unary", "3.5"}: 1, {"unary", "unknown"}: 1,
		{"stream", "3.6"}: 1, {"stream", "3.5"}: 2, {"stream", "unknown"}: 0,
	}
	for labels, n := range want {
		if got := counterValue(m.grpc.clientRequests.WithLabelValues(labels[0], labels[1])); got != n {
			t.Errorf("client requests %v = %v, want %v", labels, got, n)
		}
	}
}

// fakeStream is a server stream that only has a context.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }
