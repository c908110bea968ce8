package ctl

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/utl"
)

const snapshotExamples = `# Save snapshot to a given file
etcdctl snapshot save /backup/etcd-snapshot.db

# Get snapshot from given address and save it to file
etcdctl snapshot save --endpoints=127.0.0.1:3000 /backup/etcd-snapshot.db

# Get snapshot from given address with certificates
etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/ca.crt --cert=/etc/etcd/etcd.crt --key=/etc/etcd/etcd.key snapshot save /backup/etcd-snapshot.db

# Get snapshot wih certain user and password
etcdctl --user=root --password=password123 snapshot save /backup/etcd-snapshot.db

# Get snapshot from given address with timeout
etcdctl --endpoints=https://127.0.0.1:2379 --dial-timeout=20s snapshot save /backup/etcd-snapshot.db

# Save snapshot with desirable time format
etcdctl snapshot save /mnt/backup/etcd/backup_$(date +%Y%m%d_%H%M%S).db`

// newSnapshotCommand has save, and, hidden, etcdctl 3.5's deprecated status
// and restore, which moved to etcdutl in 3.6; they run etcdutl's commands
// after etcdctl 3.5's warning.
func (c *cli) newSnapshotCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "snapshot <subcommand>",
		Short:   "Manages etcd node snapshots",
		Example: snapshotExamples,
	}
	cmd.AddCommand(c.newSnapshotSaveCommand(), c.newSnapshotStatusCommand(), c.newSnapshotRestoreCommand())
	return cmd
}

// newSnapshotSaveCommand streams a snapshot from the one endpoint into
// <file>.part, syncs it and renames it to <file>. Failures exit with 5,
// as etcdctl's do. The whole download is bounded by --command-timeout.
func (c *cli) newSnapshotSaveCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "save <filename>",
		Short:   "Stores an etcd node backend snapshot to a given file",
		Example: snapshotExamples,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("snapshot save expects one argument <filename>"))
			}
			cfg, err := c.clientConfig(nil)
			if err != nil {
				return err
			}
			if _, err := c.printer(cmd); err != nil {
				return err
			}
			if len(cfg.Endpoints) != 1 {
				return exitErrf(ExitInterrupted, "snapshot must be requested to one selected node, not multiple %v", cfg.Endpoints)
			}
			version, err := c.saveSnapshot(cmd, args[0])
			if err != nil {
				return exitErr(ExitInterrupted, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Snapshot saved at %s\n", args[0])
			if version != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "Server version %s\n", version)
			}
			return nil
		},
	}
}

// saveSnapshot writes the snapshot and returns the storage version of the
// server that made it ("" when the server does not say).
func (c *cli) saveSnapshot(cmd *cobra.Command, path string) (version string, err error) {
	lg := newLogger(c.opts.Stderr, zap.InfoLevel)
	part := path + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("could not open %s (%v)", part, err)
	}
	lg.Info("created temporary db file", zap.String("path", part))
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(part)
		}
	}()

	cl, err := c.newClient(nil)
	if err != nil {
		return "", err
	}
	defer cl.Close()
	ctx, cancel := c.commandCtx(cmd)
	defer cancel()
	start := time.Now()
	resp, err := cl.SnapshotWithVersion(ctx)
	if err != nil {
		return "", err
	}
	defer resp.Snapshot.Close()
	ep := cl.Endpoints()[0]
	lg.Info("fetching snapshot", zap.String("endpoint", ep))
	n, err := io.Copy(f, resp.Snapshot)
	if err != nil {
		return "", err
	}
	// A database is whole pages of a multiple of 512 bytes; the sha256
	// follows it.
	if n%512 != sha256.Size {
		return "", fmt.Errorf("sha256 checksum not found [bytes: %d]", n)
	}
	// The file is durable before it gets its final name.
	if err := f.Sync(); err != nil {
		return "", err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return "", err
	}
	lg.Info("fetched snapshot", zap.String("endpoint", ep), zap.String("size", siBytes(uint64(n))),
		zap.String("took", agoText(time.Since(start))), zap.String("etcd-version", resp.Version))
	if err := os.Rename(part, path); err != nil {
		return "", fmt.Errorf("could not rename %s to %s (%v)", part, path, err)
	}
	lg.Info("saved", zap.String("path", path))
	return resp.Version, nil
}

