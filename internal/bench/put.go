package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

type putFlags struct {
	total             int
	keySize, valSize  int
	keySpaceSize      int
	sequentialKeys    bool
	rate              int
	compactInterval   time.Duration
	compactIndexDelta int64
	checkHashKV       bool
}

func (c *cli) newPutCommand() *cobra.Command {
	var f putFlags
	cmd := &cobra.Command{
		Use:   "put",
		Short: "Benchmark put",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return c.runPut(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.total, "total", 10000, "Total number of put requests")
	fl.IntVar(&f.keySize, "key-size", 8, "Key size of put request")
	fl.IntVar(&f.valSize, "val-size", 8, "Value size of put request")
	fl.IntVar(&f.keySpaceSize, "key-space-size", 1, "Maximum possible keys")
	fl.BoolVar(&f.sequentialKeys, "sequential-keys", false, "Use sequential keys")
	fl.IntVar(&f.rate, "rate", 0, "Maximum puts per second (0 is no limit)")
	fl.DurationVar(&f.compactInterval, "compact-interval", 0, "Interval to compact database (do not duplicate this with the server's --auto-compaction-retention) (e.g. --compact-interval=5m compacts every 5-minute)")
	fl.Int64Var(&f.compactIndexDelta, "compact-index-delta", 1000, "Delta between current revision and compact revision (e.g. current revision 10000, compact at 9000)")
	fl.BoolVar(&f.checkHashKV, "check-hashkv", false, "'true' to check hashkv")
	return cmd
}

func (f putFlags) validate() (keyGen, error) {
	if err := checkTotal("--total", f.total); err != nil {
		return keyGen{}, err
	}
	if f.valSize < 0 {
		return keyGen{}, usagef("--val-size must not be negative, got %d", f.valSize)
	}
	if f.rate < 0 {
		return keyGen{}, usagef("--rate must not be negative, got %d", f.rate)
	}
	if f.compactInterval < 0 {
		return keyGen{}, usagef("--compact-interval must not be negative, got %v", f.compactInterval)
	}
	if f.compactIndexDelta < 0 {
		return keyGen{}, usagef("--compact-index-delta must not be negative, got %d", f.compactIndexDelta)
	}
	kg, err := newKeyGen(f.keySize, f.keySpaceSize)
	if err != nil {
		return keyGen{}, usageError{err}
	}
	return kg, nil
}

func (c *cli) runPut(ctx context.Context, f putFlags) error {
	kg, err := f.validate()
	if err != nil {
		return err
	}
	p, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer p.close()

	var lastRev atomic.Int64
	stopCompactor := c.startCompactor(ctx, p.conn(0), f.compactInterval, f.compactIndexDelta, &lastRev)
	stats := c.run(ctx, job{
		label:   "put",
		total:   f.total,
		workers: int(c.g.clients),
		rate:    f.rate,
		do: func(ctx context.Context, w *worker, id, i int) (int, error) {
			resp, err := p.conn(id).Do(ctx, clientv3.OpPut(kg.pick(i, f.sequentialKeys, w.rand), w.value(f.valSize)))
			if err == nil {
				storeMax(&lastRev, resp.Put().Header.GetRevision())
			}
			return 0, err
		},
	})
	stopCompactor()

	WriteReport(c.opts.Stdout, stats[0], c.reportOptions())
	if f.checkHashKV && ctx.Err() == nil {
		if err := c.checkHashKV(ctx, p.conn(0), lastRev.Load()); err != nil {
			return err
		}
	}
	return c.finish(ctx, Summarize("put", stats[0]))
}

// startCompactor compacts every interval to delta revisions below the
// latest revision seen, until the returned stop is called. Compaction
// results go to stderr.
func (c *cli) startCompactor(ctx context.Context, cl *clientv3.Client, interval time.Duration, delta int64, lastRev *atomic.Int64) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rev := lastRev.Load() - delta
			if rev <= 0 {
				continue
			}
			st := time.Now()
			if _, err := cl.Compact(ctx, rev); err != nil {
				fmt.Fprintf(c.opts.Stderr, "compact at revision %d failed: %v\n", rev, errText(err))
				continue
			}
			fmt.Fprintf(c.opts.Stderr, "compacted at revision %d (took %v)\n", rev, time.Since(st).Round(time.Microsecond))
		}
	})
	return func() { close(done); wg.Wait() }
}

// hashKVWait bounds how long checkHashKV waits for a member to apply the
// revision it is asked to hash.
const hashKVWait = 10 * time.Second

// checkHashKV compares the key-value hash of every endpoint at rev. A member
// that has not applied rev yet is asked again until hashKVWait is over.
func (c *cli) checkHashKV(ctx context.Context, cl *clientv3.Client, rev int64) error {
	var first uint32
	deadline := time.Now().Add(hashKVWait)
	for i, ep := range cl.Endpoints() {
		var resp *clientv3.HashKVResponse
		var err error
		for {
			hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			resp, err = cl.HashKV(hctx, ep, rev)
			cancel()
			if !errors.Is(rpctypes.Error(err), rpctypes.ErrFutureRev) || time.Now().After(deadline) {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		if err != nil {
			return fmt.Errorf("hashkv of %s at revision %d: %v", ep, rev, errText(err))
		}
		if i == 0 {
			first = resp.Hash
		} else if resp.Hash != first {
			return fmt.Errorf("hashkv mismatch at revision %d: %s has %d, %s has %d", rev, cl.Endpoints()[0], first, ep, resp.Hash)
		}
	}
	fmt.Fprintf(c.opts.Stdout, "hashkv: %d endpoint(s) agree at revision %d (hash %d)\n\n", len(cl.Endpoints()), rev, first)
	return nil
}

// storeMax raises a to v if v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

func checkTotal(name string, n int) error {
	if n < 1 {
		return usagef("%s must be at least 1, got %d", name, n)
	}
	return nil
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.Name(), args)
	}
	return nil
}
