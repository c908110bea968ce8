package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// make-mirror copies the keys under --prefix from the cluster of
// --endpoints to the destination cluster, then follows the changes with a
// watch, until interrupted (it dies of the signal, as etcdctl does). Every
// 30 seconds it prints how many keys it has written and deleted so far.
//
// The source's requests have no deadline: against an endpoint that does
// not answer, make-mirror waits, printing 0 every 30 seconds, as etcdctl
// does.
//
// Two differences from etcdctl 3.6, both where etcdctl misbehaves:
//   - with --rev and without --dest-prefix, etcdctl strips --prefix from
//     the keys it mirrors (it sets the destination prefix only on the path
//     that copies the existing keys); here the keys keep their prefix,
//     whether or not --rev is given;
//   - when the server cancels the watch (a permission lost, say), etcdctl
//     ends with "Error: <nil>"; here it ends with the cancel reason.

// mirrorBatch is how many keys one range request of the initial copy reads.
const mirrorBatch = 1000

type mirrorFlags struct {
	prefix, destPrefix string
	noDestPrefix       bool
	maxTxnOps          uint
	rev                int64
	secure             secureFlags
	user, password     string
}

func (c *cli) newMakeMirrorCommand() *cobra.Command {
	var f mirrorFlags
	cmd := &cobra.Command{
		Use:   "make-mirror [options] <destination>",
		Short: "Makes a mirror at the destination etcd cluster",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitErr(ExitBadArgs, errors.New("make-mirror takes one destination argument"))
			}
			return c.makeMirror(cmd, f, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.prefix, "prefix", "", "Key-value prefix to mirror")
	fs.StringVar(&f.destPrefix, "dest-prefix", "", "destination prefix to mirror a prefix to a different prefix in the destination cluster")
	fs.BoolVar(&f.noDestPrefix, "no-dest-prefix", false, "mirror key-values to the root of the destination cluster")
	fs.StringVar(&f.secure.cert, "dest-cert", "", "Identify secure client using this TLS certificate file for the destination cluster")
	fs.StringVar(&f.secure.key, "dest-key", "", "Identify secure client using this TLS key file")
	fs.StringVar(&f.secure.cacert, "dest-cacert", "", "Verify certificates of TLS enabled secure servers using this CA bundle")
	fs.BoolVar(&f.secure.insecureTransport, "dest-insecure-transport", true, "Disable transport security for client connections")
	fs.StringVar(&f.user, "dest-user", "", "Destination username[:password] for authentication (prompt if password is not supplied)")
	fs.StringVar(&f.password, "dest-password", "", "Destination password for authentication (if this option is used, --user option shouldn't include password)")
	fs.UintVar(&f.maxTxnOps, "max-txn-ops", 128, "Maximum number of operations permitted in a transaction during syncing updates.")
	fs.Int64Var(&f.rev, "rev", 0, "Specify the kv revision to start to mirror")
	return cmd
}

// makeMirror connects to both clusters (the destination first, as etcdctl
// does, so its flags are checked first) and mirrors until interrupted or
// until a request fails.
func (c *cli) makeMirror(cmd *cobra.Command, f mirrorFlags, dest string) error {
	dc, err := c.newDestClient(f, dest)
	if err != nil {
		return err
	}
	defer dc.Close()
	sc, err := c.newClient(nil)
	if err != nil {
		return err
	}
	defer sc.Close()
	if f.noDestPrefix && f.destPrefix != "" {
		return exitErr(ExitBadArgs, errors.New("`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, choose one"))
	}
	destPrefix := f.destPrefix
	if !f.noDestPrefix && destPrefix == "" {
		destPrefix = f.prefix
	}

	ctx, stop := c.interruptContext(baseContext(cmd.Context()), false)
	defer stop()
	m := &mirror{src: sc, dest: dc, prefix: f.prefix, destPrefix: destPrefix, maxTxnOps: f.maxTxnOps}
	interval := c.opts.mirrorReportInterval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	reporterDone := make(chan struct{})
	go func() {
		defer close(reporterDone)
		m.report(ctx, cmd.OutOrStdout(), interval)
	}()
	err = m.run(ctx, f.rev)
	interrupted := ctx.Err() != nil
	stop()
	<-reporterDone
	if interrupted {
		return killedByInterrupt()
	}
	return exitErr(ExitError, err)
}

