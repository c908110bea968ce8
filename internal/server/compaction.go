package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/compactor"
)

// autoCompactor adapts the server to compactor.Member.
type autoCompactor struct{ s *Server }

func (a autoCompactor) IsLeader() bool { return a.s.node.IsLeader() }
func (a autoCompactor) Rev() int64     { return a.s.kv.Rev() }
func (a autoCompactor) Compact(ctx context.Context, rev int64) error {
	_, err := a.s.propose(ctx, &pb.InternalRaftRequest{Compaction: &pb.CompactionRequest{Revision: rev}})
	return err
}

// startAutoCompaction runs --auto-compaction-* on this member (it acts only
// while it leads).
func (s *Server) startAutoCompaction() error {
	c, err := compactor.New(compactor.Config{Mode: s.cfg.AutoCompactionMode, Retention: s.cfg.AutoCompactionRetention,
		RevisionInterval: s.cfg.AutoCompactionRevisionInterval},
		autoCompactor{s}, s.lg.With("component", "compactor"))
	if err != nil || c == nil {
		return err
	}
	s.compactor = c
	c.Start()
	return nil
}
