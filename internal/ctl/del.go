package ctl

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// delOptions are del's flags; a txn's del operations take the same ones.
type delOptions struct {
	prefix  bool
	prevKV  bool
	fromKey bool
	rng     bool
}

func (o *delOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.prefix, "prefix", false, "delete keys with matching prefix")
	fs.BoolVar(&o.prevKV, "prev-kv", false, "return deleted key-value pairs")
	fs.BoolVar(&o.fromKey, "from-key", false, "delete keys that are greater than or equal to the given key using byte compare")
	fs.BoolVar(&o.rng, "range", false, "delete range of keys")
}

const (
	delUse   = "del [options] <key> [range_end]"
	delShort = "Removes the specified key or range of keys [key, range_end)"
)

// rangeDeleteDelay is how long `del <key> <end>` waits, after its warning,
// when --range does not confirm that a range was meant.
const rangeDeleteDelay = 2 * time.Second

func (c *cli) newDelCommand() *cobra.Command {
	var o delOptions
	cmd := &cobra.Command{
		Use:   delUse,
		Short: delShort,
		RunE: func(cmd *cobra.Command, args []string) error {
			key, opts, err := o.op(args, cmd.ErrOrStderr(), c.opts.Sleep)
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
			resp, err := cl.Delete(ctx, key, opts...)
			cancel()
			if err != nil {
				return rpcError(err)
			}
			return p.del(resp)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

// op checks del's arguments and builds the request. Two arguments without
// --range delete a whole range, which is easy to do by mistake: it warns on
// stderr and waits two seconds, giving the user time to interrupt.
func (o *delOptions) op(args []string, stderr io.Writer, sleep func(time.Duration)) (string, []clientv3.OpOption, error) {
	if len(args) == 0 || len(args) > 2 {
		return "", nil, exitErr(ExitBadArgs, errors.New("del command needs one argument as key and an optional argument as range_end"))
	}
	if o.prefix && o.fromKey {
		return "", nil, exitErr(ExitBadArgs, errors.New("`--prefix` and `--from-key` cannot be set at the same time, choose one"))
	}
	var opts []clientv3.OpOption
	key := args[0]
	if len(args) > 1 {
		if o.prefix || o.fromKey {
			return "", nil, exitErr(ExitBadArgs, errTooManyArgs)
		}
		if !o.rng {
			fmt.Fprintf(stderr, "Warning: Keys between %q and %q will be deleted. Please interrupt the command within next 2 seconds to cancel. You can provide `--range` flag to avoid the delay.\n", args[0], args[1])
			sleep(rangeDeleteDelay)
		}
		opts = append(opts, clientv3.WithRange(args[1]))
	}
	if o.prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	if o.prevKV {
		opts = append(opts, clientv3.WithPrevKV())
	}
	if o.fromKey {
		opts = append(opts, clientv3.WithFromKey())
	}
	return key, opts, nil
}
