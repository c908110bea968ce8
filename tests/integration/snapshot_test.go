package integration

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/backup"
	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/snapshot"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// snapshotState is what a member holds that a snapshot must carry.
type snapshotState struct {
	rev      int64
	kvs      []*mvccpb.KeyValue
	leaseID  clientv3.LeaseID
	compact  int64
	leaseKey string
}

// fillForSnapshot writes history worth snapshotting: overwrites, a delete,
// a compaction, a lease with a key, and a user with a role.
func fillForSnapshot(t *testing.T, cli *clientv3.Client) snapshotState {
	t.Helper()
	ctx := context.Background()
	var st snapshotState
	for i := range 20 {
		if _, err := cli.Put(ctx, fmt.Sprintf("key/%02d", i%7), fmt.Sprintf("v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := cli.Delete(ctx, "key/03")
	if err != nil {
		t.Fatal(err)
	}
	st.compact = resp.Header.Revision
	if _, err := cli.Compact(ctx, st.compact); err != nil {
		t.Fatal(err)
	}
	lease, err := cli.Grant(ctx, 600)
	if err != nil {
		t.Fatal(err)
	}
	st.leaseID, st.leaseKey = lease.ID, "leased"
	if _, err := cli.Put(ctx, st.leaseKey, "x", clientv3.WithLease(lease.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "key/01", "after-compaction"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.RoleAdd(ctx, "reader"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UserAdd(ctx, "alice", "secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UserGrantRole(ctx, "alice", "reader"); err != nil {
		t.Fatal(err)
	}
	get, err := cli.Get(ctx, "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	st.rev, st.kvs = get.Header.Revision, get.Kvs
	return st
}

// saveSnapshot streams a snapshot from the member into a file, checking the
// stream as etcd sends it: 32 KiB blobs counting down the remaining database
// bytes, then the sha256 of the database alone.
func saveSnapshot(t *testing.T, m *testutil.Member) string {
	t.Helper()
	cli := m.Client(t)
	stream, err := pb.NewMaintenanceClient(cli.ActiveConnection()).Snapshot(context.Background(), &pb.SnapshotRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var db []byte
	var sum []byte
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if resp.Version != "3.6.0" {
			t.Fatalf("version %q, want 3.6.0", resp.Version)
		}
		if sum != nil {
			t.Fatalf("message after the checksum")
		}
		if resp.RemainingBytes == 0 && len(resp.Blob) == sha256.Size && len(db)%512 == 0 {
			sum = resp.Blob
			continue
		}
		if len(resp.Blob) > 32*1024 {
			t.Fatalf("blob of %d bytes", len(resp.Blob))
		}
		db = append(db, resp.Blob...)
		_ = resp.RemainingBytes
	}
	if want := sha256.Sum256(db); string(sum) != string(want[:]) {
		t.Fatalf("checksum %x, want %x", sum, want)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, append(db, sum...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// restoreInto restores file into cfg's data dir, as member cfg.Name of the
// cluster cfg describes.
func restoreInto(t *testing.T, path string, cfg *config.Config) {
	t.Helper()
	f, err := snapshot.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = backup.Restore(context.Background(), backup.RestoreConfig{
		DataDir:             cfg.DataDir,
		Name:                cfg.Name,
		InitialCluster:      cfg.InitialCluster,
		InitialClusterToken: cfg.InitialClusterToken,
	}, f)
	if err != nil {
		t.Fatal(err)
	}
}

// restoreMember restores file into a new data dir for a default member.
func restoreMember(t *testing.T, path string, bump int64) string {
	t.Helper()
	f, err := snapshot.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := filepath.Join(t.TempDir(), "restored.etcd")
	err = backup.Restore(context.Background(), backup.RestoreConfig{
		DataDir:             dir,
		Name:                "default",
		InitialCluster:      map[string][]url.URL{"default": {{Scheme: "http", Host: "localhost:2380"}}},
		InitialClusterToken: "etcd-cluster",
		BumpRevision:        bump,
		MarkCompacted:       bump > 0,
	}, f)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSnapshotSaveAndRestore(t *testing.T) {
	src := testutil.StartMember(t)
	want := fillForSnapshot(t, src.Client(t))
	path := saveSnapshot(t, src)

	dst := testutil.StartMember(t, testutil.WithDataDir(restoreMember(t, path, 0)))
	cli := dst.Client(t)
	ctx := context.Background()
	got, err := cli.Get(ctx, "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Revision != want.rev {
		t.Fatalf("restored revision %d, want %d", got.Header.Revision, want.rev)
	}
	assertSameKVs(t, got.Kvs, want.kvs)
	if _, err := cli.Get(ctx, "key/01", clientv3.WithRev(want.compact-1)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("read below the compaction: %v, want %v", err, rpctypes.ErrCompacted)
	}
	old, err := cli.Get(ctx, "key/01", clientv3.WithRev(want.compact))
	if err != nil || len(old.Kvs) != 1 || string(old.Kvs[0].Value) == "after-compaction" {
		t.Fatalf("history at the compaction revision: %v %v", old, err)
	}
	ttl, err := cli.TimeToLive(ctx, want.leaseID, clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatal(err)
	}
	if ttl.TTL <= 0 || len(ttl.Keys) != 1 || string(ttl.Keys[0]) != want.leaseKey {
		t.Fatalf("lease after restore: ttl %d keys %q", ttl.TTL, ttl.Keys)
	}
	user, err := cli.UserGet(ctx, "alice")
	if err != nil || len(user.Roles) != 1 || user.Roles[0] != "reader" {
		t.Fatalf("user after restore: %v %v", user, err)
	}
	put, err := cli.Put(ctx, "new", "v")
	if err != nil {
		t.Fatal(err)
	}
	if put.Header.Revision != want.rev+1 {
		t.Fatalf("first write after restore at revision %d, want %d", put.Header.Revision, want.rev+1)
	}
	members, err := cli.MemberList(ctx)
	if err != nil || len(members.Members) != 1 || members.Members[0].Name != "default" {
		t.Fatalf("members after restore: %v %v", members, err)
	}
}

// TestSnapshotRestoreCluster restores one file into every member of a new
// three-member cluster, which then serves the same data and replicates.
func TestSnapshotRestoreCluster(t *testing.T) {
	src := testutil.StartMember(t)
	want := fillForSnapshot(t, src.Client(t))
	path := saveSnapshot(t, src)

	cfgs := testutil.ClusterConfigs(t, 3)
	for _, cfg := range cfgs {
		restoreInto(t, path, cfg)
	}
	c := testutil.StartConfigured(t, cfgs)
	ctx := context.Background()
	put, err := c.Client(t).Put(ctx, "after-restore", "v")
	if err != nil {
		t.Fatal(err)
	}
	if put.Header.Revision != want.rev+1 {
		t.Fatalf("first write at revision %d, want %d", put.Header.Revision, want.rev+1)
	}
	for _, m := range c.Members {
		got, err := m.Client(t).Get(ctx, "", clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Kvs) != len(want.kvs)+1 {
			t.Fatalf("member %s holds %d keys, want %d", m.Config.Name, len(got.Kvs), len(want.kvs)+1)
		}
		got.Kvs = slices.DeleteFunc(got.Kvs, func(kv *mvccpb.KeyValue) bool { return string(kv.Key) == "after-restore" })
		assertSameKVs(t, got.Kvs, want.kvs)
		members, err := m.Client(t).MemberList(ctx)
		if err != nil || len(members.Members) != 3 {
			t.Fatalf("members: %v %v", members, err)
		}
	}
}

func TestSnapshotRestoreBumpsRevision(t *testing.T) {
	src := testutil.StartMember(t)
	want := fillForSnapshot(t, src.Client(t))
	path := saveSnapshot(t, src)

	dst := testutil.StartMember(t, testutil.WithDataDir(restoreMember(t, path, 1000)))
	cli := dst.Client(t)
	ctx := context.Background()
	got, err := cli.Get(ctx, "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Revision != want.rev+1000 {
		t.Fatalf("revision %d, want %d", got.Header.Revision, want.rev+1000)
	}
	assertSameKVs(t, got.Kvs, want.kvs)
	if _, err := cli.Get(ctx, "key/01", clientv3.WithRev(want.rev)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("read of a pre-restore revision: %v, want %v", err, rpctypes.ErrCompacted)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	wresp := <-cli.Watch(wctx, "key/", clientv3.WithPrefix(), clientv3.WithRev(want.rev))
	if wresp.CompactRevision != want.rev+1000 {
		t.Fatalf("watch from before the restore: compact revision %d, want %d (err %v)", wresp.CompactRevision, want.rev+1000, wresp.Err())
	}
}

// TestSnapshotRestoreEtcdFiles restores files saved from etcd itself and
// serves what they hold. Some have auth enabled with passwords unknown
// here, so the test reads as root by certificate.
func TestSnapshotRestoreEtcdFiles(t *testing.T) {
	files, err := filepath.Glob("../../internal/snapshot/testdata/etcd-*.snap")
	if err != nil || len(files) == 0 {
		t.Fatalf("no etcd snapshot files: %v", err)
	}
	ca := testutil.NewCA(t, "cairn")
	serverCert, serverKey := ca.Issue("server")
	rootCert, rootKey := ca.Issue("root")
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, rev := latestInFile(t, path)
			u := url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}
			m := testutil.StartMember(t, testutil.WithDataDir(restoreMember(t, path, 0)), func(c *config.Config) {
				c.ListenClientURLs, c.AdvertiseClientURLs = []url.URL{u}, []url.URL{u}
				c.CertFile, c.KeyFile, c.TrustedCAFile, c.ClientCertAuth = serverCert, serverKey, ca.CertFile, true
			})
			cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.Endpoint}, TLS: ca.ClientTLS(rootCert, rootKey), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			got, err := cli.Get(context.Background(), "", clientv3.WithFromKey())
			if err != nil {
				t.Fatal(err)
			}
			if got.Header.Revision != rev {
				t.Fatalf("revision %d, want %d", got.Header.Revision, rev)
			}
			assertSameKVs(t, got.Kvs, want)
		})
	}
}

// latestInFile reads the live key-values and the newest revision of a
// snapshot file.
func latestInFile(t *testing.T, path string) ([]*mvccpb.KeyValue, int64) {
	t.Helper()
	f, err := snapshot.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	latest := map[string]*mvccpb.KeyValue{}
	var rev int64
	err = f.Versions(func(v snapshot.Version) error {
		rev = max(rev, v.Main)
		if v.Tombstone {
			delete(latest, string(v.KV.Key))
		} else {
			latest[string(v.KV.Key)] = v.KV
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var kvs []*mvccpb.KeyValue
	for _, k := range sortedKeys(latest) {
		kvs = append(kvs, latest[k])
	}
	return kvs, rev
}

func assertSameKVs(t *testing.T, got, want []*mvccpb.KeyValue) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d keys, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if string(g.Key) != string(w.Key) || string(g.Value) != string(w.Value) || g.CreateRevision != w.CreateRevision ||
			g.ModRevision != w.ModRevision || g.Version != w.Version || g.Lease != w.Lease {
			t.Fatalf("key %d: got %v, want %v", i, g, w)
		}
	}
}

func TestSnapshotNeedsRoot(t *testing.T) {
	m := testutil.StartMember(t)
	cli := m.Client(t)
	ctx := context.Background()
	for _, step := range []func() error{
		func() error { _, err := cli.RoleAdd(ctx, "root"); return err },
		func() error { _, err := cli.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.UserAdd(ctx, "bob", "bobpw"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	bob, err := clientv3.New(clientv3.Config{Endpoints: []string{m.Endpoint}, Username: "bob", Password: "bobpw", DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	rc, err := bob.Snapshot(ctx)
	if err == nil {
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
	}
	if !errors.Is(rpctypes.Error(err), rpctypes.ErrPermissionDenied) {
		t.Fatalf("snapshot as a non-root user: %v, want %v", err, rpctypes.ErrPermissionDenied)
	}
	root, err := clientv3.New(clientv3.Config{Endpoints: []string{m.Endpoint}, Username: "root", Password: "rootpw", DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	rc, err = root.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || n < 512 {
		t.Fatalf("snapshot as root: %d bytes, %v", n, err)
	}
}
