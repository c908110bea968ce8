package integration

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/ctl"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// cheapBcrypt hashes passwords at bcrypt's lowest cost, for tests about
// who may do what rather than about bcrypt: at the default cost each login
// takes most of a second under the race detector.
func cheapBcrypt(c *config.Config) { c.BcryptCost = 4 }

// matrixMember starts a member with setUpAuth's users plus bob, a user
// without roles, and returns clients for root, alice and bob.
func matrixMember(t *testing.T) (m *testutil.Member, root, alice, bob *clientv3.Client) {
	t.Helper()
	m = testutil.StartMember(t, cheapBcrypt)
	admin := m.Client(t)
	ctx := ctxT(t)
	if _, err := admin.UserAdd(ctx, "bob", "bobpw"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RoleAdd(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	setUpAuth(t, admin)
	var err error
	if root, err = userClient(t, m, "root", "rootpw"); err != nil {
		t.Fatal(err)
	}
	if alice, err = userClient(t, m, "alice", "alicepw"); err != nil {
		t.Fatal(err)
	}
	if bob, err = userClient(t, m, "bob", "bobpw"); err != nil {
		t.Fatal(err)
	}
	return m, root, alice, bob
}

// leaseWith grants a lease as root and attaches key to it.
func leaseWith(t *testing.T, root *clientv3.Client, key string) clientv3.LeaseID {
	t.Helper()
	ctx := ctxT(t)
	l, err := root.Grant(ctx, 3600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Put(ctx, key, "leased", clientv3.WithLease(l.ID)); err != nil {
		t.Fatal(err)
	}
	return l.ID
}

// watchErr opens a watch and returns nil once it is created, or the reason
// it was canceled.
func watchErr(ctx context.Context, c *clientv3.Client, key string, opts ...clientv3.OpOption) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, ok := <-c.Watch(ctx, key, append(opts, clientv3.WithCreatedNotify())...)
	switch {
	case !ok:
		return errors.New("watch channel closed")
	case resp.Canceled:
		return resp.Err()
	case resp.Created:
		return nil
	}
	return fmt.Errorf("unexpected first watch response %+v", resp)
}

// snapshotErr reads a whole snapshot and returns what stopped it.
func snapshotErr(ctx context.Context, c *clientv3.Client) error {
	rc, err := c.Snapshot(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// TestAuthRPCPermissionMatrix checks every RPC family against users with
// different grants: alice reads [/app/, /app0) and reads and writes
// /app/cfg; bob has no roles; root may do everything. Denials are etcd's
// "etcdserver: permission denied"; what root does is never denied.
func TestAuthRPCPermissionMatrix(t *testing.T) {
	m, root, alice, bob := matrixMember(t)
	ctx := ctxT(t)
	id := m.Server.MemberID()
	const allow, deny = true, false
	cases := []struct {
		name       string
		op         func(c *clientv3.Client) error
		alice, bob bool
	}{
		{"range key", func(c *clientv3.Client) error { _, err := c.Get(ctx, "/app/cfg"); return err }, allow, deny},
		{"range prefix", func(c *clientv3.Client) error { _, err := c.Get(ctx, "/app/", clientv3.WithPrefix()); return err }, allow, deny},
		{"range serializable", func(c *clientv3.Client) error {
			_, err := c.Get(ctx, "/app/other", clientv3.WithSerializable())
			return err
		}, allow, deny},
		{"range past the grant", func(c *clientv3.Client) error { _, err := c.Get(ctx, "/app/", clientv3.WithFromKey()); return err }, deny, deny},
		{"range other key", func(c *clientv3.Client) error { _, err := c.Get(ctx, "/secret"); return err }, deny, deny},
		{"put writable", func(c *clientv3.Client) error { _, err := c.Put(ctx, "/app/cfg", "v"); return err }, allow, deny},
		{"put with prev kv", func(c *clientv3.Client) error {
			_, err := c.Put(ctx, "/app/cfg", "v", clientv3.WithPrevKV())
			return err
		}, allow, deny},
		{"put read-only", func(c *clientv3.Client) error { _, err := c.Put(ctx, "/app/other", "v"); return err }, deny, deny},
		{"delete writable", func(c *clientv3.Client) error { _, err := c.Delete(ctx, "/app/cfg"); return err }, allow, deny},
		{"delete read-only prefix", func(c *clientv3.Client) error { _, err := c.Delete(ctx, "/app/", clientv3.WithPrefix()); return err }, deny, deny},
		{"txn compare readable, put writable", func(c *clientv3.Client) error {
			_, err := c.Txn(ctx).If(clientv3.Compare(clientv3.Value("/app/other"), "=", "v1")).
				Then(clientv3.OpPut("/app/cfg", "t")).Commit()
			return err
		}, allow, deny},
		{"txn compare on other key", func(c *clientv3.Client) error {
			_, err := c.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision("/secret"), ">", 0)).Commit()
			return err
		}, deny, deny},
		{"txn compare over a range", func(c *clientv3.Client) error {
			_, err := c.Txn(ctx).If(clientv3.Compare(clientv3.Version("/app/").WithPrefix(), ">", 0)).Commit()
			return err
		}, allow, deny},
		{"txn range in the branch not taken", func(c *clientv3.Client) error {
			_, err := c.Txn(ctx).Then(clientv3.OpGet("/app/cfg")).Else(clientv3.OpGet("/secret")).Commit()
			return err
		}, deny, deny},
		{"txn delete of a read-only key", func(c *clientv3.Client) error {
			_, err := c.Txn(ctx).Then(clientv3.OpDelete("/app/other")).Commit()
			return err
		}, deny, deny},
		{"nested txn writing a read-only key", func(c *clientv3.Client) error {
			_, err := c.Txn(ctx).Then(clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("/app/other", "x")}, nil)).Commit()
			return err
		}, deny, deny},
		{"watch key", func(c *clientv3.Client) error { return watchErr(ctx, c, "/app/cfg") }, allow, deny},
		{"watch prefix", func(c *clientv3.Client) error { return watchErr(ctx, c, "/app/", clientv3.WithPrefix()) }, allow, deny},
		{"watch other key", func(c *clientv3.Client) error { return watchErr(ctx, c, "/secret") }, deny, deny},
		{"watch everything", func(c *clientv3.Client) error { return watchErr(ctx, c, "", clientv3.WithFromKey()) }, deny, deny},
		{"lease revoke, writable key attached", func(c *clientv3.Client) error {
			_, err := c.Revoke(ctx, leaseWith(t, root, "/app/cfg"))
			return err
		}, allow, deny},
		{"lease revoke, read-only key attached", func(c *clientv3.Client) error {
			_, err := c.Revoke(ctx, leaseWith(t, root, "/app/other"))
			return err
		}, deny, deny},
		{"lease time-to-live, readable key attached", func(c *clientv3.Client) error {
			_, err := c.TimeToLive(ctx, leaseWith(t, root, "/app/other"), clientv3.WithAttachedKeys())
			return err
		}, allow, deny},
		{"lease time-to-live, other key attached", func(c *clientv3.Client) error {
			_, err := c.TimeToLive(ctx, leaseWith(t, root, "/secret"), clientv3.WithAttachedKeys())
			return err
		}, deny, deny},
		{"compact", func(c *clientv3.Client) error { _, err := c.Compact(ctx, 2); return err }, deny, deny},
		{"defragment", func(c *clientv3.Client) error { _, err := c.Defragment(ctx, m.Endpoint); return err }, deny, deny},
		{"hash", func(c *clientv3.Client) error {
			_, err := pb.NewMaintenanceClient(c.ActiveConnection()).Hash(ctx, &pb.HashRequest{})
			return rpctypes.Error(err)
		}, deny, deny},
		{"hash kv", func(c *clientv3.Client) error { _, err := c.HashKV(ctx, m.Endpoint, 0); return err }, deny, deny},
		{"snapshot", func(c *clientv3.Client) error { return snapshotErr(ctx, c) }, deny, deny},
		{"move leader", func(c *clientv3.Client) error { _, err := c.MoveLeader(ctx, id); return err }, deny, deny},
		{"alarm disarm", func(c *clientv3.Client) error {
			_, err := c.AlarmDisarm(ctx, &clientv3.AlarmMember{MemberID: id, Alarm: pb.AlarmType_NOSPACE})
			return err
		}, deny, deny},
		{"alarm list", func(c *clientv3.Client) error { _, err := c.AlarmList(ctx); return err }, allow, allow},
		{"status", func(c *clientv3.Client) error { _, err := c.Status(ctx, m.Endpoint); return err }, allow, allow},
		{"member list", func(c *clientv3.Client) error { _, err := c.MemberList(ctx); return err }, allow, allow},
		{"member add", func(c *clientv3.Client) error {
			_, err := c.MemberAddAsLearner(ctx, []string{"http://127.0.0.1:1"})
			return err
		}, deny, deny},
		{"member update", func(c *clientv3.Client) error {
			_, err := c.MemberUpdate(ctx, id, []string{m.Config.InitialAdvertisePeerURLs[0].String()})
			return err
		}, deny, deny},
		{"member promote", func(c *clientv3.Client) error { _, err := c.MemberPromote(ctx, id); return err }, deny, deny},
		{"member remove", func(c *clientv3.Client) error { _, err := c.MemberRemove(ctx, id+1); return err }, deny, deny},
		{"user list", func(c *clientv3.Client) error { _, err := c.UserList(ctx); return err }, deny, deny},
		{"user get self", func(c *clientv3.Client) error {
			// Each user asks about itself.
			name := map[*clientv3.Client]string{alice: "alice", bob: "bob", root: "root"}[c]
			_, err := c.UserGet(ctx, name)
			return err
		}, allow, allow},
		{"user get other", func(c *clientv3.Client) error { _, err := c.UserGet(ctx, "root"); return err }, deny, deny},
		{"role get, held", func(c *clientv3.Client) error { _, err := c.RoleGet(ctx, "reader"); return err }, allow, deny},
		{"role get, not held", func(c *clientv3.Client) error { _, err := c.RoleGet(ctx, "ops"); return err }, deny, deny},
		{"user add", func(c *clientv3.Client) error { _, err := c.UserAdd(ctx, "mallory", "x"); return err }, deny, deny},
		{"auth status", func(c *clientv3.Client) error { _, err := c.AuthStatus(ctx); return err }, deny, deny},
		// Last: as root it turns authentication off.
		{"auth disable", func(c *clientv3.Client) error { _, err := c.AuthDisable(ctx); return err }, deny, deny},
	}
	for _, c := range cases {
		for _, u := range []struct {
			name    string
			cli     *clientv3.Client
			allowed bool
		}{{"alice", alice, c.alice}, {"bob", bob, c.bob}} {
			err := c.op(u.cli)
			switch {
			case u.allowed && err != nil:
				t.Errorf("%s as %s: %v, want allowed", c.name, u.name, err)
			case !u.allowed && !isPermissionDenied(err):
				t.Errorf("%s as %s: %v, want %v", c.name, u.name, err, rpctypes.ErrPermissionDenied)
			}
		}
		// Root is never refused; the member operations may still fail
		// for what they ask (promoting a voter, removing no member).
		if err := c.op(root); isPermissionDenied(err) || errors.Is(err, rpctypes.ErrUserEmpty) {
			t.Errorf("%s as root: %v", c.name, err)
		} else if err != nil && !strings.HasPrefix(c.name, "member ") && c.name != "move leader" {
			t.Errorf("%s as root: %v", c.name, err)
		}
	}
}

