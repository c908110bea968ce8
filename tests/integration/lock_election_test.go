package integration

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cairn-kv/cairn/internal/testutil"
	"github.com/cairn-kv/cairn/internal/v3lock"
	"github.com/cairn-kv/cairn/internal/v3lock/v3electionpb"
	"github.com/cairn-kv/cairn/internal/v3lock/v3lockpb"
)

func grant(t *testing.T, c *clientv3.Client, ttl int64) clientv3.LeaseID {
	t.Helper()
	resp, err := c.Grant(ctxT(t), ttl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.ID
}

// wantStatus fails unless err is a gRPC status with code and message.
func wantStatus(t *testing.T, what string, err error, code codes.Code, msg string) {
	t.Helper()
	s, _ := status.FromError(err)
	if err == nil || s.Code() != code || s.Message() != msg {
		t.Fatalf("%s: got %v, want %v %q", what, err, code, msg)
	}
}

// stillBlocked fails if a result arrives on ch within a short while: the
// call is meant to be waiting for another holder.
func stillBlocked[T any](t *testing.T, what string, ch <-chan T) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s returned while it should wait: %+v", what, r)
	case <-time.After(300 * time.Millisecond):
	}
}

type lockResult struct {
	resp *v3lockpb.LockResponse
	err  error
}

func lockAsync(ctx context.Context, lc v3lockpb.LockClient, name string, lease clientv3.LeaseID) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		resp, err := lc.Lock(ctx, &v3lockpb.LockRequest{Name: []byte(name), Lease: int64(lease)})
		ch <- lockResult{resp, err}
	}()
	return ch
}

func await[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not return", what)
		panic("unreachable")
	}
}

// TestLockMutualExclusion: the second Lock of a name returns only after the
// first holder unlocks, and each ownership key is name/<lease hex> owned by
// the caller's lease.
func TestLockMutualExclusion(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	lc := v3lockpb.NewLockClient(rawConn(t, m))
	l1, l2 := grant(t, c, 60), grant(t, c, 60)

	first, err := lc.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("mylock"), Lease: int64(l1)})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("mylock/%x", int64(l1)); string(first.Key) != want {
		t.Fatalf("first key %q, want %q", first.Key, want)
	}
	got, err := c.Get(ctx, string(first.Key))
	if err != nil || len(got.Kvs) != 1 || got.Kvs[0].Lease != int64(l1) {
		t.Fatalf("first key in the store: %v %v", got, err)
	}
	if first.Header == nil || first.Header.Revision != got.Kvs[0].CreateRevision || first.Header.MemberId == 0 {
		t.Fatalf("first header %v, key created at %d", first.Header, got.Kvs[0].CreateRevision)
	}

	second := lockAsync(ctx, lc, "mylock", l2)
	stillBlocked(t, "second Lock", second)
	if _, err := lc.Unlock(ctx, &v3lockpb.UnlockRequest{Key: first.Key}); err != nil {
		t.Fatal(err)
	}
	r := await(t, "second Lock", second)
	if r.err != nil || string(r.resp.Key) != fmt.Sprintf("mylock/%x", int64(l2)) {
		t.Fatalf("second Lock: %+v", r)
	}
	got, err = c.Get(ctx, "mylock/", clientv3.WithPrefix())
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Key) != string(r.resp.Key) {
		t.Fatalf("keys after the hand-over: %v %v", got, err)
	}
	un, err := lc.Unlock(ctx, &v3lockpb.UnlockRequest{Key: r.resp.Key})
	if err != nil || un.Header.Revision <= r.resp.Header.Revision {
		t.Fatalf("second Unlock: %v %v", un, err)
	}

	// Another name is another lock: it is free while mylock is held.
	if _, err := lc.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("mylock"), Lease: int64(l1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("other"), Lease: int64(l2)}); err != nil {
		t.Fatalf("lock of another name: %v", err)
	}
}

