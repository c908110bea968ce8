package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const (
	serviceName = "cairn.peer.v1.Peer"
	mdCluster   = "cairn-cluster-id"
	mdFrom      = "cairn-from"
)

// Handler is the member's side of incoming peer traffic.
type Handler interface {
	// Process steps a raft message received from a peer.
	Process(ctx context.Context, m *raftpb.Message) error
	// IsRemoved reports whether id was removed from the cluster.
	IsRemoved(id uint64) bool
	// ReceiveSnapshot stores the state snapshot that accompanies m (read
	// from data) durably, then steps m.
	ReceiveSnapshot(ctx context.Context, m *raftpb.Message, data io.Reader) error
	// ClusterInfo describes the cluster to a member that is joining it.
	ClusterInfo() ([]byte, error)
	// LeaseRenew renews a lease on the leader for a follower's client.
	LeaseRenew(ctx context.Context, id int64) (int64, error)
	// LeaseTimeToLive answers a follower's client from the leader's clock.
	LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error)
	// MemberPromote promotes a learner on the leader, which alone knows
	// whether it caught up.
	MemberPromote(ctx context.Context, id uint64) error
	// PeerHashKV hashes this member's key-value history up to rev, for
	// the corruption checks of other members.
	PeerHashKV(ctx context.Context, rev int64) (*pb.HashKVResponse, error)
}

// ErrClusterMismatch: a peer from another cluster, or a removed member.
var ErrClusterMismatch = errors.New("transport: peer belongs to another cluster")

var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Ping", Handler: unary(func(s *server, ctx context.Context, in []byte) ([]byte, error) {
			return nil, nil
		})},
		{MethodName: "ClusterInfo", Handler: unary(func(s *server, ctx context.Context, in []byte) ([]byte, error) {
			return s.h.ClusterInfo()
		})},
		{MethodName: "LeaseRenew", Handler: unary(func(s *server, ctx context.Context, in []byte) ([]byte, error) {
			if len(in) != 8 {
				return nil, status.Error(codes.InvalidArgument, "malformed lease renew")
			}
			ttl, err := s.h.LeaseRenew(ctx, int64(binary.BigEndian.Uint64(in)))
			if err != nil {
				return nil, err
			}
			return binary.BigEndian.AppendUint64(nil, uint64(ttl)), nil
		})},
		{MethodName: "MemberPromote", Handler: unary(func(s *server, ctx context.Context, in []byte) ([]byte, error) {
			if len(in) != 8 {
				return nil, status.Error(codes.InvalidArgument, "malformed member promote")
			}
			return nil, s.h.MemberPromote(ctx, binary.BigEndian.Uint64(in))
		})},
		{MethodName: "HashKV", Handler: unary(func(s *server, ctx context.Context, in []byte) ([]byte, error) {
			if len(in) != 8 {
				return nil, status.Error(codes.InvalidArgument, "malformed hashkv")
			}
			resp, err := s.h.PeerHashKV(ctx, int64(binary.BigEndian.Uint64(in)))
			if err != nil {
				return nil, err
			}
			return proto.Marshal(resp)
		})},
		{MethodName: "LeaseTimeToLive", Handler: unary(func(s *server, ctx context.Context, in []byte) ([]byte, error) {
			req := &pb.LeaseTimeToLiveRequest{}
			if err := proto.Unmarshal(in, req); err != nil {
				return nil, status.Error(codes.InvalidArgument, err.Error())
			}
			resp, err := s.h.LeaseTimeToLive(ctx, req)
			if err != nil {
				return nil, err
			}
			return proto.Marshal(resp)
		})},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Raft", ClientStreams: true, Handler: func(srv any, stream grpc.ServerStream) error {
			return srv.(*server).raftStream(stream)
		}},
		{StreamName: "Snapshot", ClientStreams: true, Handler: func(srv any, stream grpc.ServerStream) error {
			return srv.(*server).snapshotStream(stream)
		}},
	},
}

// server receives peer traffic for one member.
type server struct {
	t *Transport
	h Handler
}

func unary(fn func(s *server, ctx context.Context, in []byte) ([]byte, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		s := srv.(*server)
		if _, err := s.check(ctx); err != nil {
			return nil, err
		}
		in := &Frame{}
		if err := dec(in); err != nil {
			return nil, err
		}
		out, err := fn(s, ctx, in.B)
		if err != nil {
			return nil, err
		}
		return &Frame{B: out}, nil
	}
}

