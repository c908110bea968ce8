package v3rpc

import (
	"context"
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// WatchStream is one client stream's set of watchers (watch.Stream).
type WatchStream interface {
	Watch(req *pb.WatchCreateRequest)
	Refuse(reason string)
	Cancel(id int64)
	RequestProgress()
	Fragment(id int64) bool
	Next(ctx context.Context) (*pb.WatchResponse, error)
	Close()
}

// WatchBackend opens watch streams.
type WatchBackend interface {
	NewWatchStream() WatchStream
	// HasLeader reports whether raft knows a leader.
	HasLeader() bool
	// AuthorizeWatch checks the stream's credentials may read the range.
	AuthorizeWatch(ctx context.Context, r *pb.WatchCreateRequest) error
}

// WatchServer is the etcdserverpb.Watch service.
type WatchServer struct {
	pb.UnimplementedWatchServer
	be       WatchBackend
	hdr      Header
	maxBytes int
}

// NewWatchServer serves be; responses larger than maxBytes are split for
// watchers that asked for fragments.
func NewWatchServer(be WatchBackend, hdr Header, maxBytes int) *WatchServer {
	return &WatchServer{be: be, hdr: hdr, maxBytes: maxBytes}
}

// requireLeader reports whether the client asked, through metadata, to be
// refused when the cluster has no leader (clientv3.WithRequireLeader).
// Every unary request asks this, so it looks up the one header:
// FromIncomingContext would copy them all.
func requireLeader(ctx context.Context) bool {
	vs := metadata.ValueFromIncomingContext(ctx, rpctypes.MetadataRequireLeaderKey)
	return len(vs) > 0 && vs[0] == rpctypes.MetadataHasLeader
}

// Watch implements etcdserverpb.WatchServer: requests are read on one
// goroutine, responses sent on this one until the client goes away.
func (s *WatchServer) Watch(stream pb.Watch_WatchServer) error {
	ctx := stream.Context()
	if requireLeader(ctx) && !s.be.HasLeader() {
		return rpctypes.ErrGRPCNoLeader
	}
	ws := s.be.NewWatchStream()
	defer ws.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recvErr := make(chan error, 1)
	go func() { recvErr <- s.recvLoop(ctx, stream, ws) }()
	sendErr := make(chan error, 1)
	go func() { sendErr <- s.sendLoop(ctx, stream, ws) }()
	select {
	case err := <-recvErr:
		cancel()
		<-sendErr
		return err
	case err := <-sendErr:
		return err
	case <-stream.Context().Done():
		cancel()
		<-sendErr
		if errors.Is(stream.Context().Err(), context.Canceled) {
			return rpctypes.ErrGRPCWatchCanceled
		}
		return stream.Context().Err()
	}
}

// recvLoop applies the client's requests. A client that closes its send
// side keeps receiving; only a broken stream ends the loop with an error.
func (s *WatchServer) recvLoop(ctx context.Context, stream pb.Watch_WatchServer, ws WatchStream) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			<-stream.Context().Done()
			return stream.Context().Err()
		}
		if err != nil {
			return err
		}
		switch r := req.RequestUnion.(type) {
		case *pb.WatchRequest_CreateRequest:
			if r.CreateRequest == nil {
				continue
			}
			if err := s.be.AuthorizeWatch(ctx, r.CreateRequest); err != nil {
				ws.Refuse(errorDesc(togRPCError(err)))
				continue
			}
			ws.Watch(r.CreateRequest)
		case *pb.WatchRequest_CancelRequest:
			if r.CancelRequest != nil {
				ws.Cancel(r.CancelRequest.WatchId)
			}
		case *pb.WatchRequest_ProgressRequest:
			if r.ProgressRequest != nil {
				ws.RequestProgress()
			}
		}
	}
}

func (s *WatchServer) sendLoop(ctx context.Context, stream pb.Watch_WatchServer, ws WatchStream) error {
	var enc eventEncoder
	for {
		resp, err := ws.Next(ctx)
		if err != nil {
			return nil
		}
		s.fillHeader(resp)
		for _, part := range s.fragments(resp, ws.Fragment(resp.WatchId)) {
			msg, err := enc.message(part)
			if err != nil {
				return err
			}
			if err := stream.SendMsg(msg); err != nil {
				return err
			}
		}
	}
}

// fillHeader sets the member fields; the revision is the hub's (etcd leaves
// it 0 on a compaction cancel, and so do we).
func (s *WatchServer) fillHeader(resp *pb.WatchResponse) {
	if resp.Header == nil {
		resp.Header = &pb.ResponseHeader{}
	}
	rev := resp.Header.Revision
	s.hdr.FillHeader(resp.Header)
	resp.Header.Revision = rev
}

// fragments splits a response whose size exceeds the request limit into
// pieces of whole events, all but the last marked Fragment, when the
// watcher asked for it.
func (s *WatchServer) fragments(resp *pb.WatchResponse, fragment bool) []*pb.WatchResponse {
	if !fragment || len(resp.Events) < 2 || proto.Size(resp) <= s.maxBytes {
		return []*pb.WatchResponse{resp}
	}
	var out []*pb.WatchResponse
	var cur []*mvccpb.Event
	size := 0
	flush := func() {
		part := &pb.WatchResponse{Header: resp.Header, WatchId: resp.WatchId, Events: cur, Fragment: true}
		out = append(out, part)
		cur, size = nil, 0
	}
	for _, ev := range resp.Events {
		n := proto.Size(ev)
		if len(cur) > 0 && size+n > s.maxBytes {
			flush()
		}
		cur = append(cur, ev)
		size += n
	}
	flush()
	out[len(out)-1].Fragment = false
	return out
}

// errorDesc is a gRPC error's message.
func errorDesc(err error) string {
	if st, ok := status.FromError(err); ok {
		return st.Message()
	}
	return err.Error()
}
