package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/server"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// TestForceNewCluster: after losing two of three members for good, the
// survivor restarts with --force-new-cluster as a one-member cluster that
// keeps every acknowledged write.
func TestForceNewCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	writeSome(t, c, 20)
	// As etcd, --force-new-cluster drops the entries past the member's own
	// commit index: the member forced must know the writes are committed.
	waitHashesAgree(t, c)
	for _, m := range c.Members {
		m.Stop()
	}
	cfg := *c.Members[0].Config
	cfg.ForceNewCluster = true
	m := testutil.StartWithConfig(t, &cfg)
	cli := m.Client(t)
	ctx := ctxT(t)
	var members *clientv3.MemberListResponse
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		members, err = cli.MemberList(ctx)
		if err == nil && len(members.Members) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("members after --force-new-cluster: %v %v", members, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if members.Members[0].Name != cfg.Name {
		t.Fatalf("the member left is %q, want %q", members.Members[0].Name, cfg.Name)
	}
	r, err := cli.Get(ctx, "c/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || r.Count != 20 {
		t.Fatalf("data after --force-new-cluster: %v %v", r, err)
	}
	if _, err := cli.Put(ctx, "alone", "v"); err != nil {
		t.Fatalf("write in the new one-member cluster: %v", err)
	}
}

// TestWALDir: the write-ahead log goes to --wal-dir, and the data dir can
// only be opened with the same --wal-dir afterwards.
func TestWALDir(t *testing.T) {
	walDir := filepath.Join(t.TempDir(), "wal")
	m := testutil.StartMember(t, func(c *config.Config) { c.WALDir = walDir })
	if _, err := m.Client(t).Put(ctxT(t), "k", "v"); err != nil {
		t.Fatal(err)
	}
	logs, _ := filepath.Glob(filepath.Join(walDir, "*.log"))
	if len(logs) == 0 {
		t.Fatalf("no write-ahead log in --wal-dir %s", walDir)
	}
	m.Server.Close()

	cfg := *m.Config
	cfg.WALDir = ""
	srv, err := server.New(&cfg, testutil.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Start(ctx)
	srv.Close()
	if err == nil || !strings.Contains(err.Error(), "--wal-dir") {
		t.Fatalf("start without the data dir's --wal-dir: %v", err)
	}

	cfg.WALDir = walDir
	again := testutil.StartWithConfig(t, &cfg)
	r, err := again.Client(t).Get(ctxT(t), "k")
	if err != nil || len(r.Kvs) != 1 {
		t.Fatalf("data after restart with --wal-dir: %v %v", r, err)
	}
	if _, err := os.Stat(filepath.Join(walDir)); err != nil {
		t.Fatal(err)
	}
}

// TestMaxLearners: --max-learners bounds the learners the cluster accepts.
func TestMaxLearners(t *testing.T) {
	for _, limit := range []int{1, 2} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			m := testutil.StartMember(t, func(c *config.Config) { c.MaxLearners = limit })
			cli := m.Client(t)
			ctx := ctxT(t)
			var err error
			for i := 0; i <= limit; i++ {
				if _, err = cli.MemberAddAsLearner(ctx, []string{fmt.Sprintf("http://127.0.0.1:%d", 30000+i)}); err != nil {
					if i < limit {
						t.Fatalf("learner %d of %d: %v", i+1, limit, err)
					}
				}
			}
			if err == nil || !strings.Contains(err.Error(), "too many learner members in cluster") {
				t.Fatalf("learner past the limit: %v", err)
			}
		})
	}
}
