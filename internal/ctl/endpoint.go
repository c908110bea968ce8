package ctl

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

func (c *cli) newEndpointCommand() *cobra.Command {
	var cluster bool
	cmd := &cobra.Command{
		Use:   "endpoint <subcommand>",
		Short: "Endpoint related commands",
	}
	cmd.PersistentFlags().BoolVar(&cluster, "cluster", false, "use all endpoints from the cluster member list")
	cmd.AddCommand(
		c.newEndpointHealthCommand(&cluster),
		c.newEndpointStatusCommand(&cluster),
		c.newEndpointHashKVCommand(&cluster),
	)
	return cmd
}

// endpointList is --endpoints, or with --cluster the client URLs of every
// member, asked of --endpoints.
func (c *cli) endpointList(cmd *cobra.Command, cluster bool) ([]string, error) {
	if err := c.prepare(); err != nil {
		return nil, err
	}
	if !cluster {
		return c.endpoints()
	}
	cl, err := c.newClient(nil)
	if err != nil {
		// etcdctl ends with 1 here even for a TLS file that does not load,
		// which elsewhere is a bad argument (128).
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, exitErr(ExitError, ee.Err)
		}
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := c.commandCtx(cmd)
	defer cancel()
	resp, err := cl.MemberList(ctx)
	if err != nil {
		return nil, exitErrf(ExitError, "failed to fetch endpoints from etcd cluster member list: %v", err)
	}
	var eps []string
	for _, m := range resp.Members {
		eps = append(eps, m.ClientURLs...)
	}
	return eps, nil
}

func (c *cli) newEndpointHealthCommand(cluster *bool) *cobra.Command {
	return &cobra.Command{
		Use:   "health",
		Short: "Checks the healthiness of endpoints specified in `--endpoints` flag",
		RunE: func(cmd *cobra.Command, _ []string) error {
			eps, err := c.endpointList(cmd, *cluster)
			if err != nil {
				return err
			}
			p, err := c.printer(cmd)
			if err != nil {
				return err
			}
			results := c.checkHealth(cmd, eps)
			if err := p.endpointHealth(results); err != nil {
				return err
			}
			for _, h := range results {
				if !h.Health {
					return exitErr(ExitError, errors.New("unhealthy cluster"))
				}
			}
			return nil
		},
	}
}

// checkHealth asks every endpoint, concurrently and each with its own
// client, for a linearizable read of the key "health" (a permission error
// still proves the member can commit) and then for its alarms: an active
// alarm makes it unhealthy. Results are listed in the order they arrive.
func (c *cli) checkHealth(cmd *cobra.Command, eps []string) []healthResult {
	var (
		mu      sync.Mutex
		results []healthResult
		wg      sync.WaitGroup
	)
	for _, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := c.checkOne(cmd, ep)
			mu.Lock()
			results = append(results, h)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

func (c *cli) checkOne(cmd *cobra.Command, ep string) healthResult {
	h := healthResult{Endpoint: ep}
	cl, err := c.newClient([]string{ep})
	if err != nil {
		h.Error = err.Error()
		return h
	}
	defer cl.Close()
	start := time.Now()
	ctx, cancel := c.commandCtx(cmd)
	defer cancel()
	_, err = cl.Get(ctx, "health")
	if err == nil || errors.Is(err, rpctypes.ErrPermissionDenied) {
		h.Health = true
	} else {
		h.Error = err.Error()
	}
	if h.Health {
		resp, err := cl.AlarmList(ctx)
		switch {
		case err != nil:
			h.Health = false
			h.Error = fmt.Sprintf("Unable to fetch the alarm list: %v", err)
		case len(resp.Alarms) > 0:
			h.Health = false
			var sb strings.Builder
			sb.WriteString("Active Alarm(s): ")
			for _, a := range resp.Alarms {
				sb.WriteString(a.Alarm.String() + " ")
			}
			h.Error = sb.String()
		}
	}
	h.Took = time.Since(start).String()
	return h
}

func (c *cli) newEndpointStatusCommand(cluster *bool) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Prints out the status of endpoints specified in `--endpoints` flag",
		Long: `Prints the status of each endpoint.

With --write-out=simple each endpoint is one line of comma-separated fields,
in the order of the table's columns: endpoint, ID, version, storage version,
DB size, DB size in use, percentage not in use, quota, is leader, is learner,
raft term, raft index, raft applied index, errors, downgrade target version,
downgrade enabled.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eps, err := c.endpointList(cmd, *cluster)
			if err != nil {
				return err
			}
			cl, err := c.newClient(eps)
			if err != nil {
				return err
			}
			defer cl.Close()
			p, err := c.printer(cmd)
			if err != nil {
				return err
			}
			var results []statusResult
			failed := false
			for _, ep := range eps {
				ctx, cancel := c.commandCtx(cmd)
				resp, err := cl.Status(ctx, ep)
				cancel()
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "Failed to get the status of endpoint %s (%v)\n", ep, err)
					failed = true
					continue
				}
				results = append(results, statusResult{Endpoint: ep, Resp: resp})
			}
			if err := p.endpointStatus(results); err != nil {
				return err
			}
			if failed {
				return silentExit(ExitError)
			}
			return nil
		},
	}
}

func (c *cli) newEndpointHashKVCommand(cluster *bool) *cobra.Command {
	var rev int64
	cmd := &cobra.Command{
		Use:   "hashkv",
		Short: "Prints the KV history hash for each endpoint in --endpoints",
		Long: `Prints, for each endpoint, a hash of the key-value history it holds up to
a revision (by default its latest), and that revision. Members that applied
the same history report the same hash.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eps, err := c.endpointList(cmd, *cluster)
			if err != nil {
				return err
			}
			cl, err := c.newClient(eps)
			if err != nil {
				return err
			}
			defer cl.Close()
			p, err := c.printer(cmd)
			if err != nil {
				return err
			}
			// Every endpoint is asked; the last failure decides the exit.
			var results []hashKVResult
			var failure error
			for _, ep := range eps {
				ctx, cancel := c.commandCtx(cmd)
				resp, err := cl.HashKV(ctx, ep, rev)
				cancel()
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "Failed to get the hash of endpoint %s (%v)\n", ep, err)
					failure = err
					continue
				}
				results = append(results, hashKVResult{Endpoint: ep, Resp: resp})
			}
			if err := p.endpointHashKV(results); err != nil {
				return err
			}
			if failure != nil {
				return rpcError(failure)
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&rev, "rev", 0, "maximum revision to hash (default: latest revision)")
	return cmd
}
