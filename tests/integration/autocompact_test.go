package integration

import (
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

func TestAutoCompactionBadRetentionRefused(t *testing.T) {
	cfg := config.Default()
	cfg.AutoCompactionMode, cfg.AutoCompactionRetention = "revision", "1h"
	cfg.DataDir = t.TempDir()
	if err := cfg.Validate(); err == nil {
		t.Fatal("revision mode accepted a duration")
	}
}
