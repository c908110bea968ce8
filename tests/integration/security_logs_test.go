package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/logging"
	"github.com/cairn-kv/cairn/internal/server"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// startDebugLogged starts a member logging at debug level into the
// returned buffer.
func startDebugLogged(t *testing.T, opts ...testutil.Option) (*testutil.Member, *logLines) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	u := freeURL(t, "http")
	cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []url.URL{u}, []url.URL{u}
	cfg.ListenPeerURLs = []url.URL{freeURL(t, "http")}
	cfg.ElectionTimeout, cfg.HeartbeatInterval = 500*time.Millisecond, 50*time.Millisecond
	for _, o := range opts {
		o(cfg)
	}
	logs := &logLines{}
	srv, err := server.New(cfg, slog.New(logging.NewHandler(logs, logging.Options{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start member: %v\n%s", err, logs)
	}
	t.Cleanup(func() { srv.Close() })
	return &testutil.Member{ClientURL: u.String(), Endpoint: u.Host, Config: cfg, Server: srv}, logs
}

// TestNoSecretsInLogs drives every path a password or a token takes (user
// add, password change, authentication over gRPC, the JSON gateway and
// etcdctl, requests carrying tokens) with the member logging at debug
// level, every request and every apply logged as slow, and then looks for
// the passwords, their hashes and the tokens in the log.
func TestNoSecretsInLogs(t *testing.T) {
	m, logs := startDebugLogged(t, cheapBcrypt, func(c *config.Config) {
		c.WarningApplyDuration = time.Nanosecond
		c.WarningUnaryRequestDuration = time.Nanosecond
	})
	ctx := ctxT(t)
	const (
		rootPW   = "rootpw-Secret-1f3a"
		alicePW  = "alicepw-Secret-9b2c"
		alicePW2 = "alicepw-Changed-77d0"
	)
	secrets := []string{rootPW, alicePW, alicePW2, "$2a$"}

	conn := rawConn(t, m)
	au, kv := pb.NewAuthClient(conn), pb.NewKVClient(conn)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(au.UserAdd(ctx, &pb.AuthUserAddRequest{Name: "root", Password: rootPW}))
	must(au.UserGrantRole(ctx, &pb.AuthUserGrantRoleRequest{User: "root", Role: "root"}))
	must(au.UserAdd(ctx, &pb.AuthUserAddRequest{Name: "alice", Password: alicePW}))
	must(au.AuthEnable(ctx, &pb.AuthEnableRequest{}))

	login := func(name, pw string) string {
		t.Helper()
		r, err := au.Authenticate(ctx, &pb.AuthenticateRequest{Name: name, Password: pw})
		if err != nil {
			t.Fatalf("authenticate %s: %v", name, err)
		}
		secrets = append(secrets, r.Token)
		return r.Token
	}
	rootTok := login("root", rootPW)
	aliceTok := login("alice", alicePW)
	if _, err := au.Authenticate(ctx, &pb.AuthenticateRequest{Name: "alice", Password: "wrong-" + alicePW}); err == nil ||
		err.Error() != rpctypes.ErrGRPCAuthFailed.Error() {
		t.Fatalf("wrong password: %v", err)
	}
	must(kv.Put(withToken(ctx, rootTok), &pb.PutRequest{Key: []byte("k"), Value: []byte("v")}))
	must(kv.Range(withToken(ctx, rootTok), &pb.RangeRequest{Key: []byte("k")}))
	if _, err := kv.Range(withToken(ctx, aliceTok), &pb.RangeRequest{Key: []byte("k")}); err == nil {
		t.Fatal("alice read k without a grant")
	}
	must(au.UserChangePassword(withToken(ctx, rootTok), &pb.AuthUserChangePasswordRequest{Name: "alice", Password: alicePW2}))
	login("alice", alicePW2)

	// The JSON gateway, with the token in the Authorization header.
	resp, err := http.Post(m.ClientURL+"/v3/auth/authenticate", "application/json",
		strings.NewReader(fmt.Sprintf(`{"name":"root","password":%q}`, rootPW)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	gwTok := between(string(body), `"token":"`, `"`)
	if resp.StatusCode != 200 || gwTok == "" {
		t.Fatalf("gateway authenticate: %d %s", resp.StatusCode, body)
	}
	secrets = append(secrets, gwTok)
	req, _ := http.NewRequest("POST", m.ClientURL+"/v3/kv/range", strings.NewReader(`{"key":"aw=="}`))
	req.Header.Set("Authorization", gwTok)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("gateway range with a token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// etcdctl, with the password on the command line.
	if code, out, errOut := ctlRun("", "--endpoints="+m.Endpoint, "--user=root:"+rootPW, "get", "k"); code != 0 {
		t.Fatalf("etcdctl: %d %s %s", code, out, errOut)
	}

	text := logs.String()
	if !strings.Contains(text, `"request stats"`) || !strings.Contains(text, "apply request took too long") {
		t.Fatalf("the member did not log requests at all:\n%s", text)
	}
	for _, s := range secrets {
		if i := strings.Index(text, s); i >= 0 {
			start, end := max(0, i-300), min(len(text), i+100)
			t.Errorf("secret %q in the log: ...%s...", s, text[start:end])
		}
	}
}

// between returns the text of s between the first from and the next to.
func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}
