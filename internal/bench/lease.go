package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// keepaliveTTL is the TTL of the leases the keepalive benchmark renews; it
// is long enough that none expires during a run.
const keepaliveTTL = 300

type leaseFlags struct {
	total int
	rate  int
}

func (c *cli) newLeaseKeepaliveCommand() *cobra.Command {
	var f leaseFlags
	cmd := &cobra.Command{
		Use:   "lease-keepalive",
		Short: "Benchmark lease keepalive",
		Long: "Benchmark lease keepalive: each client grants a lease, then renews it over its own\n" +
			"keepalive stream, one request at a time; each renewal's round trip is one request.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.runLeaseKeepalive(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.total, "total", 10000, "Total number of lease keepalive requests")
	fl.IntVar(&f.rate, "rate", 0, "Maximum keepalive requests per second (0 is no limit)")
	return cmd
}

// keepaliver is one client's lease and keepalive stream.
type keepaliver struct {
	id     int64
	stream pb.Lease_LeaseKeepAliveClient
	cancel context.CancelFunc
}

func (k *keepaliver) renew() error {
	if err := k.stream.Send(&pb.LeaseKeepAliveRequest{ID: k.id}); err != nil {
		return err
	}
	resp, err := k.stream.Recv()
	if err != nil {
		return err
	}
	if resp.TTL <= 0 {
		return errors.New("etcdserver: requested lease not found")
	}
	return nil
}

func (c *cli) runLeaseKeepalive(ctx context.Context, f leaseFlags) error {
	if err := checkTotal("--total", f.total); err != nil {
		return err
	}
	if f.rate < 0 {
		return usagef("--rate must not be negative, got %d", f.rate)
	}
	p, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer p.close()

	kas := make([]*keepaliver, c.g.clients)
	defer func() {
		for i, k := range kas {
			if k == nil {
				continue
			}
			k.cancel()
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			p.conn(i).Revoke(rctx, clientv3.LeaseID(k.id))
			cancel()
		}
	}()
	for i := range kas {
		grant, err := p.conn(i).Grant(ctx, keepaliveTTL)
		if err != nil {
			return fmt.Errorf("grant lease: %v", errText(err))
		}
		sctx, cancel := context.WithCancel(ctx)
		st, err := pb.NewLeaseClient(p.conn(i).ActiveConnection()).LeaseKeepAlive(sctx)
		if err != nil {
			cancel()
			return fmt.Errorf("open keepalive stream: %v", errText(err))
		}
		kas[i] = &keepaliver{id: int64(grant.ID), stream: st, cancel: cancel}
	}

	stats := c.run(ctx, job{
		label:   "lease-keepalive",
		total:   f.total,
		workers: int(c.g.clients),
		rate:    f.rate,
		do: func(_ context.Context, _ *worker, id, _ int) (int, error) {
			return 0, kas[id].renew()
		},
	})
	WriteReport(c.opts.Stdout, stats[0], c.reportOptions())
	return c.finish(ctx, Summarize("lease-keepalive", stats[0]))
}
