package server

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-kv/cairn/internal/backup"
	"github.com/cairn-kv/cairn/internal/snapshot"
	"github.com/cairn-kv/cairn/internal/v3rpc"
)

// snapshotTempDir holds the files of snapshots being written: in the data
// dir, on the disk that has room for the data, not in a small /tmp. It is
// emptied at start, dropping what a crash left.
func snapshotTempDir(dataDir string) string { return filepath.Join(dataDir, "snapshot.tmp") }

// Snapshot implements v3rpc.MaintenanceBackend: a snapshot file in etcd's
// format, written from a point-in-time view of the engine (every applied
// batch carries its applied index, so the view is one applied index). The
// file is unlinked at once and vanishes when the stream closes it.
func (s *Server) Snapshot(ctx context.Context) (*v3rpc.SnapshotFile, error) {
	if _, err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	view := s.eng.DB().NewSnapshot()
	defer view.Close()
	dir := snapshotTempDir(s.cfg.DataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "snapshot-*.db")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	w := bufio.NewWriterSize(f, 1<<20)
	wr := snapshot.Writer{TempDir: dir}
	if _, err := wr.Write(w, ctxSource{ctx, backup.NewSource(view)}); err != nil {
		f.Close()
		return nil, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.metrics.BackendSnapshot(time.Since(start))
	s.lg.Info("sending database snapshot to client", "size-bytes", size, "took", time.Since(start).String())
	return &v3rpc.SnapshotFile{File: f, Size: size, Version: backup.StorageVersion}, nil
}

// ctxSource stops a snapshot's longest read when the client goes away.
type ctxSource struct {
	ctx context.Context
	*backup.Source
}

func (c ctxSource) Versions(fn func(snapshot.Version) error) error {
	n := 0
	return c.Source.Versions(func(v snapshot.Version) error {
		if n++; n%4096 == 0 && c.ctx.Err() != nil {
			return c.ctx.Err()
		}
		return fn(v)
	})
}
