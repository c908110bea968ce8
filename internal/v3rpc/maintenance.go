package v3rpc

import (
	"bufio"
	"context"
	"crypto/sha256"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
	// Snapshot writes a snapshot of the backend, as of one applied index.
	Snapshot(ctx context.Context) (*SnapshotFile, error)
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
	// etcd answers MoveLeader without a header (etcdctl -w json prints {}).
	return &pb.MoveLeaderResponse{}, nil
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

// SnapshotFile is a snapshot of the backend written to a file: the
// database followed by its sha256, as the Snapshot RPC sends it.
type SnapshotFile struct {
	// File holds Size bytes from offset 0; Close releases it.
	File    io.ReadSeekCloser
	Size    int64
	Version string // the storage version
}

// snapshotChunk is the size of the blobs the Snapshot RPC sends.
const snapshotChunk = 32 * 1024

// Snapshot implements etcdserverpb.MaintenanceServer: the database in
// chunks, each telling how many database bytes remain, then the sha256 in a
// last message of its own, as etcd streams it.
func (s *MaintenanceServer) Snapshot(_ *pb.SnapshotRequest, srv pb.Maintenance_SnapshotServer) error {
	snap, err := s.be.Snapshot(srv.Context())
	if err != nil {
		return togRPCError(err)
	}
	defer snap.File.Close()
	body := snap.Size - sha256.Size
	if body < 0 {
		return status.Errorf(codes.Internal, "snapshot of %d bytes has no checksum", snap.Size)
	}
	if _, err := snap.File.Seek(0, io.SeekStart); err != nil {
		return togRPCError(err)
	}
	r := bufio.NewReaderSize(snap.File, snapshotChunk)
	buf := make([]byte, snapshotChunk)
	for sent := int64(0); sent < body; {
		n := int(min(int64(len(buf)), body-sent))
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return togRPCError(err)
		}
		sent += int64(n)
		resp := &pb.SnapshotResponse{RemainingBytes: uint64(body - sent), Blob: buf[:n], Version: snap.Version}
		if err := srv.Send(resp); err != nil {
			return err
		}
	}
	sum := make([]byte, sha256.Size)
	if _, err := io.ReadFull(r, sum); err != nil {
		return togRPCError(err)
	}
	return srv.Send(&pb.SnapshotResponse{Blob: sum, Version: snap.Version})
}
