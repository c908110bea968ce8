package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/server"
	"github.com/cairn-kv/cairn/internal/storage"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// damageValue flips the last byte of the first stored key-value version in
// a stopped member's engine: the kind of silent damage a bad disk does.
func damageValue(t *testing.T, dataDir string) {
	t.Helper()
	eng, err := storage.Open(filepath.Join(dataDir, "member"), storage.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	db := eng.DB()
	it, err := db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !it.SeekGE([]byte{storage.PrefixKV}) || it.Key()[0] != storage.PrefixKV {
		t.Fatal("no key-value version to damage")
	}
	key := append([]byte(nil), it.Key()...)
	val := append([]byte(nil), it.Value()...)
	it.Close()
	val[len(val)-1] ^= 0xff
	if err := db.Set(key, val, nil); err != nil {
		t.Fatal(err)
	}
}

func writeSome(t *testing.T, c *testutil.Cluster, n int) {
	t.Helper()
	cli := c.Client(t)
	for i := range n {
		if _, err := cli.Put(ctxT(t), fmt.Sprintf("c/%02d", i), "value"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInitialCorruptCheckRefusesDamagedMember: a member whose data differs
// from its peers' at the same revision refuses to start.
func TestInitialCorruptCheckRefusesDamagedMember(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	writeSome(t, c, 10)
	m := c.Members[2]
	// All members hold every write before the damage is compared.
	waitHashesAgree(t, c)
	m.Stop()
	damageValue(t, m.Config.DataDir)

	cfg := *m.Config
	cfg.InitialCorruptCheck = true
	srv, err := server.New(&cfg, testutil.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Start(ctx)
	srv.Close()
	if err == nil || !strings.Contains(err.Error(), "found data inconsistency with peers") {
		t.Fatalf("start of a damaged member: %v", err)
	}

	// An undamaged member passes the same check.
	healthy := *c.Members[1].Config
	c.Members[1].Stop()
	healthy.InitialCorruptCheck = true
	c.Members[1] = testutil.StartWithConfig(t, &healthy)
}

// TestPeriodicCorruptCheckRaisesAlarm: the leader finds the member whose
// hash differs from the majority's and raises CORRUPT for it, which stops
// the cluster serving until an operator steps in.
func TestPeriodicCorruptCheckRaisesAlarm(t *testing.T) {
	c := testutil.StartCluster(t, 3, func(cfg *config.Config) { cfg.CorruptCheckTime = 200 * time.Millisecond })
	writeSome(t, c, 10)
	waitHashesAgree(t, c)
	victim := c.Members[2]
	victim.Stop()
	damageValue(t, victim.Config.DataDir)
	victim.Restart(t)

	cli := c.Client(t)
	ctx := ctxT(t)
	var alarms []*pb.AlarmMember
	deadline := time.Now().Add(15 * time.Second)
	for len(alarms) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no CORRUPT alarm raised")
		}
		time.Sleep(100 * time.Millisecond)
		resp, err := cli.AlarmList(ctx)
		if err != nil {
			continue
		}
		alarms = resp.Alarms
	}
	victimID := victim.Server.MemberID()
	if len(alarms) != 1 || alarms[0].Alarm != pb.AlarmType_CORRUPT || alarms[0].MemberID != victimID {
		t.Fatalf("alarms %v, want CORRUPT for %x", alarms, victimID)
	}
	if _, err := cli.Put(ctx, "after", "v"); err == nil || err.Error() != rpctypes.ErrCorrupt.Error() {
		t.Fatalf("put with CORRUPT raised: %v, want %v", err, rpctypes.ErrCorrupt)
	}
}

// waitHashesAgree waits until every member hashes the same at the newest
// revision.
func waitHashesAgree(t *testing.T, c *testutil.Cluster) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var hashes []uint32
		for _, m := range c.Members {
			resp, err := m.Client(t).HashKV(ctxT(t), m.Endpoint, 0)
			if err == nil {
				hashes = append(hashes, resp.Hash)
			}
		}
		if len(hashes) == len(c.Members) && hashes[0] == hashes[1] && hashes[1] == hashes[2] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("members do not agree: %v", hashes)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
