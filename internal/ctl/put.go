package ctl

import (
	"errors"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// putOptions are put's flags; a txn's put operations take the same ones.
type putOptions struct {
	lease       string
	prevKV      bool
	ignoreValue bool
	ignoreLease bool
}

func (o *putOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.lease, "lease", "0", "lease ID (in hexadecimal) to attach to the key")
	fs.BoolVar(&o.prevKV, "prev-kv", false, "return the previous key-value pair before modification")
	fs.BoolVar(&o.ignoreValue, "ignore-value", false, "updates the key using its current value")
	fs.BoolVar(&o.ignoreLease, "ignore-lease", false, "updates the key using its current lease")
}

const (
	putUse   = "put [options] <key> <value> (<value> can also be given from stdin)"
	putShort = "Puts the given key into the store"
)

func (c *cli) newPutCommand() *cobra.Command {
	var o putOptions
	cmd := &cobra.Command{
		Use:   putUse,
		Short: putShort,
		Long: `Puts the given key into the store, replacing any value it held.

The value may be omitted, and is then read from standard input until it
ends, e.g.:

  $ cat file | put <key>

A value that starts with '-' would be taken for a flag; put "--" before it:

  $ put <key> -- <value>
  $ put -- <key> <value>

--ignore-value keeps the key's current value (only the key is given), and
--ignore-lease keeps its current lease.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			key, value, opts, err := o.op(args, cmd.InOrStdin())
			if err != nil {
				return err
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
			resp, err := cl.Put(ctx, key, value, opts...)
			cancel()
			if err != nil {
				return rpcError(err)
			}
			return p.put(resp)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

var errPutArgs = errors.New("put command needs 1 argument and input from stdin or 2 arguments")

// op checks put's arguments and builds the request. Without a value
// argument (and without --ignore-value) the value is all of stdin, which
// must not be empty; a nil stdin means there is none to read.
func (o *putOptions) op(args []string, stdin io.Reader) (key, value string, opts []clientv3.OpOption, err error) {
	if len(args) == 0 {
		return "", "", nil, exitErr(ExitBadArgs, errPutArgs)
	}
	key = args[0]
	if o.ignoreValue && len(args) > 1 {
		return "", "", nil, exitErr(ExitBadArgs, errors.New("put command needs only 1 argument when 'ignore-value' is set"))
	}
	switch {
	case o.ignoreValue:
	case len(args) > 1:
		value = args[1]
	default:
		var b []byte
		if stdin != nil {
			b, err = io.ReadAll(stdin)
		}
		if err != nil || len(b) == 0 {
			return "", "", nil, exitErr(ExitBadArgs, errPutArgs)
		}
		value = string(b)
	}
	id, err := strconv.ParseInt(o.lease, 16, 64)
	if err != nil {
		return "", "", nil, exitErrf(ExitBadArgs, "bad lease ID (%v), expecting ID in Hex", err)
	}
	if id != 0 {
		opts = append(opts, clientv3.WithLease(clientv3.LeaseID(id)))
	}
	if o.prevKV {
		opts = append(opts, clientv3.WithPrevKV())
	}
	if o.ignoreValue {
		opts = append(opts, clientv3.WithIgnoreValue())
	}
	if o.ignoreLease {
		opts = append(opts, clientv3.WithIgnoreLease())
	}
	return key, value, opts, nil
}
