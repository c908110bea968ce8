package ctl

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func (c *cli) newCompactionCommand() *cobra.Command {
	var physical bool
	cmd := &cobra.Command{
		Use:   "compaction [options] <revision>",
		Short: "Compacts the event history in etcd",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("compaction command needs 1 argument"))
			}
			rev, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return exitErr(ExitError, err)
			}
			cl, err := c.newClient(nil)
			if err != nil {
				return err
			}
			defer cl.Close()
			// The format is checked, but the result is the same line in
			// every format.
			if _, err := c.printer(cmd); err != nil {
				return err
			}
			var opts []clientv3.CompactOption
			if physical {
				opts = append(opts, clientv3.WithCompactPhysical())
			}
			ctx, cancel := c.commandCtx(cmd)
			_, err = cl.Compact(ctx, rev, opts...)
			cancel()
			if err != nil {
				return rpcError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "compacted revision %d\n", rev)
			return nil
		},
	}
	cmd.Flags().BoolVar(&physical, "physical", false, "'true' to wait for compaction to physically remove all old revisions")
	return cmd
}
