package v3lock

import (
	"context"
	"io"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/v3lock/v3electionpb"
	"github.com/cairn-kv/cairn/internal/v3lock/v3lockpb"
)

// route is one JSON gateway path and the gRPC method it forwards to.
type route struct {
	path, method string
	req, resp    func() proto.Message
	stream       bool
}

var routes = []route{
	{path: "/v3/lock/lock", method: "/v3lockpb.Lock/Lock",
		req: func() proto.Message { return new(v3lockpb.LockRequest) }, resp: func() proto.Message { return new(v3lockpb.LockResponse) }},
	{path: "/v3/lock/unlock", method: "/v3lockpb.Lock/Unlock",
		req: func() proto.Message { return new(v3lockpb.UnlockRequest) }, resp: func() proto.Message { return new(v3lockpb.UnlockResponse) }},
	{path: "/v3/election/campaign", method: "/v3electionpb.Election/Campaign",
		req: func() proto.Message { return new(v3electionpb.CampaignRequest) }, resp: func() proto.Message { return new(v3electionpb.CampaignResponse) }},
	{path: "/v3/election/proclaim", method: "/v3electionpb.Election/Proclaim",
		req: func() proto.Message { return new(v3electionpb.ProclaimRequest) }, resp: func() proto.Message { return new(v3electionpb.ProclaimResponse) }},
	{path: "/v3/election/leader", method: "/v3electionpb.Election/Leader",
		req: func() proto.Message { return new(v3electionpb.LeaderRequest) }, resp: func() proto.Message { return new(v3electionpb.LeaderResponse) }},
	{path: "/v3/election/observe", method: "/v3electionpb.Election/Observe", stream: true,
		req: func() proto.Message { return new(v3electionpb.LeaderRequest) }, resp: func() proto.Message { return new(v3electionpb.LeaderResponse) }},
	{path: "/v3/election/resign", method: "/v3electionpb.Election/Resign",
		req: func() proto.Message { return new(v3electionpb.ResignRequest) }, resp: func() proto.Message { return new(v3electionpb.ResignResponse) }},
}

// RegisterGateway adds the JSON routes of both services to mux: POST
// /v3/lock/{lock,unlock} and /v3/election/{campaign,proclaim,leader,
// observe,resign}, with the request message as the JSON body. Calls go to
// the services through conn with the Authorization header as the token,
// and answers and errors are written as the mux writes its other routes';
// observe streams one {"result": ...} object per leader change.
func RegisterGateway(mux *runtime.ServeMux, conn grpc.ClientConnInterface) error {
	for _, rt := range routes {
		if err := mux.HandlePath(http.MethodPost, rt.path, rt.handler(mux, conn)); err != nil {
			return err
		}
	}
	return nil
}

func (rt route) handler(mux *runtime.ServeMux, conn grpc.ClientConnInterface) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		inMarshaler, outMarshaler := runtime.MarshalerForRequest(mux, r)
		ctx, err := runtime.AnnotateContext(ctx, mux, r, rt.method, runtime.WithHTTPPathPattern(rt.path))
		if err != nil {
			runtime.HTTPError(ctx, mux, outMarshaler, w, r, err)
			return
		}
		req := rt.req()
		if err := inMarshaler.NewDecoder(r.Body).Decode(req); err != nil && err != io.EOF {
			runtime.HTTPError(ctx, mux, outMarshaler, w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusBadRequest, Err: err})
			return
		}
		if rt.stream {
			rt.forwardStream(ctx, mux, conn, outMarshaler, w, r, req)
			return
		}
		resp := rt.resp()
		var md runtime.ServerMetadata
		err = conn.Invoke(ctx, rt.method, req, resp, grpc.Header(&md.HeaderMD), grpc.Trailer(&md.TrailerMD))
		ctx = runtime.NewServerMetadataContext(ctx, md)
		if err != nil {
			runtime.HTTPError(ctx, mux, outMarshaler, w, r, err)
			return
		}
		runtime.ForwardResponseMessage(ctx, mux, outMarshaler, w, r, resp)
	}
}

// forwardStream opens the server stream rt.method with req and writes
// each message to w as it comes.
func (rt route) forwardStream(ctx context.Context, mux *runtime.ServeMux, conn grpc.ClientConnInterface, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, req proto.Message) {
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, rt.method)
	if err == nil {
		err = cs.SendMsg(req)
	}
	if err == nil {
		err = cs.CloseSend()
	}
	var md runtime.ServerMetadata
	if err == nil {
		md.HeaderMD, err = cs.Header()
	}
	if err != nil {
		runtime.HTTPError(ctx, mux, m, w, r, err)
		return
	}
	ctx = runtime.NewServerMetadataContext(ctx, md)
	runtime.ForwardResponseStream(ctx, mux, m, w, r, func() (proto.Message, error) {
		resp := rt.resp()
		if err := cs.RecvMsg(resp); err != nil {
			return nil, err
		}
		return resp, nil
	})
}
