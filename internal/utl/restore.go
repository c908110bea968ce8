package utl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-kv/cairn/internal/backup"
	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/snapshot"
)

// RestoreOptions are the flags of `etcdutl snapshot restore`, checked.
type RestoreOptions struct {
	// SnapshotPath is the snapshot file, open and checked in the File
	// handed to Restore.
	SnapshotPath string
	// DataDir is the new member's data directory; it does not exist or is
	// empty. It defaults to "<name>.etcd".
	DataDir string
	// WALDir is --wal-dir, "" when not given; when given it does not exist.
	WALDir string
	// Name is the new member's name; it is in InitialCluster.
	Name string
	// InitialCluster maps each member's name to its peer URLs, sorted. No
	// URL appears twice.
	InitialCluster map[string][]url.URL
	// InitialClusterToken seeds the new cluster's member and cluster IDs.
	InitialClusterToken string
	// PeerURLs are this member's --initial-advertise-peer-urls, sorted; they
	// are its URLs in InitialCluster.
	PeerURLs []url.URL
	// SkipHashCheck was given: the file may have no or a wrong trailer.
	SkipHashCheck bool
	// BumpRevision is added to the snapshot's latest revision, so that the
	// restored cluster's revisions never repeat ones that clients have
	// seen; MarkCompacted then marks the new latest revision compacted, so
	// that watchers from before the restore are cancelled. They come
	// together: BumpRevision > 0 if and only if MarkCompacted.
	BumpRevision  uint64
	MarkCompacted bool
	// InitialMemoryMapSize is etcd's bbolt memory map size, accepted for
	// compatibility; Cairn's storage has no use for it.
	InitialMemoryMapSize uint64
	// Timeout is --timeout: how long to wait for a lock on the data
	// directory (0 waits forever).
	Timeout time.Duration
	// Logger writes to etcdutl's stderr.
	Logger *slog.Logger
}

// Restore writes a new member's data directory from a snapshot; tests
// replace it. The file is closed by the caller after Restore returns.
var Restore = restoreDataDir

// restoreDataDir restores with internal/backup.
func restoreDataDir(ctx context.Context, opts RestoreOptions, f *snapshot.File) error {
	if opts.BumpRevision > math.MaxInt64/2 {
		return fmt.Errorf("--bump-revision %d is too large", opts.BumpRevision)
	}
	return backup.Restore(ctx, backup.RestoreConfig{
		DataDir:             opts.DataDir,
		WALDir:              opts.WALDir,
		Name:                opts.Name,
		InitialCluster:      opts.InitialCluster,
		InitialClusterToken: opts.InitialClusterToken,
		BumpRevision:        int64(opts.BumpRevision),
		MarkCompacted:       opts.MarkCompacted,
		Logger:              opts.Logger,
	}, f)
}

// restoreFlags are the raw flag values.
type restoreFlags struct {
	dataDir, walDir, name       string
	initialCluster, token, peer string
	skipHashCheck, markCompact  bool
	bumpRevision, mmapSize      uint64
}

