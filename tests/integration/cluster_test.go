package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/testutil"
)

func memberClient(t *testing.T, m *testutil.Member) *clientv3.Client {
	t.Helper()
	return m.Client(t)
}

func TestClusterReplicates(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	ctx := ctxT(t)
	cli := c.Client(t)
	for i := 0; i < 50; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("k%02d", i), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range c.Members {
		mc := memberClient(t, m)
		r, err := mc.Get(ctx, "k", clientv3.WithPrefix())
		if err != nil || r.Count != 50 {
			t.Fatalf("member %d linearizable read: %v %v", i, r, err)
		}
		ml, err := mc.MemberList(ctx)
		if err != nil || len(ml.Members) != 3 {
			t.Fatalf("member %d member list: %v %v", i, ml, err)
		}
		for _, mm := range ml.Members {
			if mm.Name == "" || len(mm.ClientURLs) != 1 {
				t.Fatalf("member not published: %v", mm)
			}
		}
	}
}

func leaderIndex(t *testing.T, c *testutil.Cluster) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, m := range c.Members {
			if m.Server == nil {
				continue
			}
			st, err := statusOf(m)
			if err == nil && st.Leader == st.Header.MemberId {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no leader")
	return -1
}

func statusOf(m *testutil.Member) (*clientv3.StatusResponse, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.Endpoint}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return cli.Status(ctx, m.Endpoint)
}

func TestClusterLeaderStopAndRestart(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	ctx := ctxT(t)
	cli := c.Client(t)
	for i := 0; i < 20; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("a%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	li := leaderIndex(t, c)
	c.Members[li].Stop()
	for i := 0; i < 20; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("b%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	c.Members[li].Restart(t)
	r, err := memberClient(t, c.Members[li]).Get(ctx, "", clientv3.WithPrefix())
	if err != nil || r.Count != 40 {
		t.Fatalf("restarted member sees %v, %v", r, err)
	}
}
