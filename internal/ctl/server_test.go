package ctl

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
	"github.com/cairn-kv/cairn/internal/version"
)

// Servers for the golden tests.
//
// By default each case gets a fresh in-process Cairn member. With
// CAIRN_TEST_ETCD=/path/to/etcd the cases run against that binary instead,
// started fresh per case on free 127.0.0.1 ports with default name and peer
// URL, so its member and cluster IDs are the well-known defaults.

// startServer starts a fresh server and returns its client endpoint
// ("127.0.0.1:port").
func startServer(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("CAIRN_TEST_ETCD"); bin != "" {
		return startEtcdBinary(t, bin)
	}
	// The cheapest bcrypt cost: cases add users and log in often.
	return testutil.StartMember(t, func(c *config.Config) { c.BcryptCost = 4 }).Endpoint
}

func startEtcdBinary(t *testing.T, bin string) string {
	t.Helper()
	for attempt := 0; ; attempt++ {
		cport, pport := testutil.FreePort(t), testutil.FreePort(t)
		ep := fmt.Sprintf("127.0.0.1:%d", cport)
		cmd := exec.Command(bin,
			"--data-dir", t.TempDir(),
			"--listen-client-urls", "http://"+ep,
			"--advertise-client-urls", "http://"+ep,
			"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", pport),
			// Short ticks only make the first election quick.
			"--heartbeat-interval", "10", "--election-timeout", "100",
			"--log-level", "error",
		)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// exited is closed once the process is gone, so that any number of
		// waiters see it (waitReady does when etcd dies at start).
		exited := make(chan struct{})
		var waitErr error
		go func() {
			waitErr = cmd.Wait()
			close(exited)
		}()
		if err := waitReady(ep, exited, &waitErr); err != nil {
			cmd.Process.Kill()
			<-exited
			if attempt < 3 { // most likely a port taken in between
				continue
			}
			t.Fatalf("etcd on %s: %v", ep, err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
		})
		return ep
	}
}

// waitReady polls until the server answers a linearizable read.
func waitReady(ep string, exited <-chan struct{}, waitErr *error) error {
	cl, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cl.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("exited: %v", *waitErr)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := cl.Get(ctx, "ready")
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testClient connects to ep for fixtures.
func testClient(t *testing.T, ep string) *clientv3.Client {
	t.Helper()
	cl, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// waitStorageVersion polls until the server's status reports the storage
// version Cairn always reports; a fresh etcd takes a few seconds to get
// there.
func waitStorageVersion(t *testing.T, ep string) {
	t.Helper()
	cl := testClient(t, ep)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := cl.Status(ctx, ep)
		cancel()
		if err == nil && resp.StorageVersion == version.StorageVersion {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("storage version of %s: %v, %v", ep, resp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
