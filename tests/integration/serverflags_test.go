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
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/raftnode"
	"github.com/cairn-kv/cairn/internal/server"
	"github.com/cairn-kv/cairn/internal/storage"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// TestForceNewCluster: after losing two of three members for good, the
// survivor restarts with --force-new-cluster as a one-member cluster that
// keeps every acknowledged write.
func TestForceNewCluster(t *testing.T) {
	checkForcedAlone(t, stoppedClusterWith20Keys(t), 20)
}

// stoppedClusterWith20Keys writes 20 keys to a 3-member cluster, stops it
// and returns the first member's configuration.
func stoppedClusterWith20Keys(t *testing.T) config.Config {
	t.Helper()
	c := testutil.StartCluster(t, 3)
	writeSome(t, c, 20)
	// As etcd, --force-new-cluster drops the entries past the member's own
	// commit index: the member forced must know the writes are committed.
	waitHashesAgree(t, c)
	for _, m := range c.Members {
		m.Stop()
	}
	return *c.Members[0].Config
}

// TestForceNewClusterWithStaleCommitIndex: the stored commit index may lag
// the applied index (the hard state and the applier's batch are separate
// writes); entries already applied are committed and must not be dropped,
// or the appended removals would take indexes the state has applied and
// never take effect.
func TestForceNewClusterWithStaleCommitIndex(t *testing.T) {
	cfg := stoppedClusterWith20Keys(t)
	lowerStoredCommit(t, &cfg, 5)
	checkForcedAlone(t, cfg, 20)
}

// lowerStoredCommit lowers the commit index in a stopped member's hard
// state by n.
func lowerStoredCommit(t *testing.T, cfg *config.Config, n uint64) {
	t.Helper()
	eng, err := storage.Open(filepath.Join(cfg.DataDir, "member"), storage.Options{WALDir: cfg.WALDir}, testutil.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ls, err := raftnode.OpenLogStore(eng.DB())
	if err != nil {
		t.Fatal(err)
	}
	hs, _, err := ls.InitialState()
	if err != nil {
		t.Fatal(err)
	}
	if hs.GetCommit() <= n {
		t.Fatalf("commit index %d too low to lower by %d", hs.GetCommit(), n)
	}
	hs.Commit = proto.Uint64(hs.GetCommit() - n)
	if err := ls.Append(hs, nil, true); err != nil {
		t.Fatal(err)
	}
}

// checkForcedAlone starts the member of cfg with --force-new-cluster and
// checks it is then alone, holds the writeSome keys and takes writes.
func checkForcedAlone(t *testing.T, cfg config.Config, keys int64) {
	t.Helper()
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
	if err != nil || r.Count != keys {
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
