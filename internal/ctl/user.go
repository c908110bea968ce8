package ctl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// User and role requests wait as long as it takes: etcdctl gives them no
// deadline (no --command-timeout), so against an endpoint that never
// answers they wait until interrupted.
func (c *cli) authCtx(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

func (c *cli) newUserCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user <subcommand>",
		Short: "User related commands",
	}
	cmd.AddCommand(
		c.newUserAddCommand(),
		c.newUserDeleteCommand(),
		c.newUserGetCommand(),
		c.newUserGrantRoleCommand(),
		c.newUserListCommand(),
		c.newUserPasswdCommand(),
		c.newUserRevokeRoleCommand(),
	)
	return cmd
}

func (c *cli) newUserAddCommand() *cobra.Command {
	var (
		interactive, noPassword bool
		newPassword             string
	)
	cmd := &cobra.Command{
		Use:   "add <user name or user:password> [options]",
		Short: "Adds a new user",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("user add command requires user name as its argument"))
			}
			// Where the password comes from, first match wins: none at
			// all (--no-password), the flag, the argument after a colon,
			// stdin (a prompt, or a plain word with --interactive=false).
			var (
				name, password string
				opts           clientv3.UserAddOptions
			)
			switch user, pw, hasPass := strings.Cut(args[0], ":"); {
			case noPassword:
				name, opts.NoPassword = args[0], true
			case newPassword != "":
				name, password = args[0], newPassword
			case hasPass:
				if user == "" {
					return exitErr(ExitBadArgs, errors.New("empty user name is not allowed"))
				}
				name, password = user, pw
			case !interactive:
				name, password = args[0], c.readWord()
			default:
				pw, err := c.askNewPassword(args[0])
				if err != nil {
					return err
				}
				name, password = args[0], pw
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.UserAddWithOptions(c.authCtx(cmd), name, password, &opts)
			if err != nil {
				return rpcError(err)
			}
			return p.changed(fmt.Sprintf("User %s created", name), resp.Header, (*pb.AuthUserAddResponse)(resp))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&interactive, "interactive", true, "Read password from stdin instead of interactive terminal")
	f.StringVar(&newPassword, "new-user-password", "", "Supply password from the command line flag")
	f.BoolVar(&noPassword, "no-password", false, "Create a user without password (CN based auth only)")
	return cmd
}

func (c *cli) newUserDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete <user name>",
		Short: "Deletes a user",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("user delete command requires user name as its argument"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.UserDelete(c.authCtx(cmd), args[0])
			if err != nil {
				return rpcError(err)
			}
			return p.changed(fmt.Sprintf("User %s deleted", args[0]), resp.Header, (*pb.AuthUserDeleteResponse)(resp))
		},
	}
}

// newUserGetCommand shows a user's roles, or with --detail, the
// permissions of each role, as `role get` shows them.
func (c *cli) newUserGetCommand() *cobra.Command {
	var detail bool
	cmd := &cobra.Command{
		Use:   "get <user name> [options]",
		Short: "Gets detailed information of a user",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("user get command requires user name as its argument"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx := c.authCtx(cmd)
			name := args[0]
			resp, err := cl.UserGet(ctx, name)
			if err != nil {
				return rpcError(err)
			}
			if !detail {
				return p.userGet(name, resp)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "User: %s\n", name)
			for _, role := range resp.Roles {
				fmt.Fprintln(out)
				rr, err := cl.RoleGet(ctx, role)
				if err != nil {
					return rpcError(err)
				}
				if err := p.roleGet(role, rr); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&detail, "detail", false, "Show permissions of roles granted to the user")
	return cmd
}

func (c *cli) newUserListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Lists all users",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return exitErr(ExitBadArgs, errors.New("user list command requires no arguments"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.UserList(c.authCtx(cmd))
			if err != nil {
				return rpcError(err)
			}
			return p.userList(resp)
		},
	}
}

func (c *cli) newUserPasswdCommand() *cobra.Command {
	var interactive bool
	cmd := &cobra.Command{
		Use:   "passwd <user name> [options]",
		Short: "Changes password of user",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("user passwd command requires user name as its argument"))
			}
			var password string
			if interactive {
				pw, err := c.askNewPassword(args[0])
				if err != nil {
					return err
				}
				password = pw
			} else {
				password = c.readWord()
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.UserChangePassword(c.authCtx(cmd), args[0], password)
			if err != nil {
				return rpcError(err)
			}
			return p.changed("Password updated", resp.Header, (*pb.AuthUserChangePasswordResponse)(resp))
		},
	}
	cmd.Flags().BoolVar(&interactive, "interactive", true, "If true, read password from stdin instead of interactive terminal")
	return cmd
}

func (c *cli) newUserGrantRoleCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "grant-role <user name> <role name>",
		Short: "Grants a role to a user",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return exitErr(ExitBadArgs, errors.New("user grant command requires user name and role name as its argument"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.UserGrantRole(c.authCtx(cmd), args[0], args[1])
			if err != nil {
				return rpcError(err)
			}
			return p.changed(fmt.Sprintf("Role %s is granted to user %s", args[1], args[0]), resp.Header, (*pb.AuthUserGrantRoleResponse)(resp))
		},
	}
}

func (c *cli) newUserRevokeRoleCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke-role <user name> <role name>",
		Short: "Revokes a role from a user",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return exitErr(ExitBadArgs, errors.New("user revoke-role requires user name and role name as its argument"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.UserRevokeRole(c.authCtx(cmd), args[0], args[1])
			if err != nil {
				return rpcError(err)
			}
			return p.changed(fmt.Sprintf("Role %s is revoked from user %s", args[1], args[0]), resp.Header, (*pb.AuthUserRevokeRoleResponse)(resp))
		},
	}
}
