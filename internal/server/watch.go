package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/v3rpc"
)

// NewWatchStream implements v3rpc.WatchBackend.
func (s *Server) NewWatchStream() v3rpc.WatchStream { return s.hub.NewStream() }

// HasLeader implements v3rpc.WatchBackend.
func (s *Server) HasLeader() bool { return s.node.Leader() != 0 }

// AuthorizeWatch implements v3rpc.WatchBackend: a watcher needs read
// permission on its range.
func (s *Server) AuthorizeWatch(ctx context.Context, r *pb.WatchCreateRequest) error {
	info, err := s.authInfo(ctx)
	if err != nil {
		return err
	}
	key, end := r.Key, r.RangeEnd
	if len(key) == 0 {
		key = []byte{0}
	}
	return s.checkRange(info, key, end)
}
