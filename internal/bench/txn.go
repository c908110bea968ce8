package bench

import (
	"context"
	"fmt"
	"math"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

type txnPutFlags struct {
	total          int
	keySize        int
	valSize        int
	keySpaceSize   int
	txnOps         int
	rate           int
	sequentialKeys bool
}

func (c *cli) newTxnPutCommand() *cobra.Command {
	var f txnPutFlags
	cmd := &cobra.Command{
		Use:   "txn-put",
		Short: "Benchmark txn-put",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return c.runTxnPut(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.total, "total", 10000, "Total number of txn requests")
	fl.IntVar(&f.keySize, "key-size", 8, "Key size of txn put")
	fl.IntVar(&f.valSize, "val-size", 8, "Value size of txn put")
	fl.IntVar(&f.keySpaceSize, "key-space-size", 1, "Maximum possible keys")
	fl.IntVar(&f.txnOps, "txn-ops", 1, "Number of puts per txn")
	fl.IntVar(&f.rate, "rate", 0, "Maximum txns per second (0 is no limit)")
	fl.BoolVar(&f.sequentialKeys, "sequential-keys", false, "Use sequential keys")
	return cmd
}

func (c *cli) runTxnPut(ctx context.Context, f txnPutFlags) error {
	if err := checkTotal("--total", f.total); err != nil {
		return err
	}
	kg, err := newKeyGen(f.keySize, f.keySpaceSize)
	if err != nil {
		return usageError{err}
	}
	switch {
	case f.valSize < 0:
		return usagef("--val-size must not be negative, got %d", f.valSize)
	case f.rate < 0:
		return usagef("--rate must not be negative, got %d", f.rate)
	case f.txnOps < 1:
		return usagef("--txn-ops must be at least 1, got %d", f.txnOps)
	case f.txnOps > f.keySpaceSize:
		// A txn may not put the same key twice.
		return usagef("--txn-ops (%d) must not exceed --key-space-size (%d): a txn puts distinct keys", f.txnOps, f.keySpaceSize)
	}
	p, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer p.close()

	stats := c.run(ctx, job{
		label:   "txn-put",
		total:   f.total,
		workers: int(c.g.clients),
		rate:    f.rate,
		do: func(ctx context.Context, w *worker, id, i int) (int, error) {
			keys := kg.pickDistinct(i, f.txnOps, f.sequentialKeys, w.rand)
			ops := make([]clientv3.Op, len(keys))
			for j, k := range keys {
				ops[j] = clientv3.OpPut(k, w.value(f.valSize))
			}
			_, err := p.conn(id).Txn(ctx).Then(ops...).Commit()
			return 0, err
		},
	})
	WriteReport(c.opts.Stdout, stats[0], c.reportOptions())
	return c.finish(ctx, Summarize("txn-put", stats[0]))
}

type txnMixedFlags struct {
	total        int
	keySize      int
	valSize      int
	keySpaceSize int
	rwRatio      float64
	consistency  string
	endKey       string
	limit        int64
	rate         int
}

func (c *cli) newTxnMixedCommand() *cobra.Command {
	var f txnMixedFlags
	cmd := &cobra.Command{
		Use:   "txn-mixed",
		Short: "Benchmark a mixed load of txn-put & txn-range.",
		Long: "Benchmark a mixed load of writes (a txn of one put to a key of the key space) and\n" +
			"reads (a range from a key of the key space to --end-key, or to the end of the keys,\n" +
			"limited to --limit results), in the ratio --rw-ratio reads to one write.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.runTxnMixed(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.total, "total", 10000, "Total number of txn requests")
	fl.IntVar(&f.keySize, "key-size", 8, "Key size of mixed txn")
	fl.IntVar(&f.valSize, "val-size", 8, "Value size of mixed txn")
	fl.IntVar(&f.keySpaceSize, "key-space-size", 1, "Maximum possible keys")
	fl.Float64Var(&f.rwRatio, "rw-ratio", 1, "Read/write ops ratio")
	fl.StringVar(&f.consistency, "consistency", "l", "Linearizable(l) or Serializable(s)")
	fl.StringVar(&f.endKey, "end-key", "", "Read operation range end key. By default, we do full range query with the default limit of 1000.")
	fl.Int64Var(&f.limit, "limit", 1000, "Read operation range result limit")
	fl.IntVar(&f.rate, "rate", 0, "Maximum txns per second (0 is no limit)")
	return cmd
}

const (
	kindRead  = 0
	kindWrite = 1
)

func (c *cli) runTxnMixed(ctx context.Context, f txnMixedFlags) error {
	if err := checkTotal("--total", f.total); err != nil {
		return err
	}
	kg, err := newKeyGen(f.keySize, f.keySpaceSize)
	if err != nil {
		return usageError{err}
	}
	serializable, err := parseConsistency(f.consistency)
	if err != nil {
		return err
	}
	switch {
	case f.valSize < 0:
		return usagef("--val-size must not be negative, got %d", f.valSize)
	case f.rate < 0:
		return usagef("--rate must not be negative, got %d", f.rate)
	case f.limit < 0:
		return usagef("--limit must not be negative, got %d", f.limit)
	case f.rwRatio < 0 || math.IsNaN(f.rwRatio) || math.IsInf(f.rwRatio, 0):
		return usagef("--rw-ratio must be a finite number of reads per write, at least 0, got %v", f.rwRatio)
	}
	readShare := f.rwRatio / (f.rwRatio + 1)
	end := f.endKey
	if end == "" {
		end = "\x00" // every key from the start key on
	}
	readOpts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(f.limit)}
	if serializable {
		readOpts = append(readOpts, clientv3.WithSerializable())
	}

	p, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer p.close()

	fmt.Fprintf(c.opts.Stdout, "bench with %s range\n", consistencyName(serializable))
	stats := c.run(ctx, job{
		label:   "txn-mixed",
		total:   f.total,
		workers: int(c.g.clients),
		rate:    f.rate,
		kinds:   2,
		do: func(ctx context.Context, w *worker, id, _ int) (int, error) {
			key := kg.pick(0, false, w.rand)
			if w.rand.Float64() < readShare {
				_, err := p.conn(id).Do(ctx, clientv3.OpGet(key, readOpts...))
				return kindRead, err
			}
			_, err := p.conn(id).Txn(ctx).Then(clientv3.OpPut(key, w.value(f.valSize))).Commit()
			return kindWrite, err
		},
	})
	reads, writes := stats[kindRead], stats[kindWrite]
	fmt.Fprintf(c.opts.Stdout, "Total Read Ops: %d\nDetails:\n", reads.Count()+reads.ErrorCount())
	WriteReport(c.opts.Stdout, reads, c.reportOptions())
	fmt.Fprintf(c.opts.Stdout, "Total Write Ops: %d\nDetails:\n", writes.Count()+writes.ErrorCount())
	WriteReport(c.opts.Stdout, writes, c.reportOptions())

	sum := Summarize("txn-mixed", mergeStats(reads, writes))
	sum.Parts = []Summary{Summarize("read", reads), Summarize("write", writes)}
	return c.finish(ctx, sum)
}