// isPermissionDenied reports whether err is etcd's permission denial,
// whether it came as a typed error or as a watch's cancel reason.
func isPermissionDenied(err error) bool {
	return err != nil && (errors.Is(err, rpctypes.ErrPermissionDenied) || err.Error() == rpctypes.ErrPermissionDenied.Error())
}

// rawConn is a gRPC connection without clientv3's token handling, so
// tests choose what token each call carries.
func rawConn(t *testing.T, m *testutil.Member) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(m.Endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, token)
}

// TestAuthTokenErrors: no credentials, an unknown token and a stale one get
// etcd's errors and codes.
func TestAuthTokenErrors(t *testing.T) {
	m := testutil.StartMember(t, cheapBcrypt)
	setUpAuth(t, m.Client(t))
	ctx := ctxT(t)
	conn := rawConn(t, m)
	kv, au := pb.NewKVClient(conn), pb.NewAuthClient(conn)
	get := func(ctx context.Context) error {
		_, err := kv.Range(ctx, &pb.RangeRequest{Key: []byte("/app/cfg")})
		return err
	}
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"no token", get(ctx), rpctypes.ErrGRPCUserEmpty},
		{"unknown token", get(withToken(ctx, "nosuchtoken.1")), rpctypes.ErrGRPCInvalidAuthToken},
		{"wrong password", second(au.Authenticate(ctx, &pb.AuthenticateRequest{Name: "alice", Password: "x"})), rpctypes.ErrGRPCAuthFailed},
		{"unknown user", second(au.Authenticate(ctx, &pb.AuthenticateRequest{Name: "nobody", Password: "x"})), rpctypes.ErrGRPCAuthFailed},
	}
	for _, c := range checks {
		if c.err == nil || c.err.Error() != c.want.Error() {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	resp, err := au.Authenticate(ctx, &pb.AuthenticateRequest{Name: "alice", Password: "alicepw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := get(withToken(ctx, resp.Token)); err != nil {
		t.Fatalf("get with alice's token: %v", err)
	}
	if _, err := kv.Put(withToken(ctx, resp.Token), &pb.PutRequest{Key: []byte("/secret"), Value: []byte("x")}); err == nil ||
		err.Error() != rpctypes.ErrGRPCPermissionDenied.Error() {
		t.Fatalf("put outside alice's grant: %v", err)
	}
	// Deleting the user kills her tokens.
	root, err := userClient(t, m, "root", "rootpw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.UserDelete(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := get(withToken(ctx, resp.Token)); err == nil || err.Error() != rpctypes.ErrGRPCInvalidAuthToken.Error() {
		t.Fatalf("token of a deleted user: %v", err)
	}
}

// ctlRun runs our etcdctl in-process and returns its exit code, stdout and
// stderr.
func ctlRun(stdin string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := ctl.Main(ctl.Options{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr, Environ: []string{},
		Sleep: func(time.Duration) {}}, args)
	return code, stdout.String(), stderr.String()
}

// TestAuthEtcdctlPermissionMatrix is the permission matrix through etcdctl:
// allowed commands exit 0, denied ones exit 1 with etcd's error on stderr.
func TestAuthEtcdctlPermissionMatrix(t *testing.T) {
	m, root, _, _ := matrixMember(t)
	id := fmt.Sprintf("%x", m.Server.MemberID())
	snap := t.TempDir() + "/snap.db"
	leaseHex := func(key string) string { return fmt.Sprintf("%x", int64(leaseWith(t, root, key))) }
	cases := []struct {
		name       string
		args       func() []string
		stdin      string
		alice, bob bool
	}{
		{"get", fixed("get", "/app/cfg"), "", true, false},
		{"get prefix", fixed("get", "/app/", "--prefix", "--keys-only"), "", true, false},
		{"get from key", fixed("get", "/app/", "--from-key"), "", false, false},
		{"get other", fixed("get", "/secret"), "", false, false},
		{"put", fixed("put", "/app/cfg", "x"), "", true, false},
		{"put read-only", fixed("put", "/app/other", "x"), "", false, false},
		{"del", fixed("del", "/app/cfg"), "", true, false},
		{"del prefix", fixed("del", "/app/", "--prefix"), "", false, false},
		{"txn allowed", fixed("txn"), "value(\"/app/other\") = \"v1\"\n\nput /app/cfg t\n\n\n", true, false},
		{"txn compare denied", fixed("txn"), "value(\"/secret\") = \"s\"\n\nput /app/cfg t\n\n\n", false, false},
		{"txn else branch denied", fixed("txn"), "\nput /app/cfg t\n\nput /app/other t\n\n", false, false},
		{"lease grant", fixed("lease", "grant", "60"), "", true, true},
		{"lease revoke writable", func() []string { return []string{"lease", "revoke", leaseHex("/app/cfg")} }, "", true, false},
		{"lease revoke read-only", func() []string { return []string{"lease", "revoke", leaseHex("/app/other")} }, "", false, false},
		{"lease timetolive keys", func() []string { return []string{"lease", "timetolive", leaseHex("/app/other"), "--keys"} }, "", true, false},
		{"lease timetolive other keys", func() []string { return []string{"lease", "timetolive", leaseHex("/secret"), "--keys"} }, "", false, false},
		{"compaction", fixed("compaction", "2"), "", false, false},
		{"defrag", fixed("defrag"), "", false, false},
		{"snapshot save", fixed("snapshot", "save", snap), "", false, false},
		{"endpoint hashkv", fixed("endpoint", "hashkv"), "", false, false},
		{"endpoint status", fixed("endpoint", "status"), "", true, true},
		{"alarm list", fixed("alarm", "list"), "", true, true},
		// etcdctl disarms only the alarms it lists, and there are none.
		{"alarm disarm, nothing raised", fixed("alarm", "disarm"), "", true, true},
		{"member list", fixed("member", "list"), "", true, true},
		{"member add", fixed("member", "add", "x", "--learner", "--peer-urls=http://127.0.0.1:1"), "", false, false},
		{"member remove", fixed("member", "remove", "1"), "", false, false},
		{"move-leader", fixed("move-leader", id), "", false, false},
		{"user list", fixed("user", "list"), "", false, false},
		{"role add", fixed("role", "add", "r2"), "", false, false},
		{"role grant-permission", fixed("role", "grant-permission", "reader", "readwrite", "/x"), "", false, false},
		{"auth disable", fixed("auth", "disable"), "", false, false},
		{"auth status", fixed("auth", "status"), "", false, false},
		{"role get ops", fixed("role", "get", "ops"), "", false, false},
		{"user get self", nil, "", true, true}, // each user gets itself
		{"user get root", fixed("user", "get", "root"), "", false, false},
		{"role get reader", fixed("role", "get", "reader"), "", true, false},
	}
	for _, c := range cases {
		for _, u := range []struct {
			user    string
			allowed bool
		}{{"alice:alicepw", c.alice}, {"bob:bobpw", c.bob}} {
			name, _, _ := strings.Cut(u.user, ":")
			cmd := []string{"user", "get", name} // the case without args
			if c.args != nil {
				cmd = c.args()
			}
			args := append([]string{"--endpoints=" + m.Endpoint, "--user=" + u.user, "--command-timeout=10s"}, cmd...)
			code, stdout, stderr := ctlRun(c.stdin, args...)
			switch {
			case u.allowed && code != 0:
				t.Errorf("etcdctl %s: exit %d, want 0\n%s%s", strings.Join(args, " "), code, stdout, stderr)
			case !u.allowed && (code == 0 || !strings.Contains(stderr, "etcdserver: permission denied")):
				t.Errorf("etcdctl %s: exit %d, want a permission denial\n%s%s", strings.Join(args, " "), code, stdout, stderr)
			case !u.allowed && strings.HasPrefix(stderr, "Error:") && stderr != "Error: etcdserver: permission denied\n":
				t.Errorf("etcdctl %s: stderr %q", strings.Join(args, " "), stderr)
			}
		}
	}
	// Root may do what alice and bob may not.
	for _, args := range [][]string{
		{"get", "/secret"}, {"put", "/secret", "x"}, {"compaction", "2"}, {"defrag"}, {"snapshot", "save", snap},
		{"endpoint", "hashkv"}, {"alarm", "disarm"}, {"user", "list"}, {"role", "add", "r2"}, {"auth", "status"},
		{"lease", "revoke", leaseHex("/secret")},
	} {
		full := append([]string{"--endpoints=" + m.Endpoint, "--user=root:rootpw", "--command-timeout=10s"}, args...)
		if code, stdout, stderr := ctlRun("", full...); code != 0 {
			t.Errorf("etcdctl %s as root: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
}

func fixed(args ...string) func() []string { return func() []string { return args } }

// TestAuthSimpleTokenTTL: with --auth-token-ttl=2 a simple token lives two
// seconds past its last use, as etcd's do; then it is etcd's invalid token.
func TestAuthSimpleTokenTTL(t *testing.T) {
	m := testutil.StartMember(t, cheapBcrypt, func(c *config.Config) { c.AuthTokenTTL = 2 })
	setUpAuth(t, m.Client(t))
	ctx := ctxT(t)
	conn := rawConn(t, m)
	kv := pb.NewKVClient(conn)
	resp, err := pb.NewAuthClient(conn).Authenticate(ctx, &pb.AuthenticateRequest{Name: "alice", Password: "alicepw"})
	if err != nil {
		t.Fatal(err)
	}
	get := func() error {
		_, err := kv.Range(withToken(ctx, resp.Token), &pb.RangeRequest{Key: []byte("/app/cfg")})
		return err
	}
	// Used every 300ms, the token outlives its TTL.
	for range 10 {
		if err := get(); err != nil {
			t.Fatalf("token in use: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Left alone for longer than the TTL (the clock has to move: nothing
	// else to wait on), it is gone.
	time.Sleep(2500 * time.Millisecond)
	if err := get(); err == nil || err.Error() != rpctypes.ErrGRPCInvalidAuthToken.Error() {
		t.Fatalf("expired token: %v, want %v", err, rpctypes.ErrGRPCInvalidAuthToken)
	}
	// clientv3 logs in again by itself on that error.
	alice, err := userClient(t, m, "alice", "alicepw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Get(ctx, "/app/cfg"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	if _, err := alice.Get(ctx, "/app/cfg"); err != nil {
		t.Fatalf("clientv3 after its token expired: %v", err)
	}
}

// writeJWTKeys writes a fresh key pair for method (RS*, PS*, ES*) as PEM
// files: the private key in the encoding tools such as openssl write, the
// public key as PKIX.
func writeJWTKeys(t *testing.T, method string) (pub, priv string) {
	t.Helper()
	var signer crypto.Signer
	var privPEM *pem.Block
	switch method[:2] {
	case "RS", "PS":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		signer, privPEM = k, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case "ES":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		signer, privPEM = k, &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	default:
		t.Fatalf("no keys for %s", method)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub, priv = filepath.Join(dir, "jwt.pub"), filepath.Join(dir, "jwt.key")
	if err := os.WriteFile(priv, pem.EncodeToMemory(privPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// TestAuthJWTSigningMethods issues and checks JWTs signed with RSA,
// RSA-PSS and ECDSA keys read from files. A JWT carries the auth revision
// it was issued at: after an auth change it is etcd's "revision of auth
// store is old" (clientv3 then logs in again). Past its ttl it is invalid.
func TestAuthJWTSigningMethods(t *testing.T) {
	t.Run("expiry", func(t *testing.T) {
		pub, priv := writeJWTKeys(t, "ES256")
		m := testutil.StartMember(t, cheapBcrypt, func(c *config.Config) {
			c.AuthToken = fmt.Sprintf("jwt,pub-key=%s,priv-key=%s,sign-method=ES256,ttl=1s", pub, priv)
		})
		setUpAuth(t, m.Client(t))
		ctx := ctxT(t)
		conn := rawConn(t, m)
		resp, err := pb.NewAuthClient(conn).Authenticate(ctx, &pb.AuthenticateRequest{Name: "alice", Password: "alicepw"})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := pb.NewKVClient(conn).Range(withToken(ctx, resp.Token), &pb.RangeRequest{Key: []byte("/app/cfg")})
			if err != nil {
				if err.Error() != rpctypes.ErrGRPCInvalidAuthToken.Error() {
					t.Fatalf("expired JWT: %v, want %v", err, rpctypes.ErrGRPCInvalidAuthToken)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a JWT with a 1s ttl still works after 5s")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	for _, method := range []string{"RS256", "PS384", "ES256"} {
		t.Run(method, func(t *testing.T) {
			pub, priv := writeJWTKeys(t, method)
			m := testutil.StartMember(t, cheapBcrypt, func(c *config.Config) {
				c.AuthToken = fmt.Sprintf("jwt,pub-key=%s,priv-key=%s,sign-method=%s,ttl=10m", pub, priv, method)
			})
			setUpAuth(t, m.Client(t))
			ctx := ctxT(t)
			conn := rawConn(t, m)
			kv := pb.NewKVClient(conn)
			resp, err := pb.NewAuthClient(conn).Authenticate(ctx, &pb.AuthenticateRequest{Name: "alice", Password: "alicepw"})
			if err != nil {
				t.Fatal(err)
			}
			header, _, _ := strings.Cut(resp.Token, ".")
			if h, err := base64.RawURLEncoding.DecodeString(header); err != nil || !strings.Contains(string(h), `"alg":"`+method+`"`) {
				t.Fatalf("token header %q: %v", h, err)
			}
			get := func(key string) error {
				_, err := kv.Range(withToken(ctx, resp.Token), &pb.RangeRequest{Key: []byte(key)})
				return err
			}
			if err := get("/app/cfg"); err != nil {
				t.Fatalf("alice with her JWT: %v", err)
			}
			if err := get("/secret"); err == nil || err.Error() != rpctypes.ErrGRPCPermissionDenied.Error() {
				t.Fatalf("outside her grant: %v", err)
			}
			forged := resp.Token[:len(resp.Token)-4] + "AAAA"
			if _, err := kv.Range(withToken(ctx, forged), &pb.RangeRequest{Key: []byte("/app/cfg")}); err == nil ||
				err.Error() != rpctypes.ErrGRPCInvalidAuthToken.Error() {
				t.Fatalf("forged signature: %v", err)
			}
			root, err := userClient(t, m, "root", "rootpw")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := root.RoleAdd(ctx, "another"); err != nil {
				t.Fatal(err)
			}
			if err := get("/app/cfg"); err == nil || err.Error() != rpctypes.ErrGRPCAuthOldRevision.Error() {
				t.Fatalf("JWT after an auth change: %v, want %v", err, rpctypes.ErrGRPCAuthOldRevision)
			}
			alice, err := userClient(t, m, "alice", "alicepw")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := root.RoleAdd(ctx, "yet-another"); err != nil {
				t.Fatal(err)
			}
			if _, err := alice.Get(ctx, "/app/cfg"); err != nil {
				t.Fatalf("clientv3 with a stale JWT: %v", err)
			}
		})
	}
}

// TestLoginFloodDoesNotStallWrites floods the member with failing logins
// (bcrypt at the default cost, each one tens of milliseconds of CPU) while
// a logged-in client writes: password checks queue on their bounded pool,
// and the writes go on at their usual pace.
func TestLoginFloodDoesNotStallWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test: seconds of bcrypt at the default cost")
	}
	m := testutil.StartMember(t)
	setUpAuth(t, m.Client(t))
	root, err := userClient(t, m, "root", "rootpw")
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	floodCtx, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	const attackers = 32
	failed := make(chan int, attackers)
	for i := range attackers {
		au := pb.NewAuthClient(rawConn(t, m))
		go func() {
			n := 0
			for floodCtx.Err() == nil {
				_, err := au.Authenticate(floodCtx, &pb.AuthenticateRequest{Name: "alice", Password: fmt.Sprint("guess", i, n)})
				if err != nil && err.Error() == rpctypes.ErrGRPCAuthFailed.Error() {
					n++
				}
			}
			failed <- n
		}()
	}
	// Let the queue fill before measuring.
	time.Sleep(300 * time.Millisecond)
	var worst time.Duration
	for i := range 40 {
		start := time.Now()
		if _, err := root.Put(ctx, "/app/cfg", fmt.Sprint(i)); err != nil {
			t.Fatalf("put during the flood: %v", err)
		}
		worst = max(worst, time.Since(start))
	}
	// A correct login still gets its turn.
	start := time.Now()
	if _, err := pb.NewAuthClient(rawConn(t, m)).Authenticate(floodCtx, &pb.AuthenticateRequest{Name: "alice", Password: "alicepw"}); err != nil {
		t.Fatalf("login during the flood: %v", err)
	}
	loginTook := time.Since(start)
	stop()
	total := 0
	for range attackers {
		total += <-failed
	}
	t.Logf("%d failed logins; slowest put %v; a correct login took %v", total, worst, loginTook)
	if total < attackers {
		t.Fatalf("the flood did not run: %d failed logins", total)
	}
	if worst > time.Second {
		t.Fatalf("a put took %v during the login flood", worst)
	}
}

// TestEtcdctlEmptyKeyPermission: etcdctl turns an empty permission key into
// "\x00", and with --prefix or --from-key into the whole key space, as
// etcdctl does; revoke-permission names the range the same way.
func TestEtcdctlEmptyKeyPermission(t *testing.T) {
	m := testutil.StartMember(t)
	cli := m.Client(t)
	ctx := ctxT(t)
	ep := "--endpoints=" + m.Endpoint
	for _, args := range [][]string{
		{"role", "add", "all"},
		{"role", "grant-permission", "all", "read", "", "--prefix"},
		{"role", "grant-permission", "all", "write", ""},
	} {
		if code, out, errOut := ctlRun("", append([]string{ep}, args...)...); code != 0 {
			t.Fatalf("etcdctl %v: %d %s %s", args, code, out, errOut)
		}
	}
	r, err := cli.RoleGet(ctx, "all")
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(r.Perm)
	if len(r.Perm) != 2 || string(r.Perm[0].Key) != "\x00" || string(r.Perm[0].RangeEnd) != "\x00" ||
		string(r.Perm[1].Key) != "\x00" || len(r.Perm[1].RangeEnd) != 0 {
		t.Fatalf("permissions %s", got)
	}
	if code, _, errOut := ctlRun("", ep, "role", "grant-permission", "all", "read", "", "--prefix", "--from-key"); code != ctl.ExitBadArgs ||
		errOut != "Error: --from-key and --prefix flags are mutually exclusive\n" {
		t.Fatalf("both flags: %d %q", code, errOut)
	}
	code, out, errOut := ctlRun("", ep, "role", "revoke-permission", "all", "", "--from-key")
	if code != 0 || out != "Permission of range [, <open ended> is revoked from role all\n" {
		t.Fatalf("revoke: %d %q %q", code, out, errOut)
	}
	code, out, errOut = ctlRun("", ep, "role", "revoke-permission", "all", "")
	if code != 0 || out != "Permission of key  is revoked from role all\n" {
		t.Fatalf("revoke single: %d %q %q", code, out, errOut)
	}
}

// TestAuthAcrossMembers: auth state goes through raft. A simple token
// issued by one member works on the others, a grant revoked on one member
// is denied on another, a deleted user's token dies everywhere, and users,
// roles and the enabled flag survive a restart.
func TestAuthAcrossMembers(t *testing.T) {
	c := testutil.StartCluster(t, 3, cheapBcrypt)
	m0, m1, m2 := c.Members[0], c.Members[1], c.Members[2]
	setUpAuth(t, m0.Client(t))
	ctx := ctxT(t)
	resp, err := pb.NewAuthClient(rawConn(t, m0)).Authenticate(ctx, &pb.AuthenticateRequest{Name: "alice", Password: "alicepw"})
	if err != nil {
		t.Fatal(err)
	}
	tokenCtx := withToken(ctx, resp.Token)
	// eventually polls f on m until it returns want (compared by message).
	eventually := func(m *testutil.Member, what string, want error, f func(pb.KVClient) error) {
		t.Helper()
		kv := pb.NewKVClient(rawConn(t, m))
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := f(kv)
			if (err == nil && want == nil) || (err != nil && want != nil && err.Error() == want.Error()) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s on %s: %v, want %v", what, m.Config.Name, err, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	putCfg := func(kv pb.KVClient) error {
		_, err := kv.Put(tokenCtx, &pb.PutRequest{Key: []byte("/app/cfg"), Value: []byte("x")})
		return err
	}
	getCfg := func(kv pb.KVClient) error {
		_, err := kv.Range(tokenCtx, &pb.RangeRequest{Key: []byte("/app/cfg"), Serializable: true})
		return err
	}
	for _, m := range []*testutil.Member{m1, m2} {
		eventually(m, "put with a token from "+m0.Config.Name, nil, putCfg)
	}
	root, err := userClient(t, m2, "root", "rootpw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.UserRevokeRole(ctx, "alice", "writer"); err != nil {
		t.Fatal(err)
	}
	eventually(m1, "put after the writer role was revoked on "+m2.Config.Name, rpctypes.ErrGRPCPermissionDenied, putCfg)
	eventually(m0, "serializable get, still granted", nil, getCfg)
	if _, err := root.UserDelete(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Members {
		eventually(m, "the token of a deleted user", rpctypes.ErrGRPCInvalidAuthToken, getCfg)
	}

	m1.Stop()
	m1.Restart(t)
	st, err := pb.NewAuthClient(rawConn(t, m1)).Authenticate(ctx, &pb.AuthenticateRequest{Name: "root", Password: "rootpw"})
	if err != nil {
		t.Fatalf("root after a restart: %v", err)
	}
	kv := pb.NewKVClient(rawConn(t, m1))
	if _, err := kv.Range(withToken(ctx, st.Token), &pb.RangeRequest{Key: []byte("/secret")}); err != nil {
		t.Fatalf("root reads after a restart: %v", err)
	}
	if _, err := kv.Range(ctx, &pb.RangeRequest{Key: []byte("/secret"), Serializable: true}); err == nil ||
		err.Error() != rpctypes.ErrGRPCUserEmpty.Error() {
		t.Fatalf("anonymous read after a restart: %v", err)
	}
}
