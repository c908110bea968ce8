package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
	"github.com/cairn-kv/cairn/internal/version"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStatusAndMemberList(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	if _, err := c.Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx, m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != version.EtcdVersion || st.StorageVersion != "3.6.0" {
		t.Errorf("version %q storage %q", st.Version, st.StorageVersion)
	}
	if st.Leader != st.Header.MemberId || st.Header.MemberId != 0x8e9e05c52164694d || st.Header.ClusterId != 0xcdf818194e3a8c32 {
		t.Errorf("ids: leader %x member %x cluster %x", st.Leader, st.Header.MemberId, st.Header.ClusterId)
	}
	if st.RaftTerm != 2 || st.RaftIndex < 5 || st.RaftAppliedIndex != st.RaftIndex || st.Header.Revision != 2 {
		t.Errorf("raft: term %d index %d applied %d rev %d", st.RaftTerm, st.RaftIndex, st.RaftAppliedIndex, st.Header.Revision)
	}
	if st.DbSize <= 0 || st.DbSizeQuota != 2<<30 || len(st.Errors) != 0 || st.IsLearner {
		t.Errorf("db size %d quota %d errors %v learner %v", st.DbSize, st.DbSizeQuota, st.Errors, st.IsLearner)
	}
	for _, lin := range []bool{false, true} {
		ml, err := c.MemberList(ctx, withLinearizable(lin)...)
		if err != nil {
			t.Fatal(err)
		}
		if len(ml.Members) != 1 {
			t.Fatalf("members: %v", ml.Members)
		}
		mem := ml.Members[0]
		if mem.Name != "default" || mem.ID != 0x8e9e05c52164694d || mem.PeerURLs[0] != "http://localhost:2380" ||
			mem.ClientURLs[0] != m.ClientURL || mem.IsLearner || ml.Header.Revision != 0 {
			t.Fatalf("member: %v header %v", mem, ml.Header)
		}
	}
}

// withLinearizable: the client asks for a linearizable member list unless
// told the read may be serializable.
func withLinearizable(on bool) []clientv3.OpOption {
	if on {
		return nil
	}
	return []clientv3.OpOption{clientv3.WithSerializable()}
}

func TestGRPCHealthService(t *testing.T) {
	m := testutil.StartMember(t)
	conn, err := grpc.NewClient(m.Endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctxT(t), &healthpb.HealthCheckRequest{})
	if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", resp, err)
	}
}

func TestHTTPEndpointsOnClientPort(t *testing.T) {
	m := testutil.StartMember(t)
	get := func(method, path string) (int, string, http.Header) {
		req, _ := http.NewRequest(method, m.ClientURL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	cases := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/health", 200, `{"health":"true","reason":""}`},
		{"GET", "/health?serializable=true", 200, `{"health":"true","reason":""}`},
		{"GET", "/health?exclude=NOSPACE", 200, `{"health":"true","reason":""}`},
		{"POST", "/health", 405, "Method Not Allowed\n"},
		{"GET", "/livez", 200, "ok\n"},
		{"GET", "/livez?verbose", 200, "[+]serializable_read ok\nok\n"},
		{"GET", "/livez/serializable_read", 200, "ok\n"},
		{"GET", "/readyz", 200, "ok\n"},
		{"GET", "/readyz?verbose", 200, "[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n"},
		{"GET", "/readyz?verbose&exclude=serializable_read", 200, "[+]data_corruption ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n"},
		{"GET", "/readyz/linearizable_read", 200, "ok\n"},
		{"GET", "/readyz/non_learner", 200, "ok\n"},
		{"GET", "/readyz/bogus", 404, "404 page not found\n"},
		{"GET", "/nothing", 404, "404 page not found\n"},
	}
	for _, tc := range cases {
		code, body, hdr := get(tc.method, tc.path)
		if code != tc.code || body != tc.body {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, code, body, tc.code, tc.body)
		}
		if hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS header", tc.path)
		}
	}
	code, body, _ := get("GET", "/version")
	var v map[string]string
	if err := json.Unmarshal([]byte(body), &v); err != nil || code != 200 {
		t.Fatalf("/version: %d %q %v", code, body, err)
	}
	if v["etcdserver"] != version.EtcdVersion || v["etcdcluster"] != "3.6.0" || v["storage"] != "3.6.0" || v["cairn"] != version.Version {
		t.Fatalf("/version = %v", v)
	}
}

