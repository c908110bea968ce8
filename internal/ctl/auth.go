package ctl

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

func (c *cli) newAuthCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth <enable or disable>",
		Short: "Enable or disable authentication",
	}
	cmd.AddCommand(c.newAuthDisableCommand(), c.newAuthEnableCommand(), c.newAuthStatusCommand())
	return cmd
}

// newAuthEnableCommand turns authentication on. The root user must exist;
// when it lacks the root role, the role is created and granted first, and
// the request tried again.
func (c *cli) newAuthEnableCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "enable",
		Short: "Enables authentication",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return exitErr(ExitBadArgs, errors.New("auth enable command does not accept any arguments"))
			}
			cl, _, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			defer cancel()
			for {
				_, err := cl.AuthEnable(ctx)
				if err == nil {
					break
				}
				if !errors.Is(err, rpctypes.ErrRootRoleNotExist) {
					return rpcError(err)
				}
				if _, err := cl.RoleAdd(ctx, "root"); err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
					return rpcError(err)
				}
				if _, err := cl.UserGrantRole(ctx, "root", "root"); err != nil {
					return rpcError(err)
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Authentication Enabled")
			return nil
		},
	}
}

func (c *cli) newAuthDisableCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "disable",
		Short: "Disables authentication",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return exitErr(ExitBadArgs, errors.New("auth disable command does not accept any arguments"))
			}
			cl, _, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			defer cancel()
			if _, err := cl.AuthDisable(ctx); err != nil {
				return rpcError(err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Authentication Disabled")
			return nil
		},
	}
}

func (c *cli) newAuthStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Returns authentication status",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return exitErr(ExitBadArgs, errors.New("auth status command does not accept any arguments"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := c.commandCtx(cmd)
			defer cancel()
			resp, err := cl.AuthStatus(ctx)
			if err != nil {
				return rpcError(err)
			}
			return p.authStatus(resp)
		},
	}
}
