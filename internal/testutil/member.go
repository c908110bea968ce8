// Package testutil starts Cairn members for tests.
package testutil

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/server"
	"github.com/cairn-kv/cairn/internal/testutil/freeport"
)

// Member is a running single-member server for tests.
type Member struct {
	// ClientURL is the member's client endpoint, e.g. "http://127.0.0.1:40123".
	ClientURL string
	// Endpoint is ClientURL without the scheme, e.g. "127.0.0.1:40123".
	Endpoint string
	// Config is the configuration it runs with.
	Config *config.Config
	// Server is the running member.
	Server *server.Server
}

// Option adjusts a member's configuration before it starts.
type Option func(*config.Config)

// WithDataDir runs the member on an existing data dir.
func WithDataDir(dir string) Option { return func(c *config.Config) { c.DataDir = dir } }

// StartMember starts a fresh single member with a temporary data dir, named
// "default" with the default peer URL, so member and cluster IDs equal etcd's
// defaults. It is stopped when the test ends. Set CAIRN_TEST_LOG=1 to see
// its log.
func StartMember(t testing.TB, opts ...Option) *Member {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	port := FreePort(t)
	u := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	cfg.ListenClientURLs = []url.URL{u}
	cfg.AdvertiseClientURLs = []url.URL{u}
	// The member keeps etcd's default advertised peer URL (and so its IDs)
	// but listens on a free port: tests run many members side by side.
	cfg.ListenPeerURLs = []url.URL{{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", FreePort(t))}}
	cfg.ElectionTimeout = 500 * time.Millisecond
	cfg.HeartbeatInterval = 50 * time.Millisecond
	for _, o := range opts {
		o(cfg)
	}
	return StartWithConfig(t, cfg)
}

// StartWithConfig starts a member with cfg as given.
func StartWithConfig(t testing.TB, cfg *config.Config) *Member {
	t.Helper()
	lg := Logger(t)
	srv, err := server.New(cfg, lg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start member: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close member: %v", err)
		}
	})
	u := cfg.AdvertiseClientURLs[0]
	return &Member{ClientURL: u.String(), Endpoint: u.Host, Config: cfg, Server: srv}
}

// Client returns a clientv3 client for the member, closed when the test ends.
func (m *Member) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{m.Endpoint},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Logger returns a logger for test members: silent unless CAIRN_TEST_LOG is
// set, in which case it writes to the test log.
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("CAIRN_TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago,
// drawn outside the kernel's ephemeral range (see package freeport).
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
