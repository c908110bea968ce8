package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// defaultProbeTimeout bounds the first request to each connection when
// --dial-timeout is not set, so that an unreachable endpoint is an error
// rather than a hang.
const defaultProbeTimeout = 5 * time.Second

// With --wait-ready, each read attempt gets readyAttempt and the next one
// starts readyRetry later; gRPC redials as fast (see clientConfig), so a
// restart is seen within about readyRetry of being served.
const (
	readyAttempt = 500 * time.Millisecond
	readyRetry   = 5 * time.Millisecond
)

// pool is the set of connections a run uses; worker i uses conn(i).
type pool struct {
	conns []*clientv3.Client
}

func (p *pool) conn(i int) *clientv3.Client { return p.conns[i%len(p.conns)] }

func (p *pool) close() {
	for _, c := range p.conns {
		c.Close()
	}
}

// connect validates the global flags, opens --conns connections and checks
// that each one answers.
func (c *cli) connect(ctx context.Context) (*pool, error) {
	if err := c.validateGlobal(); err != nil {
		return nil, err
	}
	cfg, err := c.clientConfig()
	if err != nil {
		return nil, err
	}
	if c.g.targetLeader {
		leader, err := findLeader(ctx, cfg, c.probeTimeout())
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(c.opts.Stderr, "target-leader: using %s\n", leader)
		cfg.Endpoints = []string{leader}
	}
	p := &pool{}
	for range c.g.conns {
		cl, err := clientv3.New(cfg)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("connect to %s: %w", strings.Join(cfg.Endpoints, ","), err)
		}
		p.conns = append(p.conns, cl)
	}
	// One cheap request per connection, so that a wrong endpoint or
	// credentials fail here, clearly, and not as a hung run.
	for _, cl := range p.conns {
		if err := c.probe(ctx, cl); err != nil {
			p.close()
			return nil, fmt.Errorf("cannot reach %s: %v", strings.Join(cfg.Endpoints, ","), errText(err))
		}
	}
	return p, nil
}

// probe sends one count-only read: serializable, or, with --wait-ready,
// linearizable and retried until it is served or the wait is over.
func (c *cli) probe(ctx context.Context, cl *clientv3.Client) error {
	if c.g.waitReady <= 0 {
		pctx, cancel := context.WithTimeout(ctx, c.probeTimeout())
		defer cancel()
		_, err := cl.Get(pctx, "health", clientv3.WithSerializable(), clientv3.WithCountOnly())
		return err
	}
	deadline := time.Now().Add(c.g.waitReady)
	retry := time.NewTicker(readyRetry)
	defer retry.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, readyAttempt)
		_, err := cl.Get(pctx, "health", clientv3.WithCountOnly())
		cancel()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-retry.C:
		}
	}
}

func (c *cli) probeTimeout() time.Duration {
	if c.g.dialTimeout > 0 {
		return c.g.dialTimeout
	}
	return defaultProbeTimeout
}

// clientConfig turns the global flags into a client configuration.
func (c *cli) clientConfig() (clientv3.Config, error) {
	cfg := clientv3.Config{
		Endpoints:        c.g.endpoints,
		DialTimeout:      c.g.dialTimeout,
		AutoSyncInterval: c.g.autoSyncInterval,
		Logger:           zap.NewNop(),
	}
	if c.g.waitReady > 0 {
		// gRPC backs off a second or more after a refused connection; a
		// server coming up is worth redialing quickly.
		cfg.DialOptions = append(cfg.DialOptions, grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: readyRetry, Multiplier: 1.2, Jitter: 0.1, MaxDelay: 20 * readyRetry},
			MinConnectTimeout: readyAttempt,
		}))
	}
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return cfg, err
	}
	cfg.TLS = tlsCfg
	if c.g.user != "" {
		name, password, ok := strings.Cut(c.g.user, ":")
		if !ok {
			fmt.Fprint(c.opts.Stderr, "Password: ")
			password, err = readPassword(c.opts.Stdin)
			fmt.Fprintln(c.opts.Stderr)
			if err != nil {
				return cfg, fmt.Errorf("read password: %w", err)
			}
		}
		if name == "" {
			return cfg, usagef("--user needs a user name")
		}
		cfg.Username, cfg.Password = name, password
	}
	return cfg, nil
}

// tlsConfig builds the client TLS configuration, or nil for plain text.
func (c *cli) tlsConfig() (*tls.Config, error) {
	https := false
	for _, ep := range c.g.endpoints {
		https = https || strings.HasPrefix(ep, "https://")
	}
	if c.g.cacert == "" && c.g.cert == "" && !c.g.insecureSkipVerify && !https {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.g.insecureSkipVerify}
	if c.g.cacert != "" {
		pem, err := os.ReadFile(c.g.cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert: no PEM certificate in %s", c.g.cacert)
		}
		cfg.RootCAs = pool
	}
	if c.g.cert != "" {
		pair, err := tls.LoadX509KeyPair(c.g.cert, c.g.key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// findLeader asks every endpoint for its status and returns the one that
// is the leader.
func findLeader(ctx context.Context, cfg clientv3.Config, timeout time.Duration) (string, error) {
	cl, err := clientv3.New(cfg)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	defer cl.Close()
	var errs []error
	for _, ep := range cfg.Endpoints {
		sctx, cancel := context.WithTimeout(ctx, timeout)
		st, err := cl.Status(sctx, ep)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", ep, errText(err)))
			continue
		}
		if st.Leader != 0 && st.Leader == st.Header.GetMemberId() {
			return ep, nil
		}
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("--target-leader: no endpoint reported itself leader: %w", errors.Join(errs...))
	}
	return "", errors.New("--target-leader: no endpoint reported itself leader")
}

// errText is the text a report groups a failed request under: etcd's own
// message ("etcdserver: ...") where the error carries one.
func errText(err error) string {
	return rpctypes.Error(err).Error()
}
