package v3rpc

import (
	"context"
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/cairn-kv/cairn/internal/lease"
)

// LeaseBackend serves the lease RPCs.
type LeaseBackend interface {
	LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error)
	LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error)
	// LeaseRenew refreshes a lease and returns its TTL.
	LeaseRenew(ctx context.Context, id int64) (int64, error)
	LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error)
	LeaseLeases(ctx context.Context) (*pb.LeaseLeasesResponse, error)
}

// LeaseServer is the etcdserverpb.Lease service.
type LeaseServer struct {
	pb.UnimplementedLeaseServer
	be  LeaseBackend
	hdr Header
}

// NewLeaseServer serves be.
func NewLeaseServer(be LeaseBackend, hdr Header) *LeaseServer {
	return &LeaseServer{be: be, hdr: hdr}
}

func (s *LeaseServer) fill(h **pb.ResponseHeader) {
	if *h == nil {
		*h = &pb.ResponseHeader{}
	}
	s.hdr.FillHeader(*h)
}

// LeaseGrant implements etcdserverpb.LeaseServer.
func (s *LeaseServer) LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	if r.TTL > lease.MaxTTL {
		return nil, rpctypes.ErrGRPCLeaseTTLTooLarge
	}
	resp, err := s.be.LeaseGrant(ctx, r)
	if err != nil {
		return nil, togRPCError(err)
	}
	s.fill(&resp.Header)
	return resp, nil
}

// LeaseRevoke implements etcdserverpb.LeaseServer.
func (s *LeaseServer) LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	resp, err := s.be.LeaseRevoke(ctx, r)
	if err != nil {
		return nil, togRPCError(err)
	}
	s.fill(&resp.Header)
	return resp, nil
}

// LeaseTimeToLive implements etcdserverpb.LeaseServer.
func (s *LeaseServer) LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	resp, err := s.be.LeaseTimeToLive(ctx, r)
	if err != nil {
		return nil, togRPCError(err)
	}
	s.fill(&resp.Header)
	return resp, nil
}

// LeaseLeases implements etcdserverpb.LeaseServer.
func (s *LeaseServer) LeaseLeases(ctx context.Context, _ *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error) {
	resp, err := s.be.LeaseLeases(ctx)
	if err != nil {
		return nil, togRPCError(err)
	}
	s.fill(&resp.Header)
	return resp, nil
}

// LeaseKeepAlive implements etcdserverpb.LeaseServer: each request renews
// one lease; an unknown or expired lease gets TTL 0, not an error.
func (s *LeaseServer) LeaseKeepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	ctx := stream.Context()
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		ttl, err := s.be.LeaseRenew(ctx, req.ID)
		if err != nil && !errors.Is(err, lease.ErrLeaseNotFound) {
			return togRPCError(err)
		}
		resp := &pb.LeaseKeepAliveResponse{ID: req.ID, TTL: ttl}
		s.fill(&resp.Header)
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}
