// Package server wires the member together: storage, raft node, applier and
// the client-facing listeners. It decides nothing itself.
package server

import (
	"context"
	"errors"
	"log/slog"

	"github.com/cairn-kv/cairn/internal/config"
)

// Server is one Cairn member.
type Server struct {
	cfg *config.Config
	lg  *slog.Logger
}

// New prepares a member from cfg; it opens nothing until Start.
func New(cfg *config.Config, lg *slog.Logger) (*Server, error) {
	return &Server{cfg: cfg, lg: lg}, nil
}

// Start opens storage, starts raft and serves clients. It returns once the
// client listeners serve (and "ready to serve client requests" is logged).
func (s *Server) Start(ctx context.Context) error {
	return errors.New("server: not implemented yet")
}

// Close stops serving and closes storage.
func (s *Server) Close() error { return nil }