// check validates the caller's cluster and member IDs from the metadata.
// A caller that does not know the cluster yet (a joining member asking for
// cluster info) sends cluster ID 0.
func (s *server) check(ctx context.Context) (uint64, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	cid, _ := strconv.ParseUint(first(md.Get(mdCluster)), 16, 64)
	from, _ := strconv.ParseUint(first(md.Get(mdFrom)), 16, 64)
	if cid != 0 && cid != s.t.cfg.ClusterID {
		if _, logged := s.t.foreign.LoadOrStore(fmt.Sprintf("from %x/%x", from, cid), true); !logged {
			s.t.lg.Warn("refused a peer of another cluster", "from", fmt.Sprintf("%x", from),
				"remote-cluster-id", fmt.Sprintf("%x", cid), "local-cluster-id", fmt.Sprintf("%x", s.t.cfg.ClusterID))
		}
		return 0, status.Error(codes.FailedPrecondition, fmt.Sprintf("%v: cluster ID %x, ours %x", ErrClusterMismatch, cid, s.t.cfg.ClusterID))
	}
	if from != 0 && s.h.IsRemoved(from) {
		return 0, status.Error(codes.FailedPrecondition, fmt.Sprintf("member %x %s", from, errRemovedText))
	}
	return from, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (s *server) raftStream(stream grpc.ServerStream) error {
	ctx := stream.Context()
	from, err := s.check(ctx)
	if err != nil {
		return err
	}
	if from == 0 {
		return status.Error(codes.InvalidArgument, "raft stream without a sender")
	}
	// Proposals forwarded by a follower block in raft while this member
	// knows no leader; they go through their own queue so that they never
	// hold up the messages behind them (a new leader's heartbeats).
	props := make(chan *raftpb.Message, proposalQueue)
	defer close(props)
	go s.stepProposals(ctx, from, props)
	var f Frame
	for {
		if err := stream.RecvMsg(&f); err != nil {
			if errors.Is(err, io.EOF) {
				return stream.SendMsg(&Frame{})
			}
			return err
		}
		s.t.received(from, len(f.B))
		s.t.heardFrom(from)
		// Raft refuses some messages (a response from a peer it does not
		// track yet, while the initial configuration is being applied);
		// that must not cost the rest of the stream.
		err := decodeMessages(f.B, func(m *raftpb.Message) error {
			if m.GetType() == raftpb.MsgProp {
				select {
				case props <- m:
				default:
					s.t.lg.Debug("dropped a forwarded proposal: queue full", "from", from)
				}
				return nil
			}
			if err := s.h.Process(ctx, m); err != nil {
				if ctx.Err() != nil {
					return err
				}
				s.t.lg.Debug("raft refused a peer message", "from", from, "type", m.GetType().String(), "error", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// proposalQueue bounds the proposals forwarded by one peer that wait for
// raft; proposalWait bounds how long one may wait (its proposer times out
// anyway).
const (
	proposalQueue = 1024
	proposalWait  = 5 * time.Second
)

// stepProposals hands forwarded proposals to raft one at a time.
func (s *server) stepProposals(ctx context.Context, from uint64, props <-chan *raftpb.Message) {
	for m := range props {
		pctx, cancel := context.WithTimeout(ctx, proposalWait)
		if err := s.h.Process(pctx, m); err != nil && ctx.Err() == nil {
			s.t.lg.Debug("raft refused a forwarded proposal", "from", from, "error", err)
		}
		cancel()
	}
}

// snapshotStream receives one state snapshot: a frame holding the MsgSnap
// message, then data frames until the end of the stream.
func (s *server) snapshotStream(stream grpc.ServerStream) error {
	ctx := stream.Context()
	from, err := s.check(ctx)
	if err != nil {
		return err
	}
	var head Frame
	if err := stream.RecvMsg(&head); err != nil {
		return err
	}
	s.t.received(from, len(head.B))
	m := &raftpb.Message{}
	if err := proto.Unmarshal(head.B, m); err != nil || m.GetType() != raftpb.MsgSnap {
		return status.Error(codes.InvalidArgument, "snapshot stream must start with MsgSnap")
	}
	r := &frameReader{stream: stream, count: func(n int) { s.t.received(from, n) }}
	if err := s.h.ReceiveSnapshot(ctx, m, r); err != nil {
		return status.Error(codes.Internal, fmt.Sprintf("receive snapshot: %v", err))
	}
	s.t.snapshotDone(from, false)
	return stream.SendMsg(&Frame{})
}

// frameReader turns a stream of data frames into an io.Reader.
type frameReader struct {
	stream grpc.ServerStream
	count  func(n int) // counts each frame's bytes
	buf    []byte
	f      Frame
	err    error
}

func (r *frameReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if err := r.stream.RecvMsg(&r.f); err != nil {
			r.err = err
			continue
		}
		r.buf = r.f.B
		r.count(len(r.buf))
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
