package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// procMember is one member of a process-level cluster.
type procMember struct {
	name, dataDir  string
	clientPort     int
	peerPort       int
	p              *proc
	initialCluster string
	// state is --initial-cluster-state ("new" unless set), token
	// --initial-cluster-token ("e2e-cluster" unless set), and extra more
	// flags.
	state, token string
	extra        []string
}

func (m *procMember) peerURL() string { return fmt.Sprintf("http://127.0.0.1:%d", m.peerPort) }

func (m *procMember) start(t *testing.T) {
	t.Helper()
	state, token := m.state, m.token
	if state == "" {
		state = "new"
	}
	if token == "" {
		token = "e2e-cluster"
	}
	args := []string{
		"--name", m.name,
		"--listen-peer-urls", m.peerURL(),
		"--initial-advertise-peer-urls", m.peerURL(),
		"--initial-cluster", m.initialCluster,
		"--initial-cluster-token", token,
		"--initial-cluster-state", state,
	}
	m.p = startEtcd(t, m.dataDir, m.clientPort, append(args, m.extra...)...)
}

// startProcCluster starts n members together (each blocks until a quorum
// is up, so they start concurrently).
func startProcCluster(t *testing.T, n int, extra ...string) []*procMember {
	t.Helper()
	var ms []*procMember
	var parts []string
	for i := 0; i < n; i++ {
		m := &procMember{name: fmt.Sprintf("m%d", i), dataDir: t.TempDir(), clientPort: freePort(t), peerPort: freePort(t), extra: extra}
		ms = append(ms, m)
		parts = append(parts, fmt.Sprintf("%s=http://127.0.0.1:%d", m.name, m.peerPort))
	}
	var wg sync.WaitGroup
	for _, m := range ms {
		m.initialCluster = strings.Join(parts, ",")
		wg.Add(1)
		go func() { defer wg.Done(); m.start(t) }()
	}
	wg.Wait()
	return ms
}

func clusterClient(t *testing.T, ms []*procMember) *clientv3.Client {
	t.Helper()
	var eps []string
	for _, m := range ms {
		eps = append(eps, fmt.Sprintf("127.0.0.1:%d", m.clientPort))
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func findLeader(t *testing.T, ms []*procMember) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for i, m := range ms {
			c := m.p.client(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := c.Status(ctx, m.p.endpoint)
			cancel()
			c.Close()
			if err == nil && st.Leader == st.Header.MemberId {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no leader")
	return -1
}

// TestClusterKillLeaderLosesNothing kills the leader of a 3-member cluster
// with SIGKILL under write load: a new leader takes over within a few
// election timeouts, the old one catches up after a restart, and no
// acknowledged write is lost anywhere, also across a full cluster kill.
func TestClusterKillLeaderLosesNothing(t *testing.T) {
	ms := startProcCluster(t, 3)
	cli := clusterClient(t, ms)
	var mu sync.Mutex
	acked := map[string]bool{}
	var lastAck time.Time
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("w%d-%05d", w, i)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := cli.Put(ctx, k, "v")
				cancel()
				if err == nil {
					mu.Lock()
					acked[k] = true
					lastAck = time.Now()
					mu.Unlock()
				}
			}
		}()
	}
	waitAcks := func(n int) {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("writes stalled below %d acknowledgements", n)
	}
	waitAcks(200)
	li := findLeader(t, ms)
	killedAt := time.Now()
	ms[li].p.kill()
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	waitAcks(before + 100)
	mu.Lock()
	recovered := lastAck.Sub(killedAt)
	mu.Unlock()
	t.Logf("writes resumed %v after the leader was killed", recovered)
	if recovered > 5*time.Second {
		t.Errorf("writes took %v to resume after the leader died", recovered)
	}
	ms[li].start(t)
	waitAcks(before + 300)
	close(stop)
	wg.Wait()
	checkAllAcked(t, ms, "w", acked)

	// Every member killed at once, then restarted: still nothing lost.
	for _, m := range ms {
		m.p.kill()
	}
	var rwg sync.WaitGroup
	for _, m := range ms {
		rwg.Add(1)
		go func() { defer rwg.Done(); m.start(t) }()
	}
	rwg.Wait()
	checkAllAcked(t, ms, "w", acked)
}

// checkAllAcked reads every member's local copy of the keys under prefix
// (after it caught up) and checks every acknowledged key is there, their
// hashes agree and nothing was compacted.
func checkAllAcked(t *testing.T, ms []*procMember, prefix string, acked map[string]bool) {
	t.Helper()
	cli := clusterClient(t, ms)
	ctx := ctxT(t, 30*time.Second)
	r, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	rev := r.Header.Revision
	var hash uint32
	for i, m := range ms {
		c := m.p.client(t)
		var h *clientv3.HashKVResponse
		retryUntil(t, m.name+": hashkv", 15*time.Second, func() error {
			h, err = c.HashKV(ctx, m.p.endpoint, rev)
			return err
		})
		if i == 0 {
			hash = h.Hash
		} else if h.Hash != hash {
			t.Fatalf("%s: hash %x differs from %x at rev %d", m.name, h.Hash, hash, rev)
		}
		if h.CompactRevision != -1 || h.HashRevision != rev {
			t.Fatalf("%s: hashkv reports compact revision %d and hash revision %d, want -1 (nothing compacted) and %d", m.name, h.CompactRevision, h.HashRevision, rev)
		}
		local, err := c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithSerializable(), clientv3.WithRev(rev))
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, kv := range local.Kvs {
			have[string(kv.Key)] = true
		}
		for k := range acked {
			if !have[k] {
				t.Fatalf("%s lost acknowledged key %s", m.name, k)
			}
		}
	}
}
