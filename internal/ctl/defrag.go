package ctl

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-kv/cairn/internal/utl"
)

// newDefragCommand defragments each endpoint in turn, reporting each on its
// own line, and fails (exit 1, no further message) when any failed.
//
// --data-dir is etcdctl 3.5's deprecated offline defragmentation, which
// etcdctl 3.6 dropped for `etcdutl defrag`; it is kept, hidden, for older
// scripts and runs etcdutl's command.
func (c *cli) newDefragCommand() *cobra.Command {
	var (
		cluster bool
		dataDir string
	)
	cmd := &cobra.Command{
		Use:   "defrag",
		Short: "Defragments the storage of the etcd members with given endpoints",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "Use `etcdutl defrag` instead. The --data-dir is going to be decomissioned in v3.6.\n\n")
				code := utl.Main(utl.Options{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Context: cmd.Context()},
					[]string{"defrag", "--data-dir", dataDir})
				if code != 0 {
					return silentExit(code)
				}
				return nil
			}
			eps, err := c.endpointList(cmd, cluster)
			if err != nil {
				return err
			}
			if _, err := c.printer(cmd); err != nil {
				return err
			}
			failed := false
			for _, ep := range eps {
				ok, err := c.defragOne(cmd, ep)
				if err != nil {
					return err
				}
				failed = failed || !ok
			}
			if failed {
				return silentExit(ExitError)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&cluster, "cluster", false, "use all endpoints from the cluster member list")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "Optional. If present, defragments a data directory not in use by etcd.")
	cmd.Flags().MarkHidden("data-dir")
	return cmd
}

// defragOne defragments one endpoint, with its own client, and reports.
// A client that cannot be built (a TLS file that does not load) ends the
// command, as etcdctl's does, instead of counting as a failed member.
func (c *cli) defragOne(cmd *cobra.Command, ep string) (ok bool, err error) {
	cl, err := c.newClient([]string{ep})
	if err != nil {
		return false, err
	}
	defer cl.Close()
	ctx, cancel := c.commandCtx(cmd)
	defer cancel()
	start := time.Now()
	_, err = cl.Defragment(ctx, ep)
	took := time.Since(start)
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "Failed to defragment etcd member[%s]. took %s. (%v)\n", ep, took, err)
		return false, nil
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Finished defragmenting etcd member[%s]. took %s\n", ep, took)
	return true, nil
}
