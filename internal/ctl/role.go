package ctl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func (c *cli) newRoleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role <subcommand>",
		Short: "Role related commands",
	}
	cmd.AddCommand(
		c.newRoleAddCommand(),
		c.newRoleDeleteCommand(),
		c.newRoleGetCommand(),
		c.newRoleGrantPermissionCommand(),
		c.newRoleListCommand(),
		c.newRoleRevokePermissionCommand(),
	)
	return cmd
}

func (c *cli) newRoleAddCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "add <role name>",
		Short: "Adds a new role",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("role add command requires role name as its argument"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.RoleAdd(c.authCtx(cmd), args[0])
			if err != nil {
				return rpcError(err)
			}
			return p.changed(fmt.Sprintf("Role %s created", args[0]), resp.Header, (*pb.AuthRoleAddResponse)(resp))
		},
	}
}

func (c *cli) newRoleDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete <role name>",
		Short: "Deletes a role",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("role delete command requires role name as its argument"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.RoleDelete(c.authCtx(cmd), args[0])
			if err != nil {
				return rpcError(err)
			}
			return p.changed(fmt.Sprintf("Role %s deleted", args[0]), resp.Header, (*pb.AuthRoleDeleteResponse)(resp))
		},
	}
}

func (c *cli) newRoleGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get <role name>",
		Short: "Gets detailed information of a role",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("role get command requires role name as its argument"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.RoleGet(c.authCtx(cmd), args[0])
			if err != nil {
				return rpcError(err)
			}
			return p.roleGet(args[0], resp)
		},
	}
}

func (c *cli) newRoleListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Lists all roles",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return exitErr(ExitBadArgs, errors.New("role list command requires no arguments"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.RoleList(c.authCtx(cmd))
			if err != nil {
				return rpcError(err)
			}
			return p.roleList(resp)
		},
	}
}

// permRangeFlags are the --prefix and --from-key of grant-permission and
// revoke-permission.
type permRangeFlags struct {
	prefix, fromKey bool
}

// keyRange is the permission's key range, given the key argument and the
// arguments after it. The empty key stands for the key "\x00", the lowest
// a permission can name (the server refuses an empty one), and with
// --prefix or --from-key for every key; an end key after it is ignored.
func (f permRangeFlags) keyRange(key string, rest []string) (string, string, error) {
	if key != "" {
		end, err := f.rangeEnd(key, rest)
		return key, end, err
	}
	switch {
	case f.prefix && f.fromKey:
		return "", "", exitErr(ExitBadArgs, errors.New("--from-key and --prefix flags are mutually exclusive"))
	case f.prefix || f.fromKey:
		return "\x00", "\x00", nil
	}
	return "\x00", "", nil
}

// rangeEnd is the end of a non-empty key's permission range, given the
// arguments after the key: an explicit end key, the end of the prefix,
// "\x00" for every key from key on, or none for a single key.
func (f permRangeFlags) rangeEnd(key string, rest []string) (string, error) {
	switch {
	case f.prefix && f.fromKey:
		return "", exitErr(ExitBadArgs, errors.New("--from-key and --prefix flags are mutually exclusive"))
	case f.prefix && len(rest) > 0:
		return "", exitErr(ExitBadArgs, errors.New("unexpected endkey argument with --prefix flag"))
	case f.fromKey && len(rest) > 0:
		return "", exitErr(ExitBadArgs, errors.New("unexpected endkey argument with --from-key flag"))
	case f.prefix:
		return clientv3.GetPrefixRangeEnd(key), nil
	case f.fromKey:
		return "\x00", nil
	case len(rest) > 0:
		return rest[0], nil
	}
	return "", nil
}

func (c *cli) newRoleGrantPermissionCommand() *cobra.Command {
	var fl permRangeFlags
	cmd := &cobra.Command{
		Use:   "grant-permission [options] <role name> <permission type> <key> [endkey]",
		Short: "Grants a key to a role",
		RunE: func(cmd *cobra.Command, args []string) error {
			// Arguments past the end key are ignored.
			if len(args) < 3 {
				return exitErr(ExitBadArgs, errors.New("role grant command requires role name, permission type, and key [endkey] as its argument"))
			}
			perm, ok := authpb.Permission_Type_value[strings.ToUpper(args[1])]
			if !ok {
				return exitErrf(ExitBadArgs, "invalid permission type: %s", args[1])
			}
			key, end, err := fl.keyRange(args[2], args[3:])
			if err != nil {
				return err
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.RoleGrantPermission(c.authCtx(cmd), args[0], key, end, clientv3.PermissionType(perm))
			if err != nil {
				return rpcError(err)
			}
			return p.changed(fmt.Sprintf("Role %s updated", args[0]), resp.Header, (*pb.AuthRoleGrantPermissionResponse)(resp))
		},
	}
	cmd.Flags().BoolVar(&fl.prefix, "prefix", false, "grant a prefix permission")
	cmd.Flags().BoolVar(&fl.fromKey, "from-key", false, "grant a permission of keys that are greater than or equal to the given key using byte compare")
	return cmd
}

func (c *cli) newRoleRevokePermissionCommand() *cobra.Command {
	var fl permRangeFlags
	cmd := &cobra.Command{
		Use:   "revoke-permission <role name> <key> [endkey]",
		Short: "Revokes a key from a role",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return exitErr(ExitBadArgs, errors.New("role revoke-permission command requires role name and key [endkey] as its argument"))
			}
			// The message names the key as given, also when it is empty.
			role, key := args[0], args[1]
			sent, end, err := fl.keyRange(key, args[2:])
			if err != nil {
				return err
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			resp, err := cl.RoleRevokePermission(c.authCtx(cmd), role, sent, end)
			if err != nil {
				return rpcError(err)
			}
			var msg string
			switch end {
			case "":
				msg = fmt.Sprintf("Permission of key %s is revoked from role %s", key, role)
			case "\x00":
				msg = fmt.Sprintf("Permission of range [%s, <open ended> is revoked from role %s", key, role)
			default:
				msg = fmt.Sprintf("Permission of range [%s, %s) is revoked from role %s", key, end, role)
			}
			return p.changed(msg, resp.Header, (*pb.AuthRoleRevokePermissionResponse)(resp))
		},
	}
	cmd.Flags().BoolVar(&fl.prefix, "prefix", false, "revoke a prefix permission")
	cmd.Flags().BoolVar(&fl.fromKey, "from-key", false, "revoke a permission of keys that are greater than or equal to the given key using byte compare")
	return cmd
}
