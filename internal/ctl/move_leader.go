package ctl

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func (c *cli) newMoveLeaderCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "move-leader <transferee-member-id>",
		Short: "Transfers leadership to another etcd cluster member.",
		Long: `Asks the current leader to hand leadership over to the member with the
given ID (in hex). The leader is looked for among --endpoints, so one of
them must be the leader's.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("move-leader command needs 1 argument"))
			}
			target, err := strconv.ParseUint(args[0], 16, 64)
			if err != nil {
				return exitErr(ExitBadArgs, err)
			}
			// The client checks the flags (and a bad format is reported)
			// before any endpoint is asked.
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			eps := cl.Endpoints()
			cl.Close()

			// One deadline covers the search for the leader and the move.
			ctx, cancel := c.commandCtx(cmd)
			defer cancel()
			var leader *clientv3.Client
			var leaderID uint64
			for _, ep := range eps {
				one, err := c.newClient([]string{ep})
				if err != nil {
					return err
				}
				resp, err := one.Status(ctx, ep)
				if err != nil {
					one.Close()
					return rpcError(err)
				}
				if resp.Header.GetMemberId() == resp.Leader {
					leader, leaderID = one, resp.Leader
					break
				}
				one.Close()
			}
			if leader == nil {
				return exitErr(ExitBadArgs, fmt.Errorf("no leader endpoint given at %v", eps))
			}
			defer leader.Close()
			resp, err := leader.MoveLeader(ctx, target)
			if err != nil {
				return rpcError(err)
			}
			return p.moveLeader(leaderID, target, resp)
		},
	}
}
