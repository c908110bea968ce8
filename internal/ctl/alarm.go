package ctl

import (
	"errors"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func (c *cli) newAlarmCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alarm <subcommand>",
		Short: "Alarm related commands",
	}
	cmd.AddCommand(c.newAlarmDisarmCommand(), c.newAlarmListCommand())
	return cmd
}

func (c *cli) newAlarmListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Lists all alarms",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return exitErr(ExitBadArgs, errors.New("alarm list command accepts no arguments"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			resp, err := cl.AlarmList(ctx)
			cancel()
			if err != nil {
				return rpcError(err)
			}
			return p.alarm(resp)
		},
	}
}

// newAlarmDisarmCommand disarms every active alarm. The client library
// lists them and disarms them one by one, and answers with the alarms it
// disarmed and no header.
func (c *cli) newAlarmDisarmCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "disarm",
		Short: "Disarms all alarms",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return exitErr(ExitBadArgs, errors.New("alarm disarm command accepts no arguments"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			resp, err := cl.AlarmDisarm(ctx, &clientv3.AlarmMember{})
			cancel()
			if err != nil {
				return rpcError(err)
			}
			return p.alarm(resp)
		},
	}
}
