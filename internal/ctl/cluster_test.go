package ctl

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// Membership changes that a single golden server cannot show: promoting a
// learner that caught up, removing a voting member, moving the leadership
// to another member, comparing hashes across members. They run on
// in-process clusters; the output lines are etcdctl's (see the golden
// files of the single-member cases for the rest of each format).

// runCtl runs our etcdctl in-process with args.
func runCtl(args ...string) result {
	var stdout, stderr bytes.Buffer
	code := Main(Options{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Environ: []string{}}, args)
	return result{stdout: stdout.String(), stderr: dropLogLines(stderr.String()), exit: code}
}

// clusterIDs returns the cluster ID, the leader's member ID and endpoint,
// and the other members' IDs.
func clusterIDs(t *testing.T, c *testutil.Cluster) (cluster, leader uint64, leaderEp string, followers []uint64) {
	t.Helper()
	cl := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range c.Members {
		resp, err := cl.Status(ctx, m.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		cluster = resp.Header.ClusterId
		if resp.Header.MemberId == resp.Leader {
			leader, leaderEp = resp.Leader, m.Endpoint
		} else {
			followers = append(followers, resp.Header.MemberId)
		}
	}
	if leader == 0 {
		t.Fatal("no leader")
	}
	return cluster, leader, leaderEp, followers
}

func TestClusterMemberPromote(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := testutil.StartCluster(t, 1)
	learner := c.AddMember(t, true)
	cl := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := cl.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var id uint64
	for _, m := range list.Members {
		if m.IsLearner {
			id = m.ID
		}
	}
	if id == 0 {
		t.Fatalf("no learner in %v", list.Members)
	}
	ep := "--endpoints=" + c.Members[0].Endpoint
	// The learner may need a moment to catch up.
	var r result
	for deadline := time.Now().Add(30 * time.Second); ; {
		r = runCtl(ep, "member", "promote", fmt.Sprintf("%x", id))
		if r.exit == 0 || !strings.Contains(r.stderr, "in sync with leader") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := fmt.Sprintf("Member %16x promoted in cluster %16x\n", id, list.Header.ClusterId)
	if r.exit != 0 || r.stdout != want {
		t.Fatalf("promote: got %+v, want stdout %q", r, want)
	}
	r = runCtl(ep, "member", "list")
	if !strings.Contains(r.stdout, fmt.Sprintf("%x, started, %s", id, learner.Config.Name)) || strings.Contains(r.stdout, "true") {
		t.Errorf("after promote, member list:\n%s", r.stdout)
	}
	r = runCtl(ep, "member", "promote", fmt.Sprintf("%x", id))
	if r.exit != ExitError || r.stderr != "Error: etcdserver: can only promote a learner member\n" {
		t.Errorf("second promote: got %+v", r)
	}
}

func TestClusterMemberRemove(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := testutil.StartCluster(t, 3)
	cluster, _, leaderEp, followers := clusterIDs(t, c)
	gone := followers[0]
	r := runCtl("--endpoints="+leaderEp, "member", "remove", fmt.Sprintf("%x", gone), "-w", "json")
	if r.exit != 0 {
		t.Fatalf("remove: %+v", r)
	}
	if strings.Contains(r.stdout, fmt.Sprintf(`"ID":%d,`, gone)) || strings.Count(r.stdout, `"ID":`) != 2 {
		t.Errorf("remove -w json lists the removed member or not the others: %s", r.stdout)
	}
	r = runCtl("--endpoints="+leaderEp, "member", "remove", fmt.Sprintf("%x", followers[1]))
	want := fmt.Sprintf("Member %16x removed from cluster %16x\n", followers[1], cluster)
	if r.exit != 0 || r.stdout != want {
		t.Errorf("remove: got %+v, want %q", r, want)
	}
	r = runCtl("--endpoints="+leaderEp, "member", "remove", fmt.Sprintf("%x", gone))
	if r.exit != ExitError || r.stderr != "Error: etcdserver: member not found\n" {
		t.Errorf("remove again: got %+v", r)
	}
}

func TestClusterMoveLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := testutil.StartCluster(t, 3)
	_, leader, leaderEp, followers := clusterIDs(t, c)
	eps := strings.Join(c.Endpoints(), ",")
	target := followers[0]

	// Without the leader's endpoint there is no one to ask.
	var others []string
	for _, ep := range c.Endpoints() {
		if ep != leaderEp {
			others = append(others, ep)
		}
	}
	r := runCtl("--endpoints="+strings.Join(others, ","), "move-leader", fmt.Sprintf("%x", target))
	want := fmt.Sprintf("Error: no leader endpoint given at [%s]\n", strings.Join(others, " "))
	if r.exit != ExitBadArgs || r.stderr != want {
		t.Errorf("without the leader: got %+v, want %q", r, want)
	}

	r = runCtl("--endpoints="+eps, "move-leader", fmt.Sprintf("%x", target))
	want = fmt.Sprintf("Leadership transferred from %x to %x\n", leader, target)
	if r.exit != 0 || r.stdout != want {
		t.Fatalf("move-leader: got %+v, want %q", r, want)
	}
	if _, now, _, _ := clusterIDs(t, c); now != target {
		t.Errorf("leader is %x, want %x", now, target)
	}
}

func TestClusterHashKV(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := testutil.StartCluster(t, 3)
	cl := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 5 {
		if _, err := cl.Put(ctx, fmt.Sprint("k", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	// Every member must have applied the last write before hashing it.
	resp, err := cl.Get(ctx, "k0")
	if err != nil {
		t.Fatal(err)
	}
	rev := resp.Header.Revision
	for _, m := range c.Members {
		waitRevision(t, m.Endpoint, rev)
	}
	r := runCtl("--endpoints="+c.Members[0].Endpoint, "endpoint", "hashkv", "--cluster", "--rev", fmt.Sprint(rev))
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.exit != 0 || len(lines) != 3 {
		t.Fatalf("hashkv --cluster: %+v", r)
	}
	var hash string
	for i, l := range lines {
		f := strings.Split(l, ", ")
		if len(f) != 3 || !strings.HasPrefix(f[0], "http://127.0.0.1:") || f[2] != fmt.Sprint(rev) {
			t.Fatalf("line %q", l)
		}
		if i > 0 && f[1] != hash {
			t.Errorf("hashes differ:\n%s", r.stdout)
		}
		hash = f[1]
	}
}

// waitRevision polls a member until it has applied rev.
func waitRevision(t *testing.T, ep string, rev int64) {
	t.Helper()
	cl := testClient(t, ep)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := cl.Get(ctx, "k0", clientv3.WithSerializable())
		cancel()
		if err == nil && resp.Header.Revision >= rev {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach revision %d: %v", ep, rev, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
