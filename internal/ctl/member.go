package ctl

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func (c *cli) newMemberCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "member <subcommand>",
		Short: "Membership related commands",
	}
	cmd.AddCommand(
		c.newMemberAddCommand(),
		c.newMemberRemoveCommand(),
		c.newMemberUpdateCommand(),
		c.newMemberListCommand(),
		c.newMemberPromoteCommand(),
	)
	return cmd
}

// parseMemberID reads a member ID the way every command takes it: in hex.
func parseMemberID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, exitErrf(ExitBadArgs, "bad member ID arg (%v), expecting ID in Hex", err)
	}
	return id, nil
}

// memberIDArg is the single member ID argument of remove, update and
// promote.
func memberIDArg(args []string) (uint64, error) {
	if len(args) != 1 {
		return 0, exitErr(ExitBadArgs, errors.New("member ID is not provided"))
	}
	return parseMemberID(args[0])
}

var errNoPeerURLs = errors.New("member peer urls not provided")

func (c *cli) newMemberAddCommand() *cobra.Command {
	var peerURLs string
	var learner bool
	cmd := &cobra.Command{
		Use:   "add <memberName> [options]",
		Short: "Adds a member into the cluster",
		Long: `Adds a member to the cluster's configuration; the member itself is then
started with the settings printed after the result (in the simple format),
which join it to the existing cluster. A learner receives the log but does
not vote until it is promoted.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return exitErr(ExitBadArgs, errors.New("member name not provided"))
			}
			if len(args) > 1 {
				return exitErr(ExitBadArgs, errors.New("too many arguments"))
			}
			name := args[0]
			if peerURLs == "" {
				return exitErr(ExitBadArgs, errNoPeerURLs)
			}
			urls := strings.Split(peerURLs, ",")
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			var resp *clientv3.MemberAddResponse
			if learner {
				resp, err = cl.MemberAddAsLearner(ctx, urls)
			} else {
				resp, err = cl.MemberAdd(ctx, urls)
			}
			cancel()
			if err != nil {
				return rpcError(err)
			}
			if err := p.memberAdd(resp); err != nil {
				return err
			}
			if _, ok := p.(*simplePrinter); ok {
				writeJoinSettings(cmd.OutOrStdout(), name, resp)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&peerURLs, "peer-urls", "", "comma separated peer URLs for the new member.")
	cmd.Flags().BoolVar(&learner, "learner", false, "indicates if the new member is raft learner")
	return cmd
}

// writeJoinSettings prints the environment a new member starts with to
// join the cluster: its name, every member's peer URLs under their names
// (the new one's under the name it was added with; a member that never
// started has none), its own peer URLs, and the "existing" cluster state.
func writeJoinSettings(w io.Writer, name string, resp *clientv3.MemberAddResponse) {
	var cluster []string
	for _, m := range resp.Members {
		n := m.Name
		if m.ID == resp.Member.ID {
			n = name
		}
		for _, u := range m.PeerURLs {
			cluster = append(cluster, n+"="+u)
		}
	}
	fmt.Fprintf(w, "\nETCD_NAME=%q\n", name)
	fmt.Fprintf(w, "ETCD_INITIAL_CLUSTER=%q\n", strings.Join(cluster, ","))
	fmt.Fprintf(w, "ETCD_INITIAL_ADVERTISE_PEER_URLS=%q\n", strings.Join(resp.Member.PeerURLs, ","))
	fmt.Fprintf(w, "ETCD_INITIAL_CLUSTER_STATE=%q\n", "existing")
}

func (c *cli) newMemberRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove <memberID>",
		Short: "Removes a member from the cluster",
		Long:  "Removes the member with the given ID (in hex) from the cluster.",
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := memberIDArg(args)
			if err != nil {
				return err
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			resp, err := cl.MemberRemove(ctx, id)
			cancel()
			if err != nil {
				return rpcError(err)
			}
			return p.memberRemove(id, resp)
		},
	}
}

func (c *cli) newMemberUpdateCommand() *cobra.Command {
	var peerURLs string
	cmd := &cobra.Command{
		Use:   "update <memberID> [options]",
		Short: "Updates a member in the cluster",
		Long:  "Replaces the peer URLs of the member with the given ID (in hex).",
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := memberIDArg(args)
			if err != nil {
				return err
			}
			if peerURLs == "" {
				return exitErr(ExitBadArgs, errNoPeerURLs)
			}
			urls := strings.Split(peerURLs, ",")
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			resp, err := cl.MemberUpdate(ctx, id, urls)
			cancel()
			if err != nil {
				return rpcError(err)
			}
			return p.memberUpdate(id, resp)
		},
	}
	cmd.Flags().StringVar(&peerURLs, "peer-urls", "", "comma separated peer URLs for the updated member.")
	return cmd
}

func (c *cli) newMemberPromoteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "promote <memberID>",
		Short: "Promotes a non-voting member in the cluster",
		Long:  "Makes the learner with the given ID (in hex) a voting member, once it has caught up with the leader.",
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := memberIDArg(args)
			if err != nil {
				return err
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			resp, err := cl.MemberPromote(ctx, id)
			cancel()
			if err != nil {
				return rpcError(err)
			}
			return p.memberPromote(id, resp)
		},
	}
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