// agoText words an elapsed time as etcdctl's log does: "now" under a
// second, then "1 second ago", "5 seconds ago", "1 minute ago", ...
func agoText(d time.Duration) string {
	const day = 24 * time.Hour
	steps := []struct {
		below time.Duration
		one   string
		unit  time.Duration
		many  string
	}{
		{time.Minute, "1 second ago", time.Second, "%d seconds ago"},
		{time.Hour, "1 minute ago", time.Minute, "%d minutes ago"},
		{day, "1 hour ago", time.Hour, "%d hours ago"},
	}
	if d < time.Second {
		return "now"
	}
	for _, s := range steps {
		if d < s.below {
			if d < 2*s.unit {
				return s.one
			}
			return fmt.Sprintf(s.many, int64(d/s.unit))
		}
	}
	if d < 2*day {
		return "1 day ago"
	}
	return fmt.Sprintf("%d days ago", int64(d/day))
}

// runUtl runs an etcdutl command line with this command's streams; its
// exit code becomes this command's, its error already printed.
func (c *cli) runUtl(cmd *cobra.Command, args []string) error {
	code := utl.Main(utl.Options{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Context: cmd.Context()}, args)
	if code != 0 {
		return silentExit(code)
	}
	return nil
}

func (c *cli) newSnapshotStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "status <filename>",
		Short:  "[deprecated] Gets backend snapshot status of a given file",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(cmd.ErrOrStderr(), "Deprecated: Use `etcdutl snapshot status` instead.\n\n")
			if err := c.prepare(); err != nil {
				return err
			}
			return c.runUtl(cmd, append(append([]string{"snapshot", "status"}, args...), "--write-out", c.g.writeOut))
		},
	}
}

// newSnapshotRestoreCommand takes etcdctl 3.5's flags, with its defaults,
// and hands the ones given to etcdutl.
func (c *cli) newSnapshotRestoreCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "restore <filename> [options]",
		Short:  "Restores an etcd member snapshot to an etcd directory",
		Long:   "Moved to `etcdutl snapshot restore ...`",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(cmd.ErrOrStderr(), "Deprecated: Use `etcdutl snapshot restore` instead.\n\n")
			utlArgs := append([]string{"snapshot", "restore"}, args...)
			// The flags given on the command line are marked in Flags();
			// only this command's own go to etcdutl, not etcdctl's globals.
			local := cmd.LocalFlags()
			cmd.Flags().Visit(func(f *pflag.Flag) {
				if local.Lookup(f.Name) != nil {
					utlArgs = append(utlArgs, "--"+f.Name+"="+f.Value.String())
				}
			})
			return c.runUtl(cmd, utlArgs)
		},
	}
	f := cmd.Flags()
	f.String("data-dir", "", "Path to the data directory")
	f.String("wal-dir", "", "Path to the WAL directory (use --data-dir if none given)")
	f.String("initial-cluster", "default=http://localhost:2380", "Initial cluster configuration for restore bootstrap")
	f.String("initial-cluster-token", "etcd-cluster", "Initial cluster token for the etcd cluster during restore bootstrap")
	f.String("initial-advertise-peer-urls", "http://localhost:2380", "List of this member's peer URLs to advertise to the rest of the cluster")
	f.String("name", "default", "Human-readable name for this member")
	f.Bool("skip-hash-check", false, "Ignore snapshot integrity hash value (required if copied from data directory)")
	f.Uint64("initial-memory-map-size", 0, "Initial memory map size of the database in bytes. It uses the default value if not defined or defined to 0")
	f.Uint64("bump-revision", 0, "How much to increase the latest revision after restore")
	f.Bool("mark-compacted", false, "Mark the latest revision after restore as the point of scheduled compaction (required if --bump-revision > 0, disallowed otherwise)")
	return cmd
}
