package utl

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cairn-kv/cairn/internal/snapshot"
	"github.com/cairn-kv/cairn/internal/storage"
	"github.com/cairn-kv/cairn/internal/version"
)

func (c *cli) newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Prints the version of etcdutl",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(c.opts.Stdout, "etcdutl version: %s\n", version.EtcdVersion)
			fmt.Fprintf(c.opts.Stdout, "API version: %s\n", version.APIVersion())
		},
	}
}

func (c *cli) newSnapshotCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot <subcommand>",
		Short: "Manages etcd node snapshots",
	}
	cmd.AddCommand(c.newSnapshotRestoreCommand(), c.newSnapshotStatusCommand())
	return cmd
}

func (c *cli) newSnapshotStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status <filename>",
		Short: "Gets backend snapshot status of a given file",
		Run: c.run(func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErrf(ExitBadArgs, "snapshot status requires exactly one argument")
			}
			f, err := c.openForReading(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Status()
			if err != nil {
				return err
			}
			return c.print(c.opts.Stdout, func(w io.Writer, format string) { printStatus(w, format, st) })
		}),
	}
}

func (c *cli) newHashKVCommand() *cobra.Command {
	var rev int64
	cmd := &cobra.Command{
		Use:   "hashkv <filename>",
		Short: "Prints the KV history hash of a given file",
		Args:  cobra.ExactArgs(1),
		Run: c.run(func(cmd *cobra.Command, args []string) error {
			f, err := c.openForReading(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			h, err := f.HashKV(rev)
			if err != nil {
				return err
			}
			return c.print(c.opts.Stdout, func(w io.Writer, format string) { printHashKV(w, format, h) })
		}),
	}
	cmd.Flags().Int64Var(&rev, "rev", 0, "maximum revision to hash (default: latest revision)")
	return cmd
}

// openForReading opens a file for status and hashkv, which read snapshots
// and copies of a member's db file alike and do not check the trailer. The
// checks come in etcdutl's order: the file exists, -w names a format, the
// file is a database.
func (c *cli) openForReading(path string) (*snapshot.File, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	if err := c.checkFormat(); err != nil {
		return nil, err
	}
	return snapshot.Open(path, true)
}

// memberDir is where a Cairn member keeps its storage in a data directory.
func memberDir(dataDir string) string { return filepath.Join(dataDir, "member") }

func (c *cli) newDefragCommand() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "defrag",
		Short: "Defragments the storage of the etcd",
		Run: c.run(func(cmd *cobra.Command, _ []string) error {
			// etcdutl prints nothing on success and logs on stderr.
			if err := c.defrag(cmd.Context(), dataDir); err != nil {
				return fmt.Errorf("Failed to defragment etcd data[%s] (%w)", dataDir, err)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "Required. Defragments a data directory not in use by etcd.")
	cmd.MarkFlagRequired("data-dir")
	cmd.MarkFlagDirname("data-dir")
	return cmd
}

// logger writes etcdutl's log lines to stderr, as JSON like Cairn's other
// logs.
func (c *cli) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(c.opts.Stderr, nil))
}

// defrag compacts the whole engine of a stopped member, dropping the space
// of deleted and overwritten data at once instead of as the engine's
// background compactions get to it. A running member holds the engine's
// lock, and the open fails.
func (c *cli) defrag(ctx context.Context, dataDir string) error {
	dir := memberDir(dataDir)
	st, err := os.Stat(dir)
	if err == nil && !st.IsDir() {
		err = fmt.Errorf("%s is not a directory", dir)
	}
	if err != nil {
		return err
	}
	lg := c.logger()
	eng, err := storage.Open(dir, storage.Options{}, lg)
	if err != nil {
		return err
	}
	before := eng.SizeBytes()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := eng.Compact(ctx); err != nil {
		eng.Close()
		return err
	}
	after := eng.SizeBytes()
	if err := eng.Close(); err != nil {
		return err
	}
	lg.Info("finished defragmenting directory", "data-dir", dataDir, "size-before", before, "size-after", after)
	return nil
}
