package ctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc/grpclog"
)

// prepare merges the ETCDCTL_* environment into the global flags, once per
// invocation, before anything reads them. etcdctl does this when a command
// first needs its client, after the command's own arguments were checked;
// commands call it at that same point.
//
// With --debug it lists the effective settings and turns on gRPC's own
// logging. gRPC's logger is process-wide and may only be replaced before
// gRPC is used, which holds here: no client exists yet.
func (c *cli) prepare() error {
	c.prepareOnce.Do(func() {
		c.prepareErr = applyEnv(c.root.PersistentFlags(), c.opts.Environ, newLogger(c.opts.Stderr, zapcore.InfoLevel), c.ownEnv...)
		if c.prepareErr == nil && c.g.debug {
			writeDebugEnv(c.opts.Stderr, c.root.PersistentFlags())
			grpclog.SetLoggerV2(grpclog.NewLoggerV2(c.opts.Stderr, c.opts.Stderr, c.opts.Stderr))
		}
	})
	return c.prepareErr
}

// clientConfig builds the client configuration from the global flags for
// the given endpoints (nil: the --endpoints or --discovery-srv ones).
func (c *cli) clientConfig(endpoints []string) (clientv3.Config, error) {
	if err := c.prepare(); err != nil {
		return clientv3.Config{}, err
	}
	if endpoints == nil {
		eps, err := c.endpoints()
		if err != nil {
			return clientv3.Config{}, err
		}
		endpoints = eps
	}
	cfg := clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          c.g.dialTimeout,
		DialKeepAliveTime:    c.g.keepAliveTime,
		DialKeepAliveTimeout: c.g.keepAliveTimeout,
		MaxCallSendMsgSize:   c.g.maxRequestBytes,
		MaxCallRecvMsgSize:   c.g.maxRecvBytes,
		Logger:               newLogger(c.opts.Stderr, c.clientLogLevel()).Named("etcd-client"),
	}
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return clientv3.Config{}, exitErr(ExitBadArgs, err)
	}
	cfg.TLS = tlsCfg
	if c.g.user != "" {
		user, pass, err := c.credentials()
		if err != nil {
			return clientv3.Config{}, exitErr(ExitBadArgs, err)
		}
		cfg.Username, cfg.Password = user, pass
	}
	return cfg, nil
}

// clientLogLevel is the client library's log level: debug with --debug.
func (c *cli) clientLogLevel() zapcore.Level {
	if c.g.debug {
		return zapcore.DebugLevel
	}
	return zapcore.InfoLevel
}

// newClient connects to the global endpoints (or the given ones). A client
// that cannot even be built is a bad connection (exit 2).
func (c *cli) newClient(endpoints []string) (*clientv3.Client, error) {
	cfg, err := c.clientConfig(endpoints)
	if err != nil {
		return nil, err
	}
	cl, err := clientv3.New(cfg)
	if err != nil {
		return nil, exitErr(ExitBadConnection, err)
	}
	return cl, nil
}

// commandCtx bounds one request by --command-timeout.
func (c *cli) commandCtx(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	return context.WithTimeout(parent, c.g.commandTimeout)
}

// endpoints are the --endpoints, or the ones DNS SRV discovery finds when
// --discovery-srv is set.
func (c *cli) endpoints() ([]string, error) {
	if c.g.discoverySrv == "" {
		return c.g.endpoints, nil
	}
	suffix := ""
	if c.g.discoverySrvName != "" {
		suffix = "-" + c.g.discoverySrvName
	}
	var eps []string
	var errs []string
	lookup := func(service, scheme string) {
		_, addrs, err := net.LookupSRV(service+suffix, "tcp", c.g.discoverySrv)
		if err != nil {
			errs = append(errs, err.Error())
			return
		}
		for _, a := range addrs {
			host := strings.TrimSuffix(a.Target, ".")
			eps = append(eps, fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, fmt.Sprint(a.Port))))
		}
	}
	lookup("etcd-client-ssl", "https")
	if c.g.insecureDiscovery {
		lookup("etcd-client", "http")
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("dns lookup errors: %s", strings.Join(errs, " and "))
	}
	return eps, nil
}

// tlsConfig is the TLS configuration of the global flags.
func (c *cli) tlsConfig() (*tls.Config, error) {
	g := &c.g
	return secureFlags{cert: g.cert, key: g.key, cacert: g.cacert, insecureTransport: g.insecureTransport, insecureSkipVerify: g.insecureSkipVerify}.tlsConfig()
}

// secureFlags are a connection's TLS flags: the global ones, or
// make-mirror's --dest-* ones.
type secureFlags struct {
	cert, key, cacert                     string
	insecureTransport, insecureSkipVerify bool
}

// tlsConfig is nil for a plain connection: no certificate flags and
// insecure transport left on.
func (s secureFlags) tlsConfig() (*tls.Config, error) {
	if s.cert == "" && s.key == "" && s.cacert == "" && s.insecureTransport && !s.insecureSkipVerify {
		return nil, nil
	}
	if (s.cert == "") != (s.key == "") {
		return nil, fmt.Errorf("KeyFile and CertFile must both be present[key: %v, cert: %v]", s.key, s.cert)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.insecureSkipVerify}
	if s.cert != "" {
		pair, err := tls.LoadX509KeyPair(s.cert, s.key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if s.cacert != "" {
		pem, err := os.ReadFile(s.cacert)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("failed to parse CA certificates in %s", s.cacert)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// credentials splits --user name[:password]. With --password, all of
// --user is the name; without, a missing password is asked for (an empty
// answer logs in with no password, so requests go out unauthenticated).
func (c *cli) credentials() (user, pass string, err error) {
	if c.g.password != "" {
		return c.g.user, c.g.password, nil
	}
	user, pass, hasPass := strings.Cut(c.g.user, ":")
	if hasPass {
		return user, pass, nil
	}
	pass, err = c.askPassword("Password: ")
	if err != nil {
		return "", "", fmt.Errorf("failed to read password: %w", err)
	}
	return user, pass, nil
}

// rpcError is the exit error for a failed request: the client's message
// (e.g. "etcdserver: key is not provided") with exit code 1.
func rpcError(err error) error { return exitErr(ExitError, err) }
