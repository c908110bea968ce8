package integration

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/backup"
	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/ctl"
	"github.com/cairn-kv/cairn/internal/snapshot"
	"github.com/cairn-kv/cairn/internal/testutil"
	"github.com/cairn-kv/cairn/internal/utl"
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
	if _, err := cli.RoleGrantPermission(ctx, "reader", "key/", "key0", clientv3.PermissionType(clientv3.PermRead)); err != nil {
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

// hashKV asks m for its HashKV at rev.
func hashKV(t *testing.T, m *testutil.Member, rev int64) *clientv3.HashKVResponse {
	t.Helper()
	resp, err := m.Client(t).HashKV(context.Background(), m.Endpoint, rev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
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
	srcHash := hashKV(t, src, 0)

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
	// The member, the file (hashed as etcd hashes its database: what etcd
	// would answer after restoring it) and the restored member agree.
	f, err := snapshot.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	fileHash, err := f.HashKV(0)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if dstHash := hashKV(t, dst, want.rev); srcHash.Hash != fileHash.Hash || dstHash.Hash != srcHash.Hash ||
		srcHash.CompactRevision != want.compact || dstHash.CompactRevision != want.compact || fileHash.CompactRevision != want.compact {
		t.Fatalf("HashKV: member %d (compacted at %d), file %d (%d), restored member %d (%d); compaction at %d",
			srcHash.Hash, srcHash.CompactRevision, fileHash.Hash, fileHash.CompactRevision, dstHash.Hash, dstHash.CompactRevision, want.compact)
	}
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
	role, err := cli.RoleGet(ctx, "reader")
	if err != nil || len(role.Perm) != 1 || string(role.Perm[0].Key) != "key/" || string(role.Perm[0].RangeEnd) != "key0" || role.Perm[0].PermType != authpb.READ {
		t.Fatalf("role after restore: %v %v", role, err)
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
	path := filepath.Join(t.TempDir(), "auth.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(f, rc)
	rc.Close()
	f.Close()
	if err != nil || n < 512 {
		t.Fatalf("snapshot as root: %d bytes, %v", n, err)
	}

	// Restored, the member keeps auth enabled with the same users.
	dst := testutil.StartMember(t, testutil.WithDataDir(restoreMember(t, path, 0)))
	if _, err := dst.Client(t).Get(ctx, "k"); !errors.Is(err, rpctypes.ErrUserEmpty) {
		t.Fatalf("get without a user after restore: %v, want %v", err, rpctypes.ErrUserEmpty)
	}
	for _, u := range [][2]string{{"root", "rootpw"}, {"bob", "bobpw"}} {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{dst.Endpoint}, Username: u[0], Password: u[1], DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		// Any user may read its own record; it needs a valid login.
		_, err = cli.UserGet(ctx, u[0])
		cli.Close()
		if err != nil {
			t.Fatalf("%s after restore: %v", u[0], err)
		}
	}
}

// etcdSnapshot is a snapshot file laid out as etcd writes one, built here
// with bbolt: bucket names, revision keys, value encodings and the sha256
// trailer are etcd's.
type etcdSnapshot struct {
	path    string
	lastRev int64 // newest revision in the key bucket
	compact int64
	leaseID int64
}

// revKey is etcd's key bucket key: 8-byte main revision, '_', 8-byte sub
// revision, and 't' for a deletion.
func revKey(main, sub int64, tombstone bool) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(main))
	k = append(k, '_')
	k = binary.BigEndian.AppendUint64(k, uint64(sub))
	if tombstone {
		k = append(k, 't')
	}
	return k
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildEtcdSnapshot writes history at revisions 2..7 (a put twice, b
// with a lease, c put then deleted, d in a txn of two puts), compacted at
// 3; a lease; members; root and reader users with auth enabled.
func buildEtcdSnapshot(t *testing.T) etcdSnapshot {
	t.Helper()
	snap := etcdSnapshot{path: filepath.Join(t.TempDir(), "etcd.db"), lastRev: 7, compact: 3, leaseID: 0x4d2}
	db, err := bolt.Open(snap.path, 0o600, &bolt.Options{NoSync: true, PageSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	rootHash, err := bcrypt.GenerateFromPassword([]byte("rootpw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	type version struct {
		main, sub int64
		kv        *mvccpb.KeyValue
		tombstone bool
	}
	kv := func(k, v string, create, mod, ver, lease int64) *mvccpb.KeyValue {
		return &mvccpb.KeyValue{Key: []byte(k), Value: []byte(v), CreateRevision: create, ModRevision: mod, Version: ver, Lease: lease}
	}
	versions := []version{
		{2, 0, kv("a", "1", 2, 2, 1, 0), false},
		{3, 0, kv("b", "leased", 3, 3, 1, snap.leaseID), false},
		{4, 0, kv("a", "2", 2, 4, 2, 0), false},
		{5, 0, kv("c", "gone", 5, 5, 1, 0), false},
		{6, 0, &mvccpb.KeyValue{Key: []byte("c")}, true},
		{7, 0, kv("d/1", "x", 7, 7, 1, 0), false},
		{7, 1, kv("d/2", "y", 7, 7, 1, 0), false},
	}
	confState, _ := json.Marshal(map[string]any{"voters": []uint64{0x8e9e05c52164694d}, "auto_leave": false})
	err = db.Update(func(tx *bolt.Tx) error {
		bucket := func(name string) *bolt.Bucket {
			b, err := tx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		put := func(b *bolt.Bucket, k, v []byte) {
			if err := b.Put(k, v); err != nil {
				t.Fatal(err)
			}
		}
		keys := bucket("key")
		for _, v := range versions {
			put(keys, revKey(v.main, v.sub, v.tombstone), mustMarshal(t, v.kv))
		}
		meta := bucket("meta")
		put(meta, []byte("consistent_index"), binary.BigEndian.AppendUint64(nil, 42))
		put(meta, []byte("term"), binary.BigEndian.AppendUint64(nil, 3))
		put(meta, []byte("scheduledCompactRev"), revKey(snap.compact, 0, false))
		put(meta, []byte("finishedCompactRev"), revKey(snap.compact, 0, false))
		put(meta, []byte("confState"), confState)
		put(meta, []byte("storageVersion"), []byte("3.6.0"))
		// leasepb.Lease{ID: 1, TTL: 2}: varint fields.
		var lease []byte
		lease = protowire.AppendTag(lease, 1, protowire.VarintType)
		lease = protowire.AppendVarint(lease, uint64(snap.leaseID))
		lease = protowire.AppendTag(lease, 2, protowire.VarintType)
		lease = protowire.AppendVarint(lease, 600)
		put(bucket("lease"), binary.BigEndian.AppendUint64(nil, uint64(snap.leaseID)), lease)
		bucket("alarm")
		put(bucket("cluster"), []byte("clusterVersion"), []byte("3.6.0"))
		members := bucket("members")
		put(members, []byte("8e9e05c52164694d"), []byte(`{"id":10276657743932975437,"peerURLs":["http://localhost:2380"],"name":"default","clientURLs":["http://localhost:2379"]}`))
		put(members, []byte("a1b2c3"), []byte(`{"id":10597059,"peerURLs":["http://10.0.0.2:2380"],"name":"other","clientURLs":["http://10.0.0.2:2379"]}`))
		bucket("members_removed")
		auth := bucket("auth")
		put(auth, []byte("authEnabled"), []byte{1})
		put(auth, []byte("authRevision"), binary.BigEndian.AppendUint64(nil, 5))
		users := bucket("authUsers")
		put(users, []byte("root"), mustMarshal(t, &authpb.User{Name: []byte("root"), Password: rootHash, Roles: []string{"root"}}))
		put(users, []byte("reader"), mustMarshal(t, &authpb.User{Name: []byte("reader"), Roles: []string{"readonly"}, Options: &authpb.UserAddOptions{NoPassword: true}}))
		put(bucket("authRoles"), []byte("readonly"), mustMarshal(t, &authpb.Role{Name: []byte("readonly"),
			KeyPermission: []*authpb.Permission{{PermType: authpb.READ, Key: []byte("d/"), RangeEnd: []byte("d0")}}}))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(snap.path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if err := os.WriteFile(snap.path, append(raw, sum[:]...), 0o600); err != nil {
		t.Fatal(err)
	}
	return snap
}

// etcdutl runs Cairn's etcdutl in-process.
func etcdutl(args ...string) (code int, stdout, stderr string) {
	var out, errOut strings.Builder
	code = utl.Main(utl.Options{Stdout: &out, Stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

// TestSnapshotRestoreFromEtcdLayout: a snapshot in etcd's bbolt layout
// restores with `etcdutl snapshot restore --bump-revision --mark-compacted`
// and the member serves its keys, history, lease, users and roles (auth
// stays enabled), with the membership given to the restore.
func TestSnapshotRestoreFromEtcdLayout(t *testing.T) {
	snap := buildEtcdSnapshot(t)
	code, out, _ := etcdutl("snapshot", "status", snap.path, "-w", "json")
	if code != 0 || !strings.Contains(out, `"revision":7,"totalKey":4,`) {
		t.Fatalf("snapshot status: %d %s", code, out)
	}
	dir := filepath.Join(t.TempDir(), "restored.etcd")
	const bump = 1000
	code, _, errOut := etcdutl("snapshot", "restore", snap.path, "--data-dir", dir, "--name", "default",
		"--initial-cluster", "default=http://localhost:2380", "--initial-advertise-peer-urls", "http://localhost:2380",
		"--initial-cluster-token", "etcd-cluster", "--bump-revision", fmt.Sprint(bump), "--mark-compacted")
	if code != 0 {
		t.Fatalf("restore: exit %d: %s", code, errOut)
	}
	// A second restore into the same directory is refused.
	code, _, errOut = etcdutl("snapshot", "restore", snap.path, "--data-dir", dir)
	if want := fmt.Sprintf("Error: data-dir %q not empty or could not be read\n", dir); code != 1 || !strings.HasSuffix(errOut, want) {
		t.Fatalf("restore into a restored dir: exit %d, stderr %q, want it to end %q", code, errOut, want)
	}

	m := testutil.StartMember(t, testutil.WithDataDir(dir))
	ctx := ctxT(t)
	anon := m.Client(t)
	if _, err := anon.Get(ctx, "a"); !errors.Is(err, rpctypes.ErrUserEmpty) {
		t.Fatalf("get without a user: %v, want %v (auth stays enabled)", err, rpctypes.ErrUserEmpty)
	}
	root, err := clientv3.New(clientv3.Config{Endpoints: []string{m.Endpoint}, Username: "root", Password: "rootpw", DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	got, err := root.Get(ctx, "", clientv3.WithFromKey())
	if err != nil {
		t.Fatal(err)
	}
	want := []*mvccpb.KeyValue{
		{Key: []byte("a"), Value: []byte("2"), CreateRevision: 2, ModRevision: 4, Version: 2},
		{Key: []byte("b"), Value: []byte("leased"), CreateRevision: 3, ModRevision: 3, Version: 1, Lease: snap.leaseID},
		{Key: []byte("d/1"), Value: []byte("x"), CreateRevision: 7, ModRevision: 7, Version: 1},
		{Key: []byte("d/2"), Value: []byte("y"), CreateRevision: 7, ModRevision: 7, Version: 1},
	}
	if got.Header.Revision != snap.lastRev+bump {
		t.Fatalf("revision %d, want %d", got.Header.Revision, snap.lastRev+bump)
	}
	assertSameKVs(t, got.Kvs, want)
	// --mark-compacted: everything before the bumped revision is compacted.
	if _, err := root.Get(ctx, "a", clientv3.WithRev(snap.lastRev+bump-1)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("read below the bumped revision: %v, want %v", err, rpctypes.ErrCompacted)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	wresp := <-root.Watch(wctx, "a", clientv3.WithRev(5))
	if wresp.CompactRevision != snap.lastRev+bump {
		t.Fatalf("watch from revision 5: compact revision %d, want %d (err %v)", wresp.CompactRevision, snap.lastRev+bump, wresp.Err())
	}
	ttl, err := root.TimeToLive(ctx, clientv3.LeaseID(snap.leaseID), clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatal(err)
	}
	if ttl.GrantedTTL != 600 || ttl.TTL <= 0 || len(ttl.Keys) != 1 || string(ttl.Keys[0]) != "b" {
		t.Fatalf("lease after restore: %+v", ttl)
	}
	role, err := root.RoleGet(ctx, "readonly")
	if err != nil || len(role.Perm) != 1 || string(role.Perm[0].Key) != "d/" || string(role.Perm[0].RangeEnd) != "d0" {
		t.Fatalf("role after restore: %v %v", role, err)
	}
	users, err := root.UserList(ctx)
	if err != nil || !slices.Equal(users.Users, []string{"reader", "root"}) {
		t.Fatalf("users after restore: %v %v", users, err)
	}
	members, err := root.MemberList(ctx)
	if err != nil || len(members.Members) != 1 || members.Members[0].Name != "default" || members.Members[0].ID != 0x8e9e05c52164694d {
		t.Fatalf("members after restore: %v %v", members, err)
	}
	put, err := root.Put(ctx, "after", "restore")
	if err != nil || put.Header.Revision != snap.lastRev+bump+1 {
		t.Fatalf("first write after restore: %v %v", put, err)
	}
}

// TestSnapshotRestoreRefusesDamagedFiles: a truncated file, a file whose
// database no longer matches its hash, and a file with no hash at all are
// refused with a clear error, and nothing is left in the data dir.
func TestSnapshotRestoreRefusesDamagedFiles(t *testing.T) {
	snap := buildEtcdSnapshot(t)
	raw, err := os.ReadFile(snap.path)
	if err != nil {
		t.Fatal(err)
	}
	db := raw[:len(raw)-sha256.Size]
	// A changed value leaves a sound database that fails its hash; a
	// damaged page header is corrupt even when the hash is not checked.
	changed := slices.Clone(raw)
	i := strings.Index(string(db), "leased")
	if i < 0 {
		t.Fatal("value not found in the database")
	}
	changed[i] = 'L'
	damaged := slices.Clone(raw)
	binary.LittleEndian.PutUint64(damaged[4*4096:], 251)
	// statusFails: etcdutl snapshot status checks no hash, but cannot read
	// a truncated database.
	cases := []struct {
		name        string
		data        []byte
		flags       []string
		want        string
		statusFails bool
	}{
		{"truncated", raw[:len(raw)/2], nil, "Error: snapshot missing hash but --skip-hash-check=false", true},
		{"truncated, hash check skipped", raw[:len(raw)/2], []string{"--skip-hash-check"}, "Error: snapshot file is truncated", true},
		{"truncated to a page boundary with a hash", append(slices.Clone(db[:len(db)/2]), raw[len(db):]...), nil, "Error: expected sha256", true},
		{"changed value", changed, nil, "Error: expected sha256", false},
		{"damaged page, hash check skipped", damaged, []string{"--skip-hash-check"}, "Error: snapshot file is corrupt: page 4", true},
		{"no hash", db, nil, "Error: snapshot missing hash but --skip-hash-check=false", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.db")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			code, _, errOut := etcdutl(append([]string{"snapshot", "restore", path, "--data-dir", dir}, tc.flags...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("restore: exit %d, stderr %q, want %q", code, errOut, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "member")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused restore left a member: %v", err)
			}
			if code, out, errOut := etcdutl("snapshot", "status", path); (code != 0) != tc.statusFails {
				t.Fatalf("status: exit %d, %s%s", code, out, errOut)
			}
		})
	}
}

// etcdctl runs Cairn's etcdctl in-process.
func etcdctl(args ...string) (code int, stdout, stderr string) {
	var out, errOut strings.Builder
	code = ctl.Main(ctl.Options{Stdout: &out, Stderr: &errOut, Environ: []string{}}, args)
	return code, out.String(), errOut.String()
}

// TestEtcdctlSnapshotSaveStatusRestore: `etcdctl snapshot save` writes the
// file and logs its progress as etcdctl does; the deprecated `etcdctl
// snapshot status` and `restore` still work, with etcdctl's warning.
func TestEtcdctlSnapshotSaveStatusRestore(t *testing.T) {
	src := testutil.StartMember(t)
	want := fillForSnapshot(t, src.Client(t))
	path := filepath.Join(t.TempDir(), "backup.db")
	code, out, errOut := etcdctl("--endpoints", src.Endpoint, "snapshot", "save", path)
	if code != 0 || out != fmt.Sprintf("Snapshot saved at %s\nServer version 3.6.0\n", path) {
		t.Fatalf("snapshot save: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	for _, line := range []string{`"msg":"created temporary db file","path":"` + path + `.part"`,
		`"msg":"fetching snapshot","endpoint":"` + src.Endpoint + `"`,
		`"msg":"fetched snapshot","endpoint":"` + src.Endpoint + `","size":"`, `"took":"now","etcd-version":"3.6.0"`,
		`"msg":"saved","path":"` + path + `"`} {
		if !strings.Contains(errOut, line) {
			t.Errorf("snapshot save log lacks %s:\n%s", line, errOut)
		}
	}
	if _, err := os.Stat(path + ".part"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the .part file remains: %v", err)
	}

	code, out, errOut = etcdctl("snapshot", "status", path, "-w", "json")
	if code != 0 || !strings.HasPrefix(errOut, "Deprecated: Use `etcdutl snapshot status` instead.\n") ||
		!strings.Contains(out, fmt.Sprintf(`"revision":%d,"totalKey":%d,`, want.rev, len(want.kvs))) {
		t.Fatalf("snapshot status: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	dir := filepath.Join(t.TempDir(), "restored.etcd")
	code, _, errOut = etcdctl("--command-timeout=5s", "snapshot", "restore", path, "--data-dir", dir, "--name", "default", "--bump-revision", "0")
	if code != 0 || !strings.HasPrefix(errOut, "Deprecated: Use `etcdutl snapshot restore` instead.\n") {
		t.Fatalf("snapshot restore: exit %d, stderr %q", code, errOut)
	}
	dst := testutil.StartMember(t, testutil.WithDataDir(dir))
	got, err := dst.Client(t).Get(ctxT(t), "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Revision != want.rev {
		t.Fatalf("restored revision %d, want %d", got.Header.Revision, want.rev)
	}
	assertSameKVs(t, got.Kvs, want.kvs)
}

// TestSnapshotInEtcdLayout opens a snapshot streamed by Cairn with bbolt
// and reads it as etcd would: the file passes bbolt's check and holds the
// member's keys, history marks, lease, member, users and roles in etcd's
// buckets and encodings, so etcd can restore it.
func TestSnapshotInEtcdLayout(t *testing.T) {
	src := testutil.StartMember(t)
	want := fillForSnapshot(t, src.Client(t))
	path := saveSnapshot(t, src)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(dbPath, raw[:len(raw)-sha256.Size], 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(dbPath, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		for _, name := range []string{"key", "meta", "lease", "alarm", "cluster", "members", "members_removed", "auth", "authUsers", "authRoles"} {
			if tx.Bucket([]byte(name)) == nil {
				t.Errorf("bucket %s missing", name)
			}
		}
		// Replaying the key bucket in revision order gives the live keys.
		latest := map[string]*mvccpb.KeyValue{}
		var lastRev int64
		err := tx.Bucket([]byte("key")).ForEach(func(k, v []byte) error {
			if len(k) != 17 && !(len(k) == 18 && k[17] == 't') || k[8] != '_' {
				t.Fatalf("revision key %x", k)
			}
			lastRev = int64(binary.BigEndian.Uint64(k))
			kv := &mvccpb.KeyValue{}
			if err := proto.Unmarshal(v, kv); err != nil {
				return err
			}
			if len(k) == 18 {
				delete(latest, string(kv.Key))
			} else {
				latest[string(kv.Key)] = kv
			}
			return nil
		})
		if err != nil {
			return err
		}
		if lastRev != want.rev {
			t.Errorf("last revision %d, want %d", lastRev, want.rev)
		}
		var got []*mvccpb.KeyValue
		for _, k := range sortedKeys(latest) {
			got = append(got, latest[k])
		}
		assertSameKVs(t, got, want.kvs)

		meta := tx.Bucket([]byte("meta"))
		if ci := meta.Get([]byte("consistent_index")); len(ci) != 8 || binary.BigEndian.Uint64(ci) == 0 {
			t.Errorf("consistent_index %x", ci)
		}
		if term := meta.Get([]byte("term")); len(term) != 8 || binary.BigEndian.Uint64(term) == 0 {
			t.Errorf("term %x", term)
		}
		for _, mark := range []string{"scheduledCompactRev", "finishedCompactRev"} {
			if v := meta.Get([]byte(mark)); len(v) < 8 || int64(binary.BigEndian.Uint64(v)) != want.compact {
				t.Errorf("%s %x, want revision %d", mark, v, want.compact)
			}
		}
		if v := string(tx.Bucket([]byte("cluster")).Get([]byte("clusterVersion"))); v != "3.6.0" {
			t.Errorf("clusterVersion %q", v)
		}

		lease := tx.Bucket([]byte("lease")).Get(binary.BigEndian.AppendUint64(nil, uint64(want.leaseID)))
		var id, ttl int64
		for b := lease; len(b) > 0; {
			num, typ, n := protowire.ConsumeTag(b)
			if n < 0 || typ != protowire.VarintType {
				t.Fatalf("lease %x", lease)
			}
			v, m := protowire.ConsumeVarint(b[n:])
			b = b[n+m:]
			switch num {
			case 1:
				id = int64(v)
			case 2:
				ttl = int64(v)
			}
		}
		if id != int64(want.leaseID) || ttl != 600 {
			t.Errorf("lease %x: ID %x TTL %d", lease, id, ttl)
		}

		var member struct {
			ID       uint64   `json:"id"`
			Name     string   `json:"name"`
			PeerURLs []string `json:"peerURLs"`
		}
		if err := json.Unmarshal(tx.Bucket([]byte("members")).Get([]byte("8e9e05c52164694d")), &member); err != nil ||
			member.Name != "default" || member.ID != 0x8e9e05c52164694d || len(member.PeerURLs) != 1 {
			t.Errorf("member: %+v %v", member, err)
		}

		user := &authpb.User{}
		if err := proto.Unmarshal(tx.Bucket([]byte("authUsers")).Get([]byte("alice")), user); err != nil ||
			!slices.Equal(user.Roles, []string{"reader"}) || bcrypt.CompareHashAndPassword(user.Password, []byte("secret")) != nil {
			t.Errorf("user alice: %v %v", user, err)
		}
		role := &authpb.Role{}
		if err := proto.Unmarshal(tx.Bucket([]byte("authRoles")).Get([]byte("reader")), role); err != nil ||
			len(role.KeyPermission) != 1 || string(role.KeyPermission[0].Key) != "key/" || string(role.KeyPermission[0].RangeEnd) != "key0" {
			t.Errorf("role reader: %v %v", role, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
