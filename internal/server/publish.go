package server

import (
	"context"
	"errors"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/membershippb"

	"github.com/cairn-kv/cairn/internal/v3rpc"
	"github.com/cairn-kv/cairn/internal/version"
)

// publish announces this member's name and client URLs through raft, and,
// on the leader, the cluster version; the member serves clients only after.
// It retries while there is no leader or the request times out.
func (s *Server) publish(ctx context.Context) error {
	attrs := &pb.InternalRaftRequest{ClusterMemberAttrSet: &membershippb.ClusterMemberAttrSetRequest{
		Member_ID: s.memberID,
		MemberAttributes: &membershippb.Attributes{
			Name:       s.cfg.Name,
			ClientUrls: urlStrings(s.cfg.AdvertiseClientURLs),
		},
	}}
	if err := s.proposeRetrying(ctx, attrs); err != nil {
		return err
	}
	if s.node.IsLeader() && s.cluster.Version() == "" {
		cv := &pb.InternalRaftRequest{ClusterVersionSet: &membershippb.ClusterVersionSetRequest{Ver: version.ClusterVersion()}}
		if err := s.proposeRetrying(ctx, cv); err != nil {
			return err
		}
	}
	s.lg.Info("published local member to cluster through raft", "name", s.cfg.Name, "client-urls", urlStrings(s.cfg.AdvertiseClientURLs))
	return nil
}

func (s *Server) proposeRetrying(ctx context.Context, r *pb.InternalRaftRequest) error {
	backoff := s.cfg.HeartbeatInterval
	for {
		_, err := s.propose(ctx, r)
		if err == nil {
			return nil
		}
		if !errors.Is(err, v3rpc.ErrNoLeader) && !errors.Is(err, v3rpc.ErrTimeout) && !errors.Is(err, v3rpc.ErrLeaderChanged) {
			return err
		}
		s.lg.Warn("failed to publish local member; retrying", "error", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stopping:
			return v3rpc.ErrStopped
		}
		backoff = min(2*backoff, time.Second)
	}
}