// TestLockLeaseExpiry: a holder whose lease expires loses the lock, and
// the waiter gets it; a lease that does not exist is refused.
func TestLockLeaseExpiry(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	lc := v3lockpb.NewLockClient(rawConn(t, m))

	_, err := lc.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("l"), Lease: 0x1234})
	wantStatus(t, "lock with an unknown lease", err, codes.NotFound, "etcdserver: requested lease not found")

	short, long := grant(t, c, 1), grant(t, c, 60)
	held, err := lc.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("l"), Lease: int64(short)})
	if err != nil {
		t.Fatal(err)
	}
	waiter := lockAsync(ctx, lc, "l", long)
	r := await(t, "Lock after the holder's lease expired", waiter)
	if r.err != nil || string(r.resp.Key) != fmt.Sprintf("l/%x", int64(long)) {
		t.Fatalf("waiter: %+v", r)
	}
	if got, err := c.Get(ctx, string(held.Key)); err != nil || len(got.Kvs) != 0 {
		t.Fatalf("expired holder's key: %v %v", got, err)
	}
}

type campaignResult struct {
	resp *v3electionpb.CampaignResponse
	err  error
}

// TestElectionSequence: two candidates go through Campaign, Proclaim,
// Leader, Observe and Resign, with etcd's error texts.
func TestElectionSequence(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	ec := v3electionpb.NewElectionClient(rawConn(t, m))
	la, lb := grant(t, c, 60), grant(t, c, 60)
	name := []byte("pick")

	_, err := ec.Leader(ctx, &v3electionpb.LeaderRequest{Name: name})
	wantStatus(t, "leader of an empty election", err, codes.Unknown, "election: no leader")

	a, err := ec.Campaign(ctx, &v3electionpb.CampaignRequest{Name: name, Lease: int64(la), Value: []byte("a1")})
	if err != nil {
		t.Fatal(err)
	}
	ak := a.Leader
	if string(ak.Name) != "pick" || string(ak.Key) != fmt.Sprintf("pick/%x", int64(la)) || ak.Lease != int64(la) || ak.Rev != a.Header.Revision {
		t.Fatalf("leader key %+v, header %v", ak, a.Header)
	}

	obsCtx, stopObs := context.WithCancel(ctx)
	defer stopObs()
	obs, err := ec.Observe(obsCtx, &v3electionpb.LeaderRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	nextValue := func(want string) {
		t.Helper()
		resp, err := obs.Recv()
		if err != nil || string(resp.Kv.Value) != want {
			t.Fatalf("observe: got %v %v, want value %q", resp, err, want)
		}
	}
	nextValue("a1")

	bch := make(chan campaignResult, 1)
	go func() {
		resp, err := ec.Campaign(ctx, &v3electionpb.CampaignRequest{Name: name, Lease: int64(lb), Value: []byte("b1")})
		bch <- campaignResult{resp, err}
	}()
	stillBlocked(t, "second Campaign", bch)

	if _, err := ec.Proclaim(ctx, &v3electionpb.ProclaimRequest{Leader: ak, Value: []byte("a2")}); err != nil {
		t.Fatal(err)
	}
	nextValue("a2")
	l, err := ec.Leader(ctx, &v3electionpb.LeaderRequest{Name: name})
	if err != nil || string(l.Kv.Value) != "a2" || string(l.Kv.Key) != string(ak.Key) || l.Kv.Lease != int64(la) {
		t.Fatalf("leader: %v %v", l, err)
	}

	// B's key exists (it waits) but is not the leader's: a leader key
	// with its creation revision is refused; so is one with a stale rev.
	bKey := fmt.Sprintf("pick/%x", int64(lb))
	got, err := c.Get(ctx, bKey)
	if err != nil || len(got.Kvs) != 1 {
		t.Fatalf("waiting candidate's key: %v %v", got, err)
	}
	bWaiting := &v3electionpb.LeaderKey{Name: name, Key: []byte(bKey), Rev: got.Kvs[0].CreateRevision, Lease: int64(lb)}
	if _, err := ec.Proclaim(ctx, &v3electionpb.ProclaimRequest{Leader: &v3electionpb.LeaderKey{Name: name, Key: ak.Key, Rev: ak.Rev + 100, Lease: ak.Lease}, Value: []byte("x")}); err == nil {
		t.Fatal("proclaim with a stale revision succeeded")
	} else {
		wantStatus(t, "proclaim with a stale revision", err, codes.Unknown, "election: not leader")
	}
	_, err = ec.Proclaim(ctx, &v3electionpb.ProclaimRequest{Value: []byte("x")})
	wantStatus(t, "proclaim without a leader key", err, codes.Unknown, `"leader" field must be provided`)
	_, err = ec.Resign(ctx, &v3electionpb.ResignRequest{})
	wantStatus(t, "resign without a leader key", err, codes.Unknown, `"leader" field must be provided`)

	if _, err := ec.Resign(ctx, &v3electionpb.ResignRequest{Leader: ak}); err != nil {
		t.Fatal(err)
	}
	b := await(t, "second Campaign", bch)
	if b.err != nil || string(b.resp.Leader.Key) != bKey || b.resp.Leader.Rev != bWaiting.Rev || b.resp.Leader.Lease != int64(lb) {
		t.Fatalf("second Campaign: %+v", b)
	}
	nextValue("b1")
	// The old leader key no longer leads.
	_, err = ec.Proclaim(ctx, &v3electionpb.ProclaimRequest{Leader: ak, Value: []byte("a3")})
	wantStatus(t, "proclaim after resigning", err, codes.Unknown, "election: not leader")
	if _, err := ec.Proclaim(ctx, &v3electionpb.ProclaimRequest{Leader: b.resp.Leader, Value: []byte("b2")}); err != nil {
		t.Fatal(err)
	}
	nextValue("b2")
	if _, err := ec.Resign(ctx, &v3electionpb.ResignRequest{Leader: b.resp.Leader}); err != nil {
		t.Fatal(err)
	}
	_, err = ec.Leader(ctx, &v3electionpb.LeaderRequest{Name: name})
	wantStatus(t, "leader after both resigned", err, codes.Unknown, "election: no leader")
}

// TestLockElectionAuth: the calls run with the caller's credentials.
func TestLockElectionAuth(t *testing.T) {
	m := testutil.StartMember(t, cheapBcrypt)
	root := m.Client(t)
	setUpAuth(t, root)
	conn := rawConn(t, m)
	ctx := ctxT(t)
	token := func(user, pw string) context.Context {
		resp, err := pb.NewAuthClient(conn).Authenticate(ctx, &pb.AuthenticateRequest{Name: user, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		return metadata.AppendToOutgoingContext(ctx, "token", resp.Token)
	}
	rootCtx, aliceCtx := token("root", "rootpw"), token("alice", "alicepw")
	lease, err := pb.NewLeaseClient(conn).LeaseGrant(rootCtx, &pb.LeaseGrantRequest{TTL: 60})
	if err != nil {
		t.Fatal(err)
	}
	lc := v3lockpb.NewLockClient(conn)
	_, err = lc.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("/app/cfg"), Lease: lease.ID})
	wantStatus(t, "lock without a token", err, codes.InvalidArgument, "etcdserver: user name is empty")
	_, err = lc.Lock(aliceCtx, &v3lockpb.LockRequest{Name: []byte("/secret"), Lease: lease.ID})
	wantStatus(t, "lock outside alice's permissions", err, codes.PermissionDenied, "etcdserver: permission denied")
	held, err := lc.Lock(rootCtx, &v3lockpb.LockRequest{Name: []byte("/secret"), Lease: lease.ID})
	if err != nil {
		t.Fatalf("root lock: %v", err)
	}
	_, err = lc.Unlock(aliceCtx, &v3lockpb.UnlockRequest{Key: held.Key})
	wantStatus(t, "unlock outside alice's permissions", err, codes.PermissionDenied, "etcdserver: permission denied")
	_, err = v3electionpb.NewElectionClient(conn).Leader(aliceCtx, &v3electionpb.LeaderRequest{Name: []byte("/secret")})
	wantStatus(t, "leader outside alice's permissions", err, codes.PermissionDenied, "etcdserver: permission denied")
	if _, err := lc.Unlock(rootCtx, &v3lockpb.UnlockRequest{Key: held.Key}); err != nil {
		t.Fatalf("root unlock: %v", err)
	}

	// The certificate name the lock service passes on for its callers is
	// taken only from its own connection: sent from the network, directly
	// or through the JSON gateway (which turns Grpc-Metadata-* headers into
	// metadata), it names nobody.
	forged := metadata.AppendToOutgoingContext(ctx, v3lock.CallerCNKey, "root")
	_, err = lc.Lock(forged, &v3lockpb.LockRequest{Name: []byte("/secret"), Lease: lease.ID})
	wantStatus(t, "lock with a forged certificate name", err, codes.InvalidArgument, "etcdserver: user name is empty")
	_, err = pb.NewKVClient(conn).Range(forged, &pb.RangeRequest{Key: []byte("/secret")})
	wantStatus(t, "range with a forged certificate name", err, codes.InvalidArgument, "etcdserver: user name is empty")
	req, _ := http.NewRequest(http.MethodPost, m.ClientURL+"/v3/kv/range", strings.NewReader(`{"key": "`+b64("/secret")+`"}`))
	req.Header.Set("Grpc-Metadata-"+v3lock.CallerCNKey, "root")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK || !strings.Contains(string(body), "user name is empty") {
		t.Errorf("gateway range with a forged certificate name: %d %s", resp.StatusCode, body)
	}
}

// TestLockElectionByCertificateCN: a caller known only by its client
// certificate locks and campaigns as that certificate's user.
func TestLockElectionByCertificateCN(t *testing.T) {
	c := startCertAuthMember(t)
	root, alice := c.root, c.alice
	ctx := ctxT(t)
	lease, err := root.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	aliceLock := v3lockpb.NewLockClient(alice.ActiveConnection())
	_, err = aliceLock.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("/secret"), Lease: int64(lease.ID)})
	wantStatus(t, "alice locks outside her permissions", err, codes.PermissionDenied, "etcdserver: permission denied")
	_, err = v3electionpb.NewElectionClient(alice.ActiveConnection()).Leader(ctx, &v3electionpb.LeaderRequest{Name: []byte("/secret")})
	wantStatus(t, "alice asks for a leader outside her permissions", err, codes.PermissionDenied, "etcdserver: permission denied")

	rootLock := v3lockpb.NewLockClient(root.ActiveConnection())
	held, err := rootLock.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("/secret"), Lease: int64(lease.ID)})
	if err != nil {
		t.Fatalf("root locks by certificate: %v", err)
	}
	if got, err := root.Get(ctx, string(held.Key)); err != nil || len(got.Kvs) != 1 {
		t.Fatalf("the lock key %q: %v %v", held.Key, got, err)
	}
	_, err = aliceLock.Unlock(ctx, &v3lockpb.UnlockRequest{Key: held.Key})
	wantStatus(t, "alice unlocks root's lock", err, codes.PermissionDenied, "etcdserver: permission denied")
	if _, err := rootLock.Unlock(ctx, &v3lockpb.UnlockRequest{Key: held.Key}); err != nil {
		t.Fatalf("root unlocks by certificate: %v", err)
	}
	rootElection := v3electionpb.NewElectionClient(root.ActiveConnection())
	if _, err := rootElection.Campaign(ctx, &v3electionpb.CampaignRequest{Name: []byte("/secret/e"), Lease: int64(lease.ID), Value: []byte("v")}); err != nil {
		t.Fatalf("root campaigns by certificate: %v", err)
	}
	if resp, err := rootElection.Leader(ctx, &v3electionpb.LeaderRequest{Name: []byte("/secret/e")}); err != nil || string(resp.Kv.Value) != "v" {
		t.Fatalf("leader for root: %v %v", resp, err)
	}
}

