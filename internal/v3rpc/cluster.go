package v3rpc

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// ClusterBackend lists members.
type ClusterBackend interface {
	// MemberList returns the members; linearizable asks for the list as of
	// a linearizable read.
	MemberList(ctx context.Context, linearizable bool) ([]*pb.Member, error)
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

// MemberList implements etcdserverpb.ClusterServer. Its header carries no
// revision, as etcd's.
func (s *ClusterServer) MemberList(ctx context.Context, r *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	ms, err := s.be.MemberList(ctx, r.Linearizable)
	if err != nil {
		return nil, togRPCError(err)
	}
	h := &pb.ResponseHeader{}
	s.hdr.FillHeader(h)
	h.Revision = 0
	return &pb.MemberListResponse{Header: h, Members: ms}, nil
}