// newDestClient connects to the destination with the --dest-* flags and
// the global timeouts. A password missing from --dest-user is asked for.
func (c *cli) newDestClient(f mirrorFlags, dest string) (*clientv3.Client, error) {
	if err := c.prepare(); err != nil {
		return nil, err
	}
	cfg := clientv3.Config{
		Endpoints:            []string{dest},
		DialTimeout:          c.g.dialTimeout,
		DialKeepAliveTime:    c.g.keepAliveTime,
		DialKeepAliveTimeout: c.g.keepAliveTimeout,
		Logger:               newLogger(c.opts.Stderr, c.clientLogLevel()).Named("etcd-client"),
	}
	if f.user != "" {
		cfg.Username, cfg.Password = f.user, f.password
		if f.password == "" {
			user, pass, hasPass := strings.Cut(f.user, ":")
			if !hasPass {
				p, err := c.askPassword("Destination Password: ")
				if err != nil {
					return nil, exitErr(ExitError, err)
				}
				pass = p
			}
			cfg.Username, cfg.Password = user, pass
		}
	}
	tlsCfg, err := f.secure.tlsConfig()
	if err != nil {
		return nil, exitErr(ExitBadArgs, err)
	}
	cfg.TLS = tlsCfg
	cl, err := clientv3.New(cfg)
	if err != nil {
		return nil, exitErr(ExitBadConnection, err)
	}
	return cl, nil
}

// mirror copies one prefix from src to dest.
type mirror struct {
	src, dest          *clientv3.Client
	prefix, destPrefix string
	maxTxnOps          uint
	// total counts the keys written and deleted on dest.
	total atomic.Int64
}

// report prints the total every interval until ctx ends.
func (m *mirror) report(ctx context.Context, w io.Writer, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			fmt.Fprintln(w, m.total.Load())
		case <-ctx.Done():
			return
		}
	}
}

// destKey maps a source key under prefix to the destination.
func (m *mirror) destKey(key []byte) string {
	return m.destPrefix + strings.TrimPrefix(string(key), m.prefix)
}

// run copies the keys as of one revision, then applies the changes after
// it. With a revision (rev > 1) it skips the copy and applies the changes
// from rev on.
func (m *mirror) run(ctx context.Context, rev int64) error {
	var base int64
	if rev > 1 {
		base = rev - 1
	} else {
		var err error
		if base, err = m.copyBase(ctx); err != nil {
			return err
		}
	}
	return m.follow(ctx, base+1)
}

// copyBase puts every key under the prefix, read page by page at one
// revision, which it returns.
func (m *mirror) copyBase(ctx context.Context) (rev int64, err error) {
	key, end := m.prefix, clientv3.GetPrefixRangeEnd(m.prefix)
	if m.prefix == "" {
		key, end = "\x00", "\x00" // every key
	}
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(mirrorBatch),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := m.src.Get(ctx, key, opts...)
		if err != nil {
			return 0, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if _, err := m.dest.Put(ctx, m.destKey(kv.Key), string(kv.Value)); err != nil {
				return 0, err
			}
			m.total.Add(1)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return rev, nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// follow watches the prefix from rev and applies each revision's changes
// in one transaction, split in transactions of at most --max-txn-ops
// operations when it has more.
func (m *mirror) follow(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last clientv3.WatchResponse
	for wr := range m.src.Watch(wctx, m.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev)) {
		last = wr
		if wr.CompactRevision != 0 {
			return rpctypes.ErrCompacted
		}
		var ops []clientv3.Op
		var opsRev int64
		for _, ev := range wr.Events {
			if len(ops) > 0 && (ev.Kv.ModRevision > opsRev || uint(len(ops)) >= m.maxTxnOps) {
				if err := m.commit(ctx, ops); err != nil {
					return err
				}
				ops = ops[:0]
			}
			opsRev = ev.Kv.ModRevision
			switch ev.Type {
			case mvccpb.PUT:
				ops = append(ops, clientv3.OpPut(m.destKey(ev.Kv.Key), string(ev.Kv.Value)))
			case mvccpb.DELETE:
				ops = append(ops, clientv3.OpDelete(m.destKey(ev.Kv.Key)))
			}
			m.total.Add(1)
		}
		if err := m.commit(ctx, ops); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := last.Err(); err != nil {
		return err
	}
	return errors.New("watch of the source ended")
}

func (m *mirror) commit(ctx context.Context, ops []clientv3.Op) error {
	if len(ops) == 0 {
		return nil
	}
	_, err := m.dest.Txn(ctx).Then(ops...).Commit()
	return err
}
