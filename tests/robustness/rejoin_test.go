package robustness

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestPartitionedFollowerRejoinsPromptly cuts a follower off, every
// connection to and from it refused at once, for long enough that redials
// with a growing backoff would be seconds apart; then it heals the network
// and checks that the follower serves a write made after the heal within a
// few election timeouts.
func TestPartitionedFollowerRejoinsPromptly(t *testing.T) {
	if testing.Short() {
		t.Skip("cuts a member off for 12s")
	}
	requireClustering(t)
	c, err := newCluster(t, clusterConfig{members: 3, directPeers: false})
	if err != nil {
		t.Fatal(err)
	}
	admin := c.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	leader, err := c.leader(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	follower := c.members[(leader+1)%len(c.members)]
	for _, m := range c.members {
		if m != follower {
			c.net.Drop(m.name, follower.name)
			c.net.Drop(follower.name, m.name)
		}
	}
	// gRPC's default redial backoff (1s growing by 1.6x) has the dials of
	// a peer refused for 12s about 4-7s apart.
	time.Sleep(12 * time.Second)
	c.net.Heal()
	healed := time.Now()
	if _, err := admin.Put(ctx, "after-heal", "v"); err != nil {
		t.Fatal(err)
	}
	cli := c.client(t, follower.clientURL)
	const bound = 3 * time.Second // six election timeouts of the test cluster
	for {
		rctx, rcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		resp, err := cli.Get(rctx, "after-heal", clientv3.WithSerializable())
		rcancel()
		if err == nil && len(resp.Kvs) == 1 {
			t.Logf("%s served the write %v after the heal", follower.name, time.Since(healed).Round(time.Millisecond))
			return
		}
		if time.Since(healed) > bound {
			t.Fatalf("%s still misses a write made after the network healed %v ago (last error: %v)", follower.name, bound, errOrNone(err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func errOrNone(err error) string {
	if err == nil {
		return "none"
	}
	return fmt.Sprint(err)
}
