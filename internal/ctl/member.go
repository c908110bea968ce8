package ctl

import (
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func (c *cli) newMemberCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "member <subcommand>",
		Short: "Membership related commands",
	}
	cmd.AddCommand(c.newMemberListCommand())
	return cmd
}

func (c *cli) newMemberListCommand() *cobra.Command {
	var consistency string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Lists all members in the cluster",
		Long: `Lists the members of the cluster.

With --write-out=simple each member is one line of comma-separated fields:
ID, status, name, peer addresses, client addresses, is learner.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts []clientv3.OpOption
			switch consistency {
			case "l":
			case "s":
				opts = append(opts, clientv3.WithSerializable())
			default:
				// etcdctl names get's --consistency default here, not the
				// value given; the message is kept as it is.
				return exitErrf(ExitBadFeature, "unknown consistency flag %q", "l")
			}
			cl, err := c.newClient(nil)
			if err != nil {
				return err
			}
			defer cl.Close()
			p, err := c.printer(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := c.commandCtx(cmd)
			resp, err := cl.MemberList(ctx, opts...)
			cancel()
			if err != nil {
				return rpcError(err)
			}
			return p.memberList(resp)
		},
	}
	cmd.Flags().StringVar(&consistency, "consistency", "l", "Linearizable(l) or Serializable(s)")
	return cmd
}
