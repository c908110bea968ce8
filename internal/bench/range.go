package bench

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

type rangeFlags struct {
	consistency string
	limit       int64
	total       int
	rate        int
	countOnly   bool
}

func (c *cli) newRangeCommand() *cobra.Command {
	var f rangeFlags
	cmd := &cobra.Command{
		Use:   "range key [end-range]",
		Short: "Benchmark range",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usagef("range takes a key and an optional end of range, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return c.runRange(cmd.Context(), f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.consistency, "consistency", "l", "Linearizable(l) or Serializable(s)")
	fl.Int64Var(&f.limit, "limit", 0, "Maximum number of results to return from range request (0 is no limit)")
	fl.IntVar(&f.total, "total", 10000, "Total number of range requests")
	fl.IntVar(&f.rate, "rate", 0, "Maximum range requests per second (0 is no limit)")
	fl.BoolVar(&f.countOnly, "count-only", false, "Only returns the count of keys")
	return cmd
}

// parseConsistency accepts etcd's l and s.
func parseConsistency(s string) (serializable bool, err error) {
	switch s {
	case "l":
		return false, nil
	case "s":
		return true, nil
	}
	return false, usagef("--consistency must be l (linearizable) or s (serializable), got %q", s)
}

func consistencyName(serializable bool) string {
	if serializable {
		return "serializable"
	}
	return "linearizable"
}

func (c *cli) runRange(ctx context.Context, f rangeFlags, args []string) error {
	serializable, err := parseConsistency(f.consistency)
	if err != nil {
		return err
	}
	if err := checkTotal("--total", f.total); err != nil {
		return err
	}
	if f.limit < 0 {
		return usagef("--limit must not be negative, got %d", f.limit)
	}
	if f.rate < 0 {
		return usagef("--rate must not be negative, got %d", f.rate)
	}
	key := args[0]
	opts := []clientv3.OpOption{clientv3.WithLimit(f.limit)}
	if len(args) == 2 {
		opts = append(opts, clientv3.WithRange(args[1]))
	}
	if serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	if f.countOnly {
		opts = append(opts, clientv3.WithCountOnly())
	}
	op := clientv3.OpGet(key, opts...)

	p, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer p.close()

	fmt.Fprintf(c.opts.Stdout, "bench with %s range\n", consistencyName(serializable))
	stats := c.run(ctx, job{
		label:   "range",
		total:   f.total,
		workers: int(c.g.clients),
		rate:    f.rate,
		do: func(ctx context.Context, _ *worker, id, _ int) (int, error) {
			_, err := p.conn(id).Do(ctx, op)
			return 0, err
		},
	})
	WriteReport(c.opts.Stdout, stats[0], c.reportOptions())
	return c.finish(ctx, Summarize("range", stats[0]))
}
