package ctl

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// getOptions are get's flags; a txn's get operations take the same ones.
type getOptions struct {
	consistency    string
	order          string
	sortBy         string
	limit          int64
	rev            int64
	prefix         bool
	fromKey        bool
	keysOnly       bool
	countOnly      bool
	printValueOnly bool
	minModRev      int64
	maxModRev      int64
	minCreateRev   int64
	maxCreateRev   int64
}

func (o *getOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.consistency, "consistency", "l", "Linearizable(l) or Serializable(s)")
	fs.StringVar(&o.order, "order", "", "Order of results; ASCEND or DESCEND (ASCEND by default)")
	fs.StringVar(&o.sortBy, "sort-by", "", "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION")
	fs.Int64Var(&o.limit, "limit", 0, "Maximum number of results")
	fs.BoolVar(&o.prefix, "prefix", false, "Get keys with matching prefix")
	fs.BoolVar(&o.fromKey, "from-key", false, "Get keys that are greater than or equal to the given key using byte compare")
	fs.Int64Var(&o.rev, "rev", 0, "Specify the kv revision")
	fs.BoolVar(&o.keysOnly, "keys-only", false, "Get only the keys")
	fs.BoolVar(&o.countOnly, "count-only", false, "Get only the count")
	fs.BoolVar(&o.printValueOnly, "print-value-only", false, `Only write values when using the "simple" output format`)
	fs.Int64Var(&o.minModRev, "min-mod-rev", 0, "Minimum modification revision")
	fs.Int64Var(&o.maxModRev, "max-mod-rev", 0, "Maximum modification revision")
	fs.Int64Var(&o.minCreateRev, "min-create-rev", 0, "Minimum create revision")
	fs.Int64Var(&o.maxCreateRev, "max-create-rev", 0, "Maximum create revision")
}

const (
	getUse   = "get [options] <key> [range_end]"
	getShort = "Gets the key or a range of keys"
)

func (c *cli) newGetCommand() *cobra.Command {
	var o getOptions
	cmd := &cobra.Command{
		Use:   getUse,
		Short: getShort,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runGet(cmd, args, &o)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func (c *cli) runGet(cmd *cobra.Command, args []string, o *getOptions) error {
	key, opts, err := o.op(args)
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
	resp, err := cl.Get(ctx, key, opts...)
	cancel()
	if err != nil {
		return rpcError(err)
	}
	// etcdctl checks that these flags suit the format only when it prints,
	// after the request was made.
	if o.countOnly && c.g.writeOut != "fields" {
		return exitErr(ExitBadArgs, errors.New("--count-only is only for `--write-out=fields`"))
	}
	if o.printValueOnly && c.g.writeOut != "simple" {
		return exitErr(ExitBadArgs, errors.New("print-value-only is only for `--write-out=simple`"))
	}
	return p.get(resp, o.printValueOnly)
}

// op checks get's arguments and turns them into a request. The checks run
// in etcdctl's order, so the first problem reported is the same.
func (o *getOptions) op(args []string) (string, []clientv3.OpOption, error) {
	if len(args) == 0 {
		return "", nil, exitErr(ExitBadArgs, errors.New("get command needs one argument as key and an optional argument as range_end"))
	}
	if o.prefix && o.fromKey {
		return "", nil, exitErr(ExitBadArgs, errors.New("`--prefix` and `--from-key` cannot be set at the same time, choose one"))
	}
	if o.keysOnly && o.countOnly {
		return "", nil, exitErr(ExitBadArgs, errors.New("`--keys-only` and `--count-only` cannot be set at the same time, choose one"))
	}
	var opts []clientv3.OpOption
	switch o.consistency {
	case "l":
	case "s":
		opts = append(opts, clientv3.WithSerializable())
	default:
		return "", nil, exitErrf(ExitBadFeature, "unknown consistency flag %q", o.consistency)
	}
	key := args[0]
	if len(args) > 1 {
		if o.prefix || o.fromKey {
			return "", nil, exitErr(ExitBadArgs, errTooManyArgs)
		}
		opts = append(opts, clientv3.WithRange(args[1]))
	}
	opts = append(opts, clientv3.WithLimit(o.limit))
	if o.rev > 0 {
		opts = append(opts, clientv3.WithRev(o.rev))
	}

	order := clientv3.SortNone
	switch strings.ToUpper(o.order) {
	case "ASCEND":
		order = clientv3.SortAscend
	case "DESCEND":
		order = clientv3.SortDescend
	case "":
	default:
		return "", nil, exitErrf(ExitBadFeature, "bad sort order %v", o.order)
	}
	target := clientv3.SortByKey
	switch strings.ToUpper(o.sortBy) {
	case "CREATE":
		target = clientv3.SortByCreateRevision
	case "KEY":
	case "MODIFY":
		target = clientv3.SortByModRevision
	case "VALUE":
		target = clientv3.SortByValue
	case "VERSION":
		target = clientv3.SortByVersion
	case "":
	default:
		return "", nil, exitErrf(ExitBadFeature, "bad sort target %v", o.sortBy)
	}
	opts = append(opts, clientv3.WithSort(target, order))

	if o.prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	if o.fromKey {
		opts = append(opts, clientv3.WithFromKey())
	}
	if o.keysOnly {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	if o.countOnly {
		opts = append(opts, clientv3.WithCountOnly())
	}
	if o.minModRev > 0 {
		opts = append(opts, clientv3.WithMinModRev(o.minModRev))
	}
	if o.maxModRev > 0 {
		opts = append(opts, clientv3.WithMaxModRev(o.maxModRev))
	}
	if o.minCreateRev > 0 {
		opts = append(opts, clientv3.WithMinCreateRev(o.minCreateRev))
	}
	if o.maxCreateRev > 0 {
		opts = append(opts, clientv3.WithMaxCreateRev(o.maxCreateRev))
	}
	return key, opts, nil
}

var errTooManyArgs = errors.New("too many arguments, only accept one argument when `--prefix` or `--from-key` is set")
