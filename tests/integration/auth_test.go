package integration

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/authpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

func userClient(t *testing.T, m *testutil.Member, user, password string) (*clientv3.Client, error) {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{m.Endpoint}, Username: user, Password: password,
		DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}

// setUpAuth creates root, a reader of /app/ and a writer of /app/cfg, then
// enables authentication.
func setUpAuth(t *testing.T, c *clientv3.Client) {
	t.Helper()
	ctx := ctxT(t)
	if _, err := c.AuthEnable(ctx); err != rpctypes.ErrRootUserNotExist {
		t.Fatalf("enable without root: %v", err)
	}
	steps := []func() error{
		func() error { _, err := c.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := c.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := c.RoleAdd(ctx, "reader"); return err },
		func() error {
			_, err := c.RoleGrantPermission(ctx, "reader", "/app/", clientv3.GetPrefixRangeEnd("/app/"), clientv3.PermissionType(authpb.READ))
			return err
		},
		func() error { _, err := c.RoleAdd(ctx, "writer"); return err },
		func() error {
			_, err := c.RoleGrantPermission(ctx, "writer", "/app/cfg", "", clientv3.PermissionType(authpb.READWRITE))
			return err
		},
		func() error { _, err := c.UserAdd(ctx, "alice", "alicepw"); return err },
		func() error { _, err := c.UserGrantRole(ctx, "alice", "reader"); return err },
		func() error { _, err := c.UserGrantRole(ctx, "alice", "writer"); return err },
		func() error { _, err := c.Put(ctx, "/app/cfg", "v1"); return err },
		func() error { _, err := c.Put(ctx, "/app/other", "v1"); return err },
		func() error { _, err := c.Put(ctx, "/secret", "s"); return err },
		func() error { _, err := c.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("setup step %d: %v", i, err)
		}
	}
}

