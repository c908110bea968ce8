package server

import (
	"github.com/cairn-kv/cairn/internal/v3rpc"
)

// NewWatchStream implements v3rpc.WatchBackend.
func (s *Server) NewWatchStream() v3rpc.WatchStream { return s.hub.NewStream() }

// HasLeader implements v3rpc.WatchBackend.
func (s *Server) HasLeader() bool { return s.node.Leader() != 0 }