// TestReadsSeeAcknowledgedWrites checks linearizability from one client's
// view: a read that starts after a write was acknowledged sees it (or
// something newer), under concurrent writers and readers.
func TestReadsSeeAcknowledgedWrites(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	var acked atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 16)
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
				resp, err := c.Put(ctx, "counter", fmt.Sprint(i))
				if err != nil {
					errs <- err
					return
				}
				for {
					cur := acked.Load()
					if resp.Header.Revision <= cur || acked.CompareAndSwap(cur, resp.Header.Revision) {
						break
					}
				}
			}
		}()
	}
	for r := 0; r < 4; r++ {
		serializable := r%2 == 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				before := acked.Load()
				var opts []clientv3.OpOption
				if serializable {
					opts = append(opts, clientv3.WithSerializable())
				}
				resp, err := c.Get(ctx, "counter", opts...)
				if err != nil {
					errs <- err
					return
				}
				// On a single member a serializable read is also current.
				if resp.Header.Revision < before || (len(resp.Kvs) > 0 && resp.Kvs[0].ModRevision < before) {
					errs <- fmt.Errorf("read at rev %d misses write acknowledged at %d", resp.Header.Revision, before)
					return
				}
			}
		}()
	}
	time.AfterFunc(3*time.Second, func() { close(stop) })
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestRestartKeepsDataAndTruncatesLog writes past several log truncations
// (--snapshot-count 50), restarts on the same data dir and reads it all back.
func TestRestartKeepsDataAndTruncatesLog(t *testing.T) {
	dir := t.TempDir()
	small := func(c *config.Config) { c.SnapshotCount = 50 }
	m := testutil.StartMember(t, testutil.WithDataDir(dir), small)
	c := m.Client(t)
	ctx := ctxT(t)
	for i := 0; i < 300; i++ {
		if _, err := c.Put(ctx, fmt.Sprintf("k%03d", i), strings.Repeat("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Delete(ctx, "k000"); err != nil {
		t.Fatal(err)
	}
	before, err := c.Get(ctx, "k", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := m.Server.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := testutil.StartMember(t, testutil.WithDataDir(dir), small)
	after, err := m2.Client(t).Get(ctx, "k", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if after.Header.Revision != before.Header.Revision || after.Count != 299 || len(after.Kvs) != 299 {
		t.Fatalf("after restart: rev %d count %d, before rev %d", after.Header.Revision, after.Count, before.Header.Revision)
	}
	for i := range before.Kvs {
		b, a := before.Kvs[i], after.Kvs[i]
		if string(a.Key) != string(b.Key) || string(a.Value) != string(b.Value) || a.ModRevision != b.ModRevision || a.Version != b.Version {
			t.Fatalf("kv %d differs after restart: %v vs %v", i, a, b)
		}
	}
	st, err := m2.Client(t).Status(ctx, m2.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if st.RaftTerm < 3 {
		t.Fatalf("term %d after restart, want a new term", st.RaftTerm)
	}
}

// TestRawStatusHeader checks the Status header with a raw gRPC client.
func TestRawStatusHeader(t *testing.T) {
	m := testutil.StartMember(t)
	conn, err := grpc.NewClient(m.Endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st, err := pb.NewMaintenanceClient(conn).Status(ctxT(t), &pb.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Header.Revision != 1 || st.DowngradeInfo == nil {
		t.Fatalf("status: %v", st)
	}
	al, err := pb.NewMaintenanceClient(conn).Alarm(ctxT(t), &pb.AlarmRequest{Action: pb.AlarmRequest_GET})
	if err != nil || len(al.Alarms) != 0 {
		t.Fatalf("alarms: %v %v", al, err)
	}
}

func TestPprofOnlyWhenEnabled(t *testing.T) {
	off := testutil.StartMember(t)
	on := testutil.StartMember(t, func(c *config.Config) { c.EnablePprof = true })
	for _, tc := range []struct {
		m    *testutil.Member
		code int
	}{{off, 404}, {on, 200}} {
		resp, err := http.Get(tc.m.ClientURL + "/debug/pprof/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Fatalf("/debug/pprof/ = %d, want %d", resp.StatusCode, tc.code)
		}
	}
}
