package testutil

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/server"
)

// Cluster is an in-process cluster of members on loopback.
type Cluster struct {
	t       testing.TB
	Members []*Member
	token   string
}

// memberConfig is the configuration of member name of a test cluster.
func memberConfig(t testing.TB, name string) *config.Config {
	cfg := config.Default()
	cfg.Name = name
	cfg.DataDir = t.TempDir()
	client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", FreePort(t))}
	peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", FreePort(t))}
	cfg.ListenClientURLs = []url.URL{client}
	cfg.AdvertiseClientURLs = []url.URL{client}
	cfg.ListenPeerURLs = []url.URL{peer}
	cfg.InitialAdvertisePeerURLs = []url.URL{peer}
	cfg.ElectionTimeout = 500 * time.Millisecond
	cfg.HeartbeatInterval = 50 * time.Millisecond
	return cfg
}

// StartCluster starts n members bootstrapped together and waits until all
// serve clients.
func StartCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	return StartConfigured(t, ClusterConfigs(t, n, opts...))
}

// clusterToken is the --initial-cluster-token of test clusters.
const clusterToken = "test-cluster"

// ClusterConfigs are the configurations of n members of a new cluster,
// named m0, m1, ..., with opts applied; tests may adjust them (say, restore
// a snapshot into each data dir) before StartConfigured.
func ClusterConfigs(t testing.TB, n int, opts ...Option) []*config.Config {
	var cfgs []*config.Config
	initial := map[string][]url.URL{}
	for i := 0; i < n; i++ {
		cfg := memberConfig(t, fmt.Sprintf("m%d", i))
		cfg.InitialClusterToken = clusterToken
		for _, o := range opts {
			o(cfg)
		}
		cfgs = append(cfgs, cfg)
		initial[cfg.Name] = cfg.InitialAdvertisePeerURLs
	}
	for _, cfg := range cfgs {
		cfg.InitialCluster = initial
	}
	return cfgs
}

// StartConfigured starts the members of cfgs together and waits until all
// serve clients.
func StartConfigured(t testing.TB, cfgs []*config.Config) *Cluster {
	t.Helper()
	n := len(cfgs)
	c := &Cluster{t: t, token: clusterToken}
	// Members block in Start until a quorum publishes, so start them
	// together.
	c.Members = make([]*Member, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, cfg := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Members[i], errs[i] = startMember(t, cfg)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// startMember starts a member without failing the test from another
// goroutine.
func startMember(t testing.TB, cfg *config.Config) (*Member, error) {
	srv, err := server.New(cfg, Logger(t).With("name", cfg.Name))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Name, err)
	}
	m := &Member{ClientURL: cfg.AdvertiseClientURLs[0].String(), Endpoint: cfg.AdvertiseClientURLs[0].Host, Config: cfg, Server: srv}
	t.Cleanup(func() { m.Stop() })
	return m, nil
}

// Stop stops the member (idempotent).
func (m *Member) Stop() {
	if m.Server != nil {
		_ = m.Server.Close()
	}
}

// Restart starts a stopped member again on its data dir.
func (m *Member) Restart(t testing.TB) {
	t.Helper()
	nm, err := startMember(t, m.Config)
	if err != nil {
		t.Fatal(err)
	}
	m.Server = nm.Server
}

// Endpoints lists the members' client endpoints.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.Endpoint)
	}
	return out
}

// Client returns a client over every member.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// AddMember adds a new member (or learner) through MemberAdd and starts it
// with --initial-cluster-state existing.
func (c *Cluster) AddMember(t testing.TB, learner bool, opts ...Option) *Member {
	t.Helper()
	cfg := memberConfig(t, fmt.Sprintf("m%d", len(c.Members)))
	cfg.InitialClusterToken = c.token
	for _, o := range opts {
		o(cfg)
	}
	cli := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	peerURLs := []string{cfg.InitialAdvertisePeerURLs[0].String()}
	var err error
	if learner {
		_, err = cli.MemberAddAsLearner(ctx, peerURLs)
	} else {
		_, err = cli.MemberAdd(ctx, peerURLs)
	}
	if err != nil {
		t.Fatalf("member add: %v", err)
	}
	initial := map[string][]url.URL{cfg.Name: cfg.InitialAdvertisePeerURLs}
	for _, m := range c.Members {
		initial[m.Config.Name] = m.Config.InitialAdvertisePeerURLs
	}
	cfg.InitialCluster = initial
	cfg.InitialClusterState = config.ClusterStateExisting
	m, err := startMember(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Members = append(c.Members, m)
	return m
}