func TestAuthPermissionMatrix(t *testing.T) {
	m := testutil.StartMember(t, cheapBcrypt)
	setUpAuth(t, m.Client(t))
	ctx := ctxT(t)

	anon := m.Client(t)
	if _, err := anon.Get(ctx, "/app/cfg"); err != rpctypes.ErrUserEmpty {
		t.Fatalf("anonymous get: %v", err)
	}
	if _, err := userClient(t, m, "alice", "wrong"); err != rpctypes.ErrAuthFailed {
		t.Fatalf("wrong password: %v", err)
	}
	alice, err := userClient(t, m, "alice", "alicepw")
	if err != nil {
		t.Fatal(err)
	}
	root, err := userClient(t, m, "root", "rootpw")
	if err != nil {
		t.Fatal(err)
	}
	denied, allowed := rpctypes.ErrPermissionDenied, error(nil)
	cases := []struct {
		name string
		op   func() error
		want error
	}{
		{"get own key", func() error { _, err := alice.Get(ctx, "/app/cfg"); return err }, allowed},
		{"get prefix", func() error { _, err := alice.Get(ctx, "/app/", clientv3.WithPrefix()); return err }, allowed},
		{"get beyond prefix", func() error { _, err := alice.Get(ctx, "/app", clientv3.WithFromKey()); return err }, denied},
		{"get secret", func() error { _, err := alice.Get(ctx, "/secret"); return err }, denied},
		{"put writable key", func() error { _, err := alice.Put(ctx, "/app/cfg", "v2"); return err }, allowed},
		{"put read-only key", func() error { _, err := alice.Put(ctx, "/app/other", "x"); return err }, denied},
		{"delete writable key", func() error { _, err := alice.Delete(ctx, "/app/cfg"); return err }, allowed},
		{"delete prefix", func() error { _, err := alice.Delete(ctx, "/app/", clientv3.WithPrefix()); return err }, denied},
		{"txn reading secret", func() error {
			_, err := alice.Txn(ctx).If(clientv3.Compare(clientv3.Version("/secret"), ">", 0)).Commit()
			return err
		}, denied},
		{"txn with denied else branch", func() error {
			_, err := alice.Txn(ctx).Then(clientv3.OpPut("/app/cfg", "x")).Else(clientv3.OpPut("/app/other", "y")).Commit()
			return err
		}, denied},
		{"txn allowed", func() error {
			_, err := alice.Txn(ctx).If(clientv3.Compare(clientv3.Value("/app/other"), "=", "v1")).Then(clientv3.OpPut("/app/cfg", "t")).Commit()
			return err
		}, allowed},
		{"compact as alice", func() error { _, err := alice.Compact(ctx, 2); return err }, denied},
		{"user list as alice", func() error { _, err := alice.UserList(ctx); return err }, denied},
		{"status as alice", func() error { _, err := alice.Status(ctx, m.Endpoint); return err }, allowed},
		{"root reads secret", func() error { _, err := root.Get(ctx, "/secret"); return err }, allowed},
		{"root compacts", func() error { _, err := root.Compact(ctx, 2); return err }, allowed},
	}
	for _, c := range cases {
		if err := c.op(); err != c.want {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}

	// A watch outside the user's permissions is refused as etcd does.
	wch := alice.Watch(ctx, "/secret")
	resp := <-wch
	if !resp.Canceled || !strings.Contains(resp.Err().Error(), "permission denied") {
		t.Fatalf("watch on a denied key: %+v %v", resp, resp.Err())
	}
	// The health probe keeps working with authentication on.
	hr, err := http.Get(m.ClientURL + "/health")
	if err != nil || hr.StatusCode != 200 {
		t.Fatalf("/health with auth on: %v %v", hr, err)
	}
	hr.Body.Close()

	// Revoking a role takes effect at once, for existing tokens too.
	if _, err := root.UserRevokeRole(ctx, "alice", "writer"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Put(ctx, "/app/cfg", "v3"); err != rpctypes.ErrPermissionDenied {
		t.Fatalf("put after losing the role: %v", err)
	}
	st, err := root.AuthStatus(ctx)
	if err != nil || !st.Enabled {
		t.Fatalf("auth status: %v %v", st, err)
	}
	if _, err := root.AuthDisable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Get(ctx, "/secret"); err != nil {
		t.Fatalf("anonymous get after disabling auth: %v", err)
	}
}

func TestAuthManagementErrors(t *testing.T) {
	m := testutil.StartMember(t, cheapBcrypt)
	c := m.Client(t)
	ctx := ctxT(t)
	if _, err := c.UserAdd(ctx, "u", "p"); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"user add twice", second(c.UserAdd(ctx, "u", "p")), rpctypes.ErrUserAlreadyExist},
		{"user add empty", second(c.UserAdd(ctx, "", "p")), rpctypes.ErrUserEmpty},
		{"grant unknown role", second(c.UserGrantRole(ctx, "u", "nope")), rpctypes.ErrRoleNotFound},
		{"grant to unknown user", second(c.UserGrantRole(ctx, "nobody", "root")), rpctypes.ErrUserNotFound},
		{"revoke ungranted role", second(c.UserRevokeRole(ctx, "u", "root")), rpctypes.ErrRoleNotGranted},
		{"delete unknown role", second(c.RoleDelete(ctx, "nope")), rpctypes.ErrRoleNotFound},
		{"enable with root lacking the role", enableWithRootWithoutRole(c, ctx), rpctypes.ErrRootRoleNotExist},
	}
	for _, ch := range checks {
		if ch.err != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.err, ch.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func enableWithRootWithoutRole(c *clientv3.Client, ctx context.Context) error {
	if _, err := c.UserAdd(ctx, "root", "r"); err != nil {
		return err
	}
	_, err := c.AuthEnable(ctx)
	return err
}

// certAuthMember is a member that authenticates TLS clients by their
// certificates, with setUpAuth's users, and clients of root and alice that
// present only their certificates.
type certAuthMember struct {
	url                                    url.URL
	caFile                                 string
	rootCert, rootKey, aliceCert, aliceKey string
	root, alice                            *clientv3.Client
}

func startCertAuthMember(t *testing.T) certAuthMember {
	t.Helper()
	ca := testutil.NewCA(t, "cairn")
	serverCert, serverKey := ca.Issue("server")
	c := certAuthMember{caFile: ca.CertFile}
	c.rootCert, c.rootKey = ca.Issue("root")
	c.aliceCert, c.aliceKey = ca.Issue("alice")
	c.url = url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}
	m := testutil.StartMember(t, cheapBcrypt, func(cfg *config.Config) {
		cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []url.URL{c.url}, []url.URL{c.url}
		cfg.CertFile, cfg.KeyFile, cfg.TrustedCAFile, cfg.ClientCertAuth = serverCert, serverKey, ca.CertFile, true
	})
	var err error
	if c.root, err = tlsClient(t, m.Endpoint, ca.ClientTLS(c.rootCert, c.rootKey)); err != nil {
		t.Fatal(err)
	}
	setUpAuth(t, c.root)
	// (alice's probe write is refused: she may write only /app/cfg.)
	if c.alice, err = tlsClient(t, m.Endpoint, ca.ClientTLS(c.aliceCert, c.aliceKey)); err != rpctypes.ErrPermissionDenied && err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAuthByCertificateCN authenticates TLS clients by their certificate's
// common name when they send no token.
func TestAuthByCertificateCN(t *testing.T) {
	c := startCertAuthMember(t)
	ctx := ctxT(t)
	if _, err := c.root.Get(ctx, "/secret"); err != nil {
		t.Fatalf("root by certificate: %v", err)
	}
	if _, err := c.alice.Get(ctx, "/app/cfg"); err != nil {
		t.Fatalf("alice reads her prefix by certificate: %v", err)
	}
	if _, err := c.alice.Get(ctx, "/secret"); err != rpctypes.ErrPermissionDenied {
		t.Fatalf("alice reads the secret: %v", err)
	}
	// etcdctl with a certificate and no --user is its common name too.
	tlsFlags := func(cert, key string) []string {
		return []string{"--endpoints=" + c.url.String(), "--cacert=" + c.caFile, "--cert=" + cert, "--key=" + key}
	}
	if code, out, errOut := ctlRun("", append(tlsFlags(c.aliceCert, c.aliceKey), "get", "/app/cfg", "--print-value-only")...); code != 0 || out != "v1\n" {
		t.Errorf("etcdctl as alice by certificate: %d %q %q", code, out, errOut)
	}
	// (clientv3's retry warning, which etcdctl prints too, comes first.)
	if code, _, errOut := ctlRun("", append(tlsFlags(c.aliceCert, c.aliceKey), "get", "/secret")...); code != 1 ||
		!strings.HasSuffix(errOut, "\nError: etcdserver: permission denied\n") {
		t.Errorf("etcdctl as alice by certificate, the secret: %d %q", code, errOut)
	}
	if code, out, errOut := ctlRun("", append(tlsFlags(c.rootCert, c.rootKey), "user", "list")...); code != 0 || out != "alice\nroot\n" {
		t.Errorf("etcdctl as root by certificate: %d %q %q", code, out, errOut)
	}
}

// TestAuthJWTTokens issues JWTs signed with an RSA key.
func TestAuthJWTTokens(t *testing.T) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv := filepath.Join(dir, "jwt.key")
	pub := filepath.Join(dir, "jwt.pub")
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	_ = os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
	_ = os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600)
	m := testutil.StartMember(t, cheapBcrypt, func(c *config.Config) {
		c.AuthToken = fmt.Sprintf("jwt,pub-key=%s,priv-key=%s,sign-method=RS256,ttl=10m", pub, priv)
	})
	setUpAuth(t, m.Client(t))
	alice, err := userClient(t, m, "alice", "alicepw")
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if _, err := alice.Get(ctx, "/app/cfg"); err != nil {
		t.Fatalf("alice with a JWT: %v", err)
	}
	resp, err := alice.Authenticate(ctx, "alice", "alicepw")
	if err != nil || strings.Count(resp.Token, ".") != 2 {
		t.Fatalf("token %q is not a JWT: %v", resp.Token, err)
	}
}
