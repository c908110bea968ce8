package integration

import (
	"fmt"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// TestAutoCompactionPeriodic keeps a one-second window: old revisions
// become compacted on their own.
func TestAutoCompactionPeriodic(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) {
		c.AutoCompactionMode, c.AutoCompactionRetention = "periodic", "1s"
	})
	c := m.Client(t)
	ctx := ctxT(t)
	for i := 0; i < 10; i++ {
		if _, err := c.Put(ctx, "k", "v"); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Get(ctx, "k", clientv3.WithRev(2))
		if err == rpctypes.ErrCompacted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("revision 2 still readable: %v", err)
		}
		if _, err := c.Put(ctx, "k", "v"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAutoCompactionRevision keeps the last 5 revisions: the compactor
// compacts to the current revision minus 5 on each round, and revisions
// inside the window stay readable.
func TestAutoCompactionRevision(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) {
		c.AutoCompactionMode, c.AutoCompactionRetention = "revision", "5"
		c.AutoCompactionRevisionInterval = 100 * time.Millisecond
	})
	c := m.Client(t)
	ctx := ctxT(t)
	var rev int64
	for i := 0; i < 20; i++ {
		resp, err := c.Put(ctx, "k", fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		rev = resp.Header.Revision
	}
	// The next rounds compact to rev-5: that revision becomes the oldest
	// readable one.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Get(ctx, "k", clientv3.WithRev(rev-6))
		if err == rpctypes.ErrCompacted {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("revision %d still readable with a retention of 5 at revision %d", rev-6, rev)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for r := rev - 5; r <= rev; r++ {
		got, err := c.Get(ctx, "k", clientv3.WithRev(r))
		if err != nil || len(got.Kvs) != 1 || got.Kvs[0].ModRevision != r {
			t.Fatalf("revision %d inside the window: %v %v", r, got, err)
		}
	}
	st, err := c.Status(ctx, m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if st.Header.Revision != rev {
		t.Fatalf("auto-compaction wrote: revision %d, want %d", st.Header.Revision, rev)
	}
}

func TestAutoCompactionBadRetentionRefused(t *testing.T) {
	cfg := config.Default()
	cfg.AutoCompactionMode, cfg.AutoCompactionRetention = "revision", "1h"
	cfg.DataDir = t.TempDir()
	if err := cfg.Validate(); err == nil {
		t.Fatal("revision mode accepted a duration")
	}
}
