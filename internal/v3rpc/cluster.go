package v3rpc

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// ClusterBackend serves membership.
type ClusterBackend interface {
	// MemberList returns the members; linearizable asks for the list as of
	// a linearizable read.
	MemberList(ctx context.Context, linearizable bool) ([]*pb.Member, error)
	// MemberAdd adds a member (or learner) with peerURLs and returns it.
	MemberAdd(ctx context.Context, peerURLs []string, learner bool) (*pb.Member, error)
	MemberRemove(ctx context.Context, id uint64) error
	MemberUpdate(ctx context.Context, id uint64, peerURLs []string) error
	MemberPromote(ctx context.Context, id uint64) error
}

// ClusterServer is the etcdserverpb.Cluster service.
type ClusterServer struct {
	pb.UnimplementedClusterServer
	be  ClusterBackend
	hdr Header
}

// NewClusterServer serves be.
func NewClusterServer(be ClusterBackend, hdr Header) *ClusterServer {
	return &ClusterServer{be: be, hdr: hdr}
}

// header fills a membership response header: etcd's carries no revision.
func (s *ClusterServer) header() *pb.ResponseHeader {
	h := &pb.ResponseHeader{}
	s.hdr.FillHeader(h)
	h.Revision = 0
	return h
}

// members lists the members after a change, as every membership response
// carries them.
func (s *ClusterServer) members(ctx context.Context) ([]*pb.Member, error) {
	return s.be.MemberList(ctx, false)
}

// MemberList implements etcdserverpb.ClusterServer.
func (s *ClusterServer) MemberList(ctx context.Context, r *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	ms, err := s.be.MemberList(ctx, r.Linearizable)
	if err != nil {
		return nil, togRPCError(err)
	}
	return &pb.MemberListResponse{Header: s.header(), Members: ms}, nil
}

// MemberAdd implements etcdserverpb.ClusterServer.
func (s *ClusterServer) MemberAdd(ctx context.Context, r *pb.MemberAddRequest) (*pb.MemberAddResponse, error) {
	m, err := s.be.MemberAdd(ctx, r.PeerURLs, r.IsLearner)
	if err != nil {
		return nil, togRPCError(err)
	}
	ms, err := s.members(ctx)
	if err != nil {
		return nil, togRPCError(err)
	}
	return &pb.MemberAddResponse{Header: s.header(), Member: m, Members: ms}, nil
}

// MemberRemove implements etcdserverpb.ClusterServer.
func (s *ClusterServer) MemberRemove(ctx context.Context, r *pb.MemberRemoveRequest) (*pb.MemberRemoveResponse, error) {
	if err := s.be.MemberRemove(ctx, r.ID); err != nil {
		return nil, togRPCError(err)
	}
	ms, err := s.members(ctx)
	if err != nil {
		return nil, togRPCError(err)
	}
	return &pb.MemberRemoveResponse{Header: s.header(), Members: ms}, nil
}

// MemberUpdate implements etcdserverpb.ClusterServer.
func (s *ClusterServer) MemberUpdate(ctx context.Context, r *pb.MemberUpdateRequest) (*pb.MemberUpdateResponse, error) {
	if err := s.be.MemberUpdate(ctx, r.ID, r.PeerURLs); err != nil {
		return nil, togRPCError(err)
	}
	ms, err := s.members(ctx)
	if err != nil {
		return nil, togRPCError(err)
	}
	return &pb.MemberUpdateResponse{Header: s.header(), Members: ms}, nil
}

// MemberPromote implements etcdserverpb.ClusterServer.
func (s *ClusterServer) MemberPromote(ctx context.Context, r *pb.MemberPromoteRequest) (*pb.MemberPromoteResponse, error) {
	if err := s.be.MemberPromote(ctx, r.ID); err != nil {
		return nil, togRPCError(err)
	}
	ms, err := s.members(ctx)
	if err != nil {
		return nil, togRPCError(err)
	}
	return &pb.MemberPromoteResponse{Header: s.header(), Members: ms}, nil
}
