// Command etcdutl is Cairn's offline tool for etcd snapshot files and data
// directories, compatible with etcdutl. The command tree lives in
// internal/utl; restoring a snapshot into a data directory is
// internal/backup's.
package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/signal"
	"syscall"

	"github.com/cairn-kv/cairn/internal/backup"
	"github.com/cairn-kv/cairn/internal/snapshot"
	"github.com/cairn-kv/cairn/internal/utl"
)

func main() {
	utl.Restore = restore
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := utl.Main(utl.Options{Context: ctx}, os.Args[1:])
	stop()
	os.Exit(code)
}

func restore(ctx context.Context, opts utl.RestoreOptions, f *snapshot.File) error {
	if opts.BumpRevision > math.MaxInt64/2 {
		return fmt.Errorf("--bump-revision %d is too large", opts.BumpRevision)
	}
	if opts.WALDir != "" {
		// The raft log lives in the data dir's engine; there is no
		// separate WAL to place.
		opts.Logger.Warn("--wal-dir is ignored: the raft log is kept in the data directory", "wal-dir", opts.WALDir)
	}
	return backup.Restore(ctx, backup.RestoreConfig{
		DataDir:             opts.DataDir,
		Name:                opts.Name,
		InitialCluster:      opts.InitialCluster,
		InitialClusterToken: opts.InitialClusterToken,
		BumpRevision:        int64(opts.BumpRevision),
		MarkCompacted:       opts.MarkCompacted,
		Logger:              opts.Logger,
	}, f)
}
