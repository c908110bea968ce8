package ctl

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func (c *cli) newLeaseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lease <subcommand>",
		Short: "Lease related commands",
	}
	cmd.AddCommand(
		c.newLeaseGrantCommand(),
		c.newLeaseRevokeCommand(),
		c.newLeaseTimeToLiveCommand(),
		c.newLeaseListCommand(),
		c.newLeaseKeepAliveCommand(),
	)
	return cmd
}

// parseLeaseID reads a lease ID the way every command takes it: in hex.
func parseLeaseID(s string) (clientv3.LeaseID, error) {
	id, err := strconv.ParseInt(s, 16, 64)
	if err != nil {
		return 0, exitErrf(ExitBadArgs, "bad lease ID arg (%v), expecting ID in Hex", err)
	}
	return clientv3.LeaseID(id), nil
}

func (c *cli) newLeaseGrantCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "grant <ttl>",
		Short: "Creates leases",
		Long:  "Creates a lease that lives for the given number of seconds unless it is kept alive.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("lease grant command needs TTL argument"))
			}
			ttl, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return exitErrf(ExitBadArgs, "bad TTL (%v)", err)
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			resp, err := cl.Grant(ctx, ttl)
			cancel()
			if err != nil {
				return exitErrf(ExitError, "failed to grant lease (%v)", err)
			}
			return p.leaseGrant(resp)
		},
	}
}

func (c *cli) newLeaseRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke <leaseID>",
		Short: "Revokes leases",
		Long:  "Revokes a lease, deleting every key attached to it.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("lease revoke command needs 1 argument"))
			}
			id, err := parseLeaseID(args[0])
			if err != nil {
				return err
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			resp, err := cl.Revoke(ctx, id)
			cancel()
			if err != nil {
				return exitErrf(ExitError, "failed to revoke lease (%v)", err)
			}
			return p.leaseRevoke(id, resp)
		},
	}
}

func (c *cli) newLeaseTimeToLiveCommand() *cobra.Command {
	var keys bool
	cmd := &cobra.Command{
		Use:   "timetolive <leaseID> [options]",
		Short: "Get lease information",
		Long:  "Shows a lease's granted and remaining TTL, and with --keys the keys attached to it.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("lease timetolive command needs lease ID as argument"))
			}
			id, err := parseLeaseID(args[0])
			if err != nil {
				return err
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			var opts []clientv3.LeaseOption
			if keys {
				opts = append(opts, clientv3.WithAttachedKeys())
			}
			// etcdctl puts no deadline on this request, nor on list and
			// keep-alive --once: a dead endpoint makes them wait.
			resp, err := cl.TimeToLive(baseContext(cmd.Context()), id, opts...)
			if err != nil {
				return exitErr(ExitBadConnection, err)
			}
			return p.leaseTimeToLive(resp, keys)
		},
	}
	cmd.Flags().BoolVar(&keys, "keys", false, "Get keys attached to this lease")
	return cmd
}

func (c *cli) newLeaseListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List all active leases",
		Long:  "Lists the IDs of all leases that have not expired.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.Leases(baseContext(cmd.Context()))
			if err != nil {
				return exitErr(ExitBadConnection, err)
			}
			return p.leaseList(resp)
		},
	}
}

func (c *cli) newLeaseKeepAliveCommand() *cobra.Command {
	var once bool
	cmd := &cobra.Command{
		Use:   "keep-alive [options] <leaseID>",
		Short: "Keeps leases alive (renew)",
		Long: `Renews a lease again and again, printing each renewal, until the lease
expires or is revoked. With --once it renews the lease a single time.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("lease keep-alive command needs lease ID as argument"))
			}
			id, err := parseLeaseID(args[0])
			if err != nil {
				return err
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			if once {
				resp, err := cl.KeepAliveOnce(baseContext(cmd.Context()), id)
				if err != nil {
					return exitErr(ExitBadConnection, err)
				}
				return p.leaseKeepAlive(resp)
			}
			return c.keepAlive(cmd, cl, p, id)
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "Resets the keep-alive time to its original value and cobrautl.Exits immediately")
	return cmd
}

// keepAlive renews the lease until the client gives up on it: the lease
// expired, was revoked, or the server refused a renewal. The client library
// ends the stream then without saying why, and etcdctl reports all three
// alike (in the simple format only) and exits normally.
func (c *cli) keepAlive(cmd *cobra.Command, cl *clientv3.Client, p printer, id clientv3.LeaseID) error {
	ctx, stop := c.interruptContext(baseContext(cmd.Context()), false)
	defer stop()
	ch, err := cl.KeepAlive(ctx, id)
	if err != nil {
		return exitErr(ExitBadConnection, err)
	}
	for resp := range ch {
		if err := p.leaseKeepAlive(resp); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return killedByInterrupt()
	}
	if _, ok := p.(*simplePrinter); ok {
		fmt.Fprintf(cmd.OutOrStdout(), "lease %016x expired or revoked.\n", int64(id))
	}
	return nil
}

// clientAndPrinter connects and builds the printer, in etcdctl's order: a
// bad --write-out is reported only once the client exists.
func (c *cli) clientAndPrinter(cmd *cobra.Command) (*clientv3.Client, printer, error) {
	cl, err := c.newClient(nil)
	if err != nil {
		return nil, nil, err
	}
	p, err := c.printer(cmd)
	if err != nil {
		cl.Close()
		return nil, nil, err
	}
	return cl, p, nil
}
