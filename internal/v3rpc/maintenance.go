package v3rpc

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// MaintenanceBackend reports the member's status.
type MaintenanceBackend interface {
	// Status returns the member's status; the handler fills the header.
	Status(ctx context.Context) (*pb.StatusResponse, error)
	// Alarm lists, raises or clears alarms.
	Alarm(ctx context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error)
	// HashKV hashes the key-value history up to rev (0: the newest).
	HashKV(ctx context.Context, rev int64) (*pb.HashKVResponse, error)
	// Hash hashes the whole state machine.
	Hash(ctx context.Context) (*pb.HashResponse, error)
	// Defragment reclaims the space of deleted data on this member.
	Defragment(ctx context.Context) error
	// MoveLeader hands leadership to member target.
	MoveLeader(ctx context.Context, target uint64) error
}

// MaintenanceServer is the etcdserverpb.Maintenance service.
type MaintenanceServer struct {
	pb.UnimplementedMaintenanceServer
	be  MaintenanceBackend
	hdr Header
}

// NewMaintenanceServer serves be.
func NewMaintenanceServer(be MaintenanceBackend, hdr Header) *MaintenanceServer {
	return &MaintenanceServer{be: be, hdr: hdr}
}

// Status implements etcdserverpb.MaintenanceServer.
func (s *MaintenanceServer) Status(ctx context.Context, _ *pb.StatusRequest) (*pb.StatusResponse, error) {
	resp, err := s.be.Status(ctx)
	if err != nil {
		return nil, togRPCError(err)
	}
	if resp.Header == nil {
		resp.Header = &pb.ResponseHeader{}
	}
	s.hdr.FillHeader(resp.Header)
	return resp, nil
}

// Alarm implements etcdserverpb.MaintenanceServer.
func (s *MaintenanceServer) Alarm(ctx context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	resp, err := s.be.Alarm(ctx, r)
	if err != nil {
		return nil, togRPCError(err)
	}
	if resp.Header == nil {
		resp.Header = &pb.ResponseHeader{}
	}
	s.hdr.FillHeader(resp.Header)
	return resp, nil
}

// HashKV implements etcdserverpb.MaintenanceServer.
func (s *MaintenanceServer) HashKV(ctx context.Context, r *pb.HashKVRequest) (*pb.HashKVResponse, error) {
	resp, err := s.be.HashKV(ctx, r.Revision)
	if err != nil {
		return nil, togRPCError(err)
	}
	if resp.Header == nil {
		resp.Header = &pb.ResponseHeader{}
	}
	s.hdr.FillHeader(resp.Header)
	return resp, nil
}

// Hash implements etcdserverpb.MaintenanceServer.
func (s *MaintenanceServer) Hash(ctx context.Context, _ *pb.HashRequest) (*pb.HashResponse, error) {
	resp, err := s.be.Hash(ctx)
	if err != nil {
		return nil, togRPCError(err)
	}
	if resp.Header == nil {
		resp.Header = &pb.ResponseHeader{}
	}
	s.hdr.FillHeader(resp.Header)
	return resp, nil
}

// MoveLeader implements etcdserverpb.MaintenanceServer.
func (s *MaintenanceServer) MoveLeader(ctx context.Context, r *pb.MoveLeaderRequest) (*pb.MoveLeaderResponse, error) {
	if err := s.be.MoveLeader(ctx, r.TargetID); err != nil {
		return nil, togRPCError(err)
	}
	h := &pb.ResponseHeader{}
	s.hdr.FillHeader(h)
	return &pb.MoveLeaderResponse{Header: h}, nil
}

// Defragment implements etcdserverpb.MaintenanceServer.
func (s *MaintenanceServer) Defragment(ctx context.Context, _ *pb.DefragmentRequest) (*pb.DefragmentResponse, error) {
	if err := s.be.Defragment(ctx); err != nil {
		return nil, togRPCError(err)
	}
	h := &pb.ResponseHeader{}
	s.hdr.FillHeader(h)
	return &pb.DefragmentResponse{Header: h}, nil
}