func (c *cli) newSnapshotRestoreCommand() *cobra.Command {
	var fl restoreFlags
	cmd := &cobra.Command{
		Use:   "restore <filename> --data-dir {output dir} [options]",
		Short: "Restores an etcd member snapshot to an etcd directory",
		Run: c.run(func(cmd *cobra.Command, args []string) error {
			return c.restore(cmd.Context(), args, fl)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&fl.dataDir, "data-dir", "", "Path to the output data directory")
	f.StringVar(&fl.walDir, "wal-dir", "", "Path to the WAL directory (use --data-dir if none given)")
	f.StringVar(&fl.initialCluster, "initial-cluster", "default=http://localhost:2380", "Initial cluster configuration for restore bootstrap")
	f.StringVar(&fl.token, "initial-cluster-token", "etcd-cluster", "Initial cluster token for the etcd cluster during restore bootstrap")
	f.StringVar(&fl.peer, "initial-advertise-peer-urls", "http://localhost:2380", "List of this member's peer URLs to advertise to the rest of the cluster")
	f.StringVar(&fl.name, "name", "default", "Human-readable name for this member")
	f.BoolVar(&fl.skipHashCheck, "skip-hash-check", false, "Ignore snapshot integrity hash value (required if copied from data directory)")
	f.Uint64Var(&fl.mmapSize, "initial-memory-map-size", 10*1024*1024*1024, "Initial memory map size of the database in bytes. It uses the default value if not defined or defined to 0")
	f.Uint64Var(&fl.bumpRevision, "bump-revision", 0, "How much to increase the latest revision after restore")
	f.BoolVar(&fl.markCompact, "mark-compacted", false, "Mark the latest revision after restore as the point of scheduled compaction (required if --bump-revision > 0, disallowed otherwise)")
	cmd.MarkFlagDirname("data-dir")
	cmd.MarkFlagDirname("wal-dir")
	return cmd
}

// restore checks the flags in etcdutl's order, opens the snapshot and hands
// both to Restore.
func (c *cli) restore(ctx context.Context, args []string, fl restoreFlags) error {
	if len(args) != 1 {
		return exitErrf(ExitBadArgs, "snapshot restore requires exactly one argument")
	}
	if (fl.bumpRevision > 0) != fl.markCompact {
		return exitErrf(ExitBadArgs, "--mark-compacted required if --revision-bump > 0")
	}
	opts := RestoreOptions{
		SnapshotPath:         args[0],
		DataDir:              fl.dataDir,
		WALDir:               fl.walDir,
		Name:                 fl.name,
		InitialClusterToken:  fl.token,
		SkipHashCheck:        fl.skipHashCheck,
		BumpRevision:         fl.bumpRevision,
		MarkCompacted:        fl.markCompact,
		InitialMemoryMapSize: fl.mmapSize,
		Timeout:              c.timeout,
		Logger:               c.logger(),
	}
	if opts.DataDir == "" {
		opts.DataDir = opts.Name + ".etcd"
	}
	var err error
	if opts.InitialCluster, err = parseInitialCluster(fl.initialCluster); err != nil {
		return err
	}
	if opts.PeerURLs, err = parsePeerURLs(fl.peer); err != nil {
		return err
	}
	if err := checkCluster(opts.Name, opts.InitialCluster, opts.PeerURLs); err != nil {
		return err
	}
	if !emptyDir(opts.DataDir) {
		return fmt.Errorf("data-dir %q not empty or could not be read", opts.DataDir)
	}
	if opts.WALDir != "" {
		if _, err := os.Stat(opts.WALDir); err == nil {
			return fmt.Errorf("wal-dir %q exists", opts.WALDir)
		}
	}

	opts.Logger.Info("restoring snapshot", "path", opts.SnapshotPath, "data-dir", opts.DataDir, "wal-dir", opts.WALDir)
	f, err := snapshot.Open(opts.SnapshotPath, opts.SkipHashCheck)
	if err != nil {
		return err
	}
	defer f.Close()
	if ctx == nil {
		ctx = context.Background()
	}
	return Restore(ctx, opts, f)
}

// emptyDir reports whether dir does not exist or is an empty directory.
func emptyDir(dir string) bool {
	d, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	defer d.Close()
	_, err = d.Readdirnames(1)
	return errors.Is(err, io.EOF)
}

// parseInitialCluster parses --initial-cluster. etcd reads an item without
// '=' as a name with an empty URL, which it then refuses.
func parseInitialCluster(s string) (map[string][]url.URL, error) {
	for item := range strings.SplitSeq(s, ",") {
		if item != "" && !strings.Contains(item, "=") {
			return nil, errors.New("URL scheme must be http, https, unix, or unixs: ")
		}
	}
	return config.ParseInitialCluster(s)
}

// parsePeerURLs parses --initial-advertise-peer-urls, which etcd requires to
// name at least one URL.
func parsePeerURLs(s string) ([]url.URL, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("URL scheme must be http, https, unix, or unixs: ")
	}
	return config.ParseURLs(s)
}

// checkCluster applies etcd's bootstrap checks, in etcd's order and with its
// texts: the member is in the cluster, its URLs there are the ones it
// advertises, and no URL belongs to two members. Host names are compared as
// written (etcd resolves them when the strings differ; see internal/config).
func checkCluster(name string, cluster map[string][]url.URL, peers []url.URL) error {
	mine, ok := cluster[name]
	if !ok {
		return fmt.Errorf("couldn't find local name %q in the initial cluster configuration", name)
	}
	want, got := urlStrings(mine), urlStrings(peers)
	if !slices.Equal(want, got) {
		return advertiseMismatch(name, want, got)
	}
	seen := make(map[string]bool)
	for _, us := range cluster {
		for _, u := range us {
			if seen[u.String()] {
				return fmt.Errorf("initial cluster %s has duplicate url", config.FormatInitialCluster(cluster))
			}
			seen[u.String()] = true
		}
	}
	return nil
}

// advertiseMismatch explains how this member's URLs in --initial-cluster
// (cluster) differ from --initial-advertise-peer-urls (peers), as etcd does.
// Both are sorted.
func advertiseMismatch(name string, cluster, peers []string) error {
	var reason string
	if len(peers) != len(cluster) {
		reason = fmt.Sprintf("len(%q) != len(%q)", peers, cluster)
	} else {
		for i := range peers {
			if peers[i] != cluster[i] {
				reason = fmt.Sprintf("resolved urls: %q != %q", peers[i], cluster[i])
				break
			}
		}
	}
	var missing []string
	for _, u := range cluster {
		if !slices.Contains(peers, u) {
			missing = append(missing, name+"="+u)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("--initial-cluster has %s but missing from --initial-advertise-peer-urls=%s (%s)",
			strings.Join(missing, ","), strings.Join(peers, ","), reason)
	}
	advertised := make([]string, len(peers))
	for i, u := range peers {
		advertised[i] = name + "=" + u
	}
	for _, u := range peers {
		if !slices.Contains(cluster, u) {
			missing = append(missing, u)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("--initial-advertise-peer-urls has %s but missing from --initial-cluster=%s",
			strings.Join(missing, ","), strings.Join(advertised, ","))
	}
	return fmt.Errorf("failed to resolve %s to match --initial-cluster=%s (%s)",
		strings.Join(peers, ","), strings.Join(slices.Compact(advertised), ","), reason)
}

func urlStrings(us []url.URL) []string {
	ss := make([]string, len(us))
	for i := range us {
		ss[i] = us[i].String()
	}
	slices.Sort(ss)
	return ss
}