// TestLockElectionGateway: the JSON routes, with base64 bytes and int64
// fields as strings, as etcd's curl recipes send them.
func TestLockElectionGateway(t *testing.T) {
	m := testutil.StartMember(t)
	u := m.ClientURL
	_, out := gwCall(t, u, "/v3/lease/grant", `{"TTL": 60}`, "")
	lease, _ := out["ID"].(string)
	if lease == "" {
		t.Fatalf("lease grant: %v", out)
	}
	var id int64
	fmt.Sscan(lease, &id)

	code, out := gwCall(t, u, "/v3/lock/lock", `{"name": "`+b64("gwlock")+`", "lease": "`+lease+`"}`, "")
	key, _ := base64.StdEncoding.DecodeString(fmt.Sprint(out["key"]))
	if code != 200 || string(key) != fmt.Sprintf("gwlock/%x", id) || out["header"] == nil {
		t.Fatalf("lock: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/lock/unlock", `{"key": "`+b64(string(key))+`"}`, ""); code != 200 || out["header"] == nil {
		t.Fatalf("unlock: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3beta/lock/lock", `{"name": "`+b64("gwlock")+`", "lease": `+lease+`}`, ""); code != 200 || out["key"] == nil {
		t.Fatalf("v3beta lock: %d %v", code, out)
	}

	code, out = gwCall(t, u, "/v3/election/leader", `{"name": "`+b64("gwelect")+`"}`, "")
	if code != 500 || out["message"] != "election: no leader" || out["code"] != float64(codes.Unknown) {
		t.Fatalf("leader of an empty election: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/election/campaign", `{"name": "`+b64("gwelect")+`", "lease": "`+lease+`", "value": "`+b64("v1")+`"}`, "")
	leader, _ := out["leader"].(map[string]any)
	if code != 200 || leader == nil || leader["name"] != b64("gwelect") || leader["lease"] != lease || leader["rev"] == nil {
		t.Fatalf("campaign: %d %v", code, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	obs := gwStream(t, ctx, u, "/v3/election/observe", `{"name": "`+b64("gwelect")+`"}`)
	if kv, _ := nextResult(t, obs)["kv"].(map[string]any); kv == nil || kv["value"] != b64("v1") {
		t.Fatal("observe: first message is not v1")
	}
	leaderJSON := fmt.Sprintf(`{"name": %q, "key": %q, "rev": %q, "lease": %q}`, leader["name"], leader["key"], leader["rev"], leader["lease"])
	if code, out := gwCall(t, u, "/v3/election/proclaim", `{"leader": `+leaderJSON+`, "value": "`+b64("v2")+`"}`, ""); code != 200 || out["header"] == nil {
		t.Fatalf("proclaim: %d %v", code, out)
	}
	if kv, _ := nextResult(t, obs)["kv"].(map[string]any); kv == nil || kv["value"] != b64("v2") {
		t.Fatal("observe: second message is not v2")
	}
	code, out = gwCall(t, u, "/v3/election/leader", `{"name": "`+b64("gwelect")+`"}`, "")
	if kv, _ := out["kv"].(map[string]any); code != 200 || kv == nil || kv["value"] != b64("v2") || kv["key"] != leader["key"] {
		t.Fatalf("leader: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/election/resign", `{"leader": `+leaderJSON+`}`, ""); code != 200 || out["header"] == nil {
		t.Fatalf("resign: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/election/proclaim", `{"leader": `+leaderJSON+`, "value": "`+b64("v3")+`"}`, "")
	if code != 500 || out["message"] != "election: not leader" {
		t.Fatalf("proclaim after resign: %d %v", code, out)
	}
}

// TestLockCancelAndObserveWait: a waiter that gives up leaves no key
// behind, and Observe of an election without a leader waits for one.
func TestLockCancelAndObserveWait(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	conn := rawConn(t, m)
	lc := v3lockpb.NewLockClient(conn)
	l1, l2 := grant(t, c, 60), grant(t, c, 60)
	if _, err := lc.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("q"), Lease: int64(l1)}); err != nil {
		t.Fatal(err)
	}
	waitCtx, giveUp := context.WithCancel(ctx)
	waiter := lockAsync(waitCtx, lc, "q", l2)
	waiterKey := fmt.Sprintf("q/%x", int64(l2))
	waitKeyCount(t, c, waiterKey, 1) // the waiter is queued
	giveUp()
	r := await(t, "canceled Lock", waiter)
	wantStatus(t, "canceled Lock", r.err, codes.Canceled, "context canceled")
	waitKeyCount(t, c, waiterKey, 0) // and cleaned up after itself

	ec := v3electionpb.NewElectionClient(conn)
	obs, err := ec.Observe(ctx, &v3electionpb.LeaderRequest{Name: []byte("late")})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan *v3electionpb.LeaderResponse, 1)
	go func() {
		resp, _ := obs.Recv()
		first <- resp
	}()
	stillBlocked(t, "Observe without a leader", first)
	if _, err := ec.Campaign(ctx, &v3electionpb.CampaignRequest{Name: []byte("late"), Lease: int64(l1), Value: []byte("here")}); err != nil {
		t.Fatal(err)
	}
	if resp := await(t, "Observe", first); resp == nil || string(resp.Kv.Value) != "here" || resp.Header.Revision == 0 {
		t.Fatalf("observe: %v", resp)
	}
}

// waitKeyCount polls, for up to 10 s, until key exists (want 1) or not
// (want 0).
func waitKeyCount(t *testing.T, c *clientv3.Client, key string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := c.Get(ctxT(t), key)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Kvs) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d keys, want %d", key, len(got.Kvs), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
