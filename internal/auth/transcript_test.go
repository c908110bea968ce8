package auth

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Transcripts (testdata/transcripts/*.txt) are etcd's auth behaviour,
// recorded by running each script against a fresh etcd v3.6 member over
// gRPC. Each line is "<command> -> <result>"; lines starting with '#' are
// comments, and "# config: jwt" on the first line runs the script with
// RS256 JWT tokens. TestTranscripts replays the commands against a Store,
// doing the little a server does around it (token lookup, the admin check
// on auth requests, hashing on the proposer's side), and expects the same
// results, errors mapped to their gRPC form as v3rpc maps them.
//
// To record again (after editing the commands), point the test at an etcd
// binary:
//
//	CAIRN_REFERENCE_ETCD=/path/to/etcd go test ./internal/auth -run TestTranscripts -record
//
// Commands (strings are Go-quoted; "-" is an absent range end):
//
//	auth enable|disable|status
//	user add NAME PASS | user add NAME nopass | user add NAME bcrypt PASS
//	user del|get NAME, user list, user passwd NAME PASS
//	user grant|revoke USER ROLE
//	role add|del|get NAME, role list
//	role grant ROLE READ|WRITE|READWRITE KEY END | role grant ROLE nil
//	role revoke ROLE KEY END
//	login NAME PASS [SLOT]   authenticate; the token goes to SLOT (default NAME)
//	as SLOT|none             send SLOT's token with the following requests
//	settoken SLOT TOKEN      put a literal token in SLOT and use it
//	get KEY END, put KEY, del KEY END, compact, hash
var record = flag.Bool("record", false, "record testdata/transcripts from the etcd binary in $CAIRN_REFERENCE_ETCD")

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			lines := readTranscript(t, file)
			jwtMode := len(lines) > 0 && lines[0].cmd == "# config: jwt"
			if *record {
				recordTranscript(t, file, lines, jwtMode)
				return
			}
			r := newStoreRunner(t, jwtMode)
			for _, l := range lines {
				if l.comment() {
					continue
				}
				if got := r.run(l.cmd); got != l.result {
					t.Errorf("%s:%d: %s\n got: %s\nwant: %s", file, l.no, l.cmd, got, l.result)
				}
			}
		})
	}
}

type transcriptLine struct {
	no          int
	cmd, result string
}

func (l transcriptLine) comment() bool { return l.cmd == "" || strings.HasPrefix(l.cmd, "#") }

func readTranscript(t *testing.T, file string) []transcriptLine {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []transcriptLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		l := transcriptLine{no: n, cmd: text}
		if !l.comment() {
			l.cmd, l.result, _ = strings.Cut(text, " -> ")
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// command is one parsed script line.
type command []string

func parseCommand(line string) command { return strings.Fields(line) }

func (c command) arg(i int) string {
	if i < len(c) {
		return c[i]
	}
	return ""
}

// bytes unquotes argument i; "-" is nil.
func (c command) bytes(i int) []byte {
	s := c.arg(i)
	if s == "-" {
		return nil
	}
	u, err := strconv.Unquote(s)
	if err != nil {
		panic(fmt.Sprintf("argument %d of %q is not a quoted string", i, strings.Join(c, " ")))
	}
	return []byte(u)
}

func (c command) str(i int) string { return string(c.bytes(i)) }

func (c command) perm() *authpb.Permission {
	if c.arg(3) == "nil" {
		return nil
	}
	typ, ok := authpb.Permission_Type_value[c.arg(3)]
	if !ok {
		panic("unknown permission type " + c.arg(3))
	}
	return &authpb.Permission{PermType: authpb.Permission_Type(typ), Key: c.bytes(4), RangeEnd: c.bytes(5)}
}

func formatResult(out string, err error) string {
	if err != nil {
		st, _ := status.FromError(err)
		return fmt.Sprintf("ERR %s %q", st.Code(), st.Message())
	}
	if out == "" {
		return "ok"
	}
	return "ok " + out
}

func formatPerms(ps []*authpb.Permission) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s[%q,%q]", p.PermType, p.Key, p.RangeEnd))
	}
	return "perms=" + strings.Join(parts, " ")
}

func tokenShape(tok string) string {
	if strings.Count(tok, ".") == 1 {
		return "token=simple"
	}
	return "token=jwt"
}

// toGRPC maps the store's errors as the v3rpc error table does; the test
// below pins that each sentinel has its rpctypes twin.
var toGRPC = map[error]error{
	ErrRootUserNotExist:     rpctypes.ErrGRPCRootUserNotExist,
	ErrRootRoleNotExist:     rpctypes.ErrGRPCRootRoleNotExist,
	ErrUserAlreadyExist:     rpctypes.ErrGRPCUserAlreadyExist,
	ErrUserEmpty:            rpctypes.ErrGRPCUserEmpty,
	ErrUserNotFound:         rpctypes.ErrGRPCUserNotFound,
	ErrRoleAlreadyExist:     rpctypes.ErrGRPCRoleAlreadyExist,
	ErrRoleNotFound:         rpctypes.ErrGRPCRoleNotFound,
	ErrRoleEmpty:            rpctypes.ErrGRPCRoleEmpty,
	ErrAuthFailed:           rpctypes.ErrGRPCAuthFailed,
	ErrPermissionNotGiven:   rpctypes.ErrGRPCPermissionNotGiven,
	ErrPermissionDenied:     rpctypes.ErrGRPCPermissionDenied,
	ErrRoleNotGranted:       rpctypes.ErrGRPCRoleNotGranted,
	ErrPermissionNotGranted: rpctypes.ErrGRPCPermissionNotGranted,
	ErrAuthNotEnabled:       rpctypes.ErrGRPCAuthNotEnabled,
	ErrInvalidAuthToken:     rpctypes.ErrGRPCInvalidAuthToken,
	ErrInvalidAuthMgmt:      rpctypes.ErrGRPCInvalidAuthMgmt,
	ErrAuthOldRevision:      rpctypes.ErrGRPCAuthOldRevision,
}

func TestErrorsHaveGRPCTwins(t *testing.T) {
	for domain, grpcErr := range toGRPC {
		st, _ := status.FromError(grpcErr)
		got := strings.TrimPrefix(domain.Error(), "auth: ")
		want := strings.TrimPrefix(st.Message(), "etcdserver: ")
		if got != want {
			t.Errorf("%q does not read as %q", domain, st.Message())
		}
	}
}

// storeRunner plays a script against a Store, doing what the server does
// around it.
type storeRunner struct {
	t      *testing.T
	db     *pebble.DB
	s      *Store
	kind   TokenKind
	tokens map[string]string
	cur    string
}

func newStoreRunner(t *testing.T, jwtMode bool) *storeRunner {
	cfg := testConfig()
	if jwtMode {
		priv, pub := rsaKeyFiles(t, t.TempDir(), "jwt")
		tc, err := ParseTokenConfig("jwt,pub-key="+pub+",priv-key="+priv+",sign-method=RS256", 0)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Token = tc
	}
	db := openMemDB(t)
	return &storeRunner{t: t, db: db, s: newTestStore(t, db, cfg), kind: cfg.Token.Kind, tokens: map[string]string{}}
}

func (r *storeRunner) run(line string) string {
	out, err := r.exec(parseCommand(line))
	if g, ok := toGRPC[err]; ok {
		err = g
	}
	return formatResult(out, err)
}

// info is the request's credentials: none while auth is disabled or no
// token is sent, else the token's (an unknown one fails the request).
func (r *storeRunner) info() (*AuthInfo, error) {
	if !r.s.IsEnabled() || r.cur == "" {
		return nil, nil
	}
	return r.s.AuthInfoFromToken(context.Background(), r.tokens[r.cur])
}

// admin runs fn in a batch after the admin check every auth request but
// Authenticate gets.
func (r *storeRunner) admin(fn func(b *pebble.Batch) error) error {
	info, err := r.info()
	if err != nil {
		return err
	}
	if err := r.s.IsAdminPermitted(info); err != nil {
		return err
	}
	return apply(r.t, r.db, fn)
}

func (r *storeRunner) read(fn func() error) error {
	return r.admin(func(*pebble.Batch) error { return fn() })
}

func (r *storeRunner) exec(c command) (out string, err error) {
	s := r.s
	switch c.arg(0) + " " + c.arg(1) {
	case "auth enable":
		return "", r.admin(s.Enable)
	case "auth disable":
		return "", r.admin(s.Disable)
	case "auth status":
		err = r.read(func() error { out = fmt.Sprintf("enabled=%v rev=%d", s.IsEnabled(), s.Revision()); return nil })
		return out, err
	case "user add":
		req := &pb.AuthUserAddRequest{Name: c.str(2)}
		switch c.arg(3) {
		case "nopass":
			req.Options = &authpb.UserAddOptions{NoPassword: true}
		case "bcrypt":
			// etcd hashes the plain password, here empty, and ignores a
			// hash sent by the client.
			if req.HashedPassword, err = s.HashPassword(""); err != nil {
				return "", err
			}
		default:
			if req.HashedPassword, err = s.HashPassword(c.str(3)); err != nil {
				return "", err
			}
		}
		return "", r.admin(func(b *pebble.Batch) error { return s.UserAdd(b, req) })
	case "user del":
		return "", r.admin(func(b *pebble.Batch) error { return s.UserDelete(b, c.str(2)) })
	case "user get":
		err = r.read(func() error {
			u, err := s.UserGet(c.str(2))
			if err == nil {
				out = fmt.Sprintf("roles=%q", u.Roles)
			}
			return err
		})
		return out, err
	case "user list":
		err = r.read(func() error { out = fmt.Sprintf("users=%q", s.UserList()); return nil })
		return out, err
	case "user passwd":
		h, err := s.HashPassword(c.str(3))
		if err != nil {
			return "", err
		}
		return "", r.admin(func(b *pebble.Batch) error { return s.UserChangePassword(b, c.str(2), h) })
	case "user grant":
		return "", r.admin(func(b *pebble.Batch) error { return s.UserGrantRole(b, c.str(2), c.str(3)) })
	case "user revoke":
		return "", r.admin(func(b *pebble.Batch) error { return s.UserRevokeRole(b, c.str(2), c.str(3)) })
	case "role add":
		return "", r.admin(func(b *pebble.Batch) error { return s.RoleAdd(b, c.str(2)) })
	case "role del":
		return "", r.admin(func(b *pebble.Batch) error { return s.RoleDelete(b, c.str(2)) })
	case "role get":
		err = r.read(func() error {
			role, err := s.RoleGet(c.str(2))
			if err == nil {
				out = formatPerms(role.KeyPermission)
			}
			return err
		})
		return out, err
	case "role list":
		err = r.read(func() error { out = fmt.Sprintf("roles=%q", s.RoleList()); return nil })
		return out, err
	case "role grant":
		return "", r.admin(func(b *pebble.Batch) error { return s.RoleGrantPermission(b, c.str(2), c.perm()) })
	case "role revoke":
		return "", r.admin(func(b *pebble.Batch) error { return s.RoleRevokePermission(b, c.str(2), c.bytes(3), c.bytes(4)) })
	}

	switch c.arg(0) {
	case "login":
		ctx := context.Background()
		name := c.str(1)
		if _, err := s.CheckPassword(ctx, name, c.str(2)); err != nil {
			return "", err
		}
		// etcd issues the token when the authentication is applied, at
		// the revision current then.
		tok, err := s.AssignToken(ctx, name, s.Revision())
		if err != nil {
			return "", err
		}
		if r.kind == TokenSimple {
			if err := apply(r.t, r.db, func(*pebble.Batch) error { return s.SetSimpleToken(tok, name) }); err != nil {
				return "", err
			}
		}
		slot := c.arg(3)
		if slot == "" {
			slot = name
		}
		r.tokens[slot] = tok
		return tokenShape(tok), nil
	case "as":
		r.cur = c.arg(1)
		if r.cur == "none" {
			r.cur = ""
		}
		return "", nil
	case "settoken":
		r.cur = c.arg(1)
		r.tokens[r.cur] = c.str(2)
		return "", nil
	case "get", "put", "del":
		info, err := r.info()
		if err != nil {
			return "", err
		}
		switch c.arg(0) {
		case "get":
			return "", s.IsRangePermitted(info, c.bytes(1), c.bytes(2))
		case "put":
			return "", s.IsPutPermitted(info, c.bytes(1))
		}
		return "", s.IsDeleteRangePermitted(info, c.bytes(1), c.bytes(2))
	case "compact", "hash":
		return "", r.admin(func(*pebble.Batch) error { return nil })
	}
	r.t.Fatalf("unknown command %q", strings.Join(c, " "))
	return "", nil
}

// recordTranscript runs the commands of lines against a fresh member of
// the etcd binary in $CAIRN_REFERENCE_ETCD and rewrites file with its
// answers.
func recordTranscript(t *testing.T, file string, lines []transcriptLine, jwtMode bool) {
	bin := os.Getenv("CAIRN_REFERENCE_ETCD")
	if bin == "" {
		t.Fatal("-record needs CAIRN_REFERENCE_ETCD, the path of an etcd v3.6 binary")
	}
	dir := t.TempDir()
	client, peer := freePort(t), freePort(t)
	args := []string{
		"--name", "ref", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", "http://" + client, "--advertise-client-urls", "http://" + client,
		"--listen-peer-urls", "http://" + peer, "--initial-advertise-peer-urls", "http://" + peer,
		"--initial-cluster", "ref=http://" + peer,
	}
	if jwtMode {
		priv, pub := rsaKeyFiles(t, dir, "jwt")
		args = append(args, "--auth-token", "jwt,pub-key="+pub+",priv-key="+priv+",sign-method=RS256")
	}
	cmd := exec.Command(bin, args...)
	logf, err := os.Create(filepath.Join(dir, "etcd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	cc, err := grpc.NewClient(client, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	r := &etcdRunner{kv: pb.NewKVClient(cc), auth: pb.NewAuthClient(cc), mt: pb.NewMaintenanceClient(cc), tokens: map[string]string{}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := r.auth.AuthStatus(ctx, &pb.AuthStatusRequest{})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reference etcd not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var sb strings.Builder
	for _, l := range lines {
		if l.comment() {
			sb.WriteString(l.cmd + "\n")
			continue
		}
		fmt.Fprintf(&sb, "%s -> %s\n", l.cmd, r.run(l.cmd))
	}
	if err := os.WriteFile(file, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// etcdRunner plays a script against a real member over gRPC.
type etcdRunner struct {
	kv     pb.KVClient
	auth   pb.AuthClient
	mt     pb.MaintenanceClient
	tokens map[string]string
	cur    string
}

func (r *etcdRunner) run(line string) string {
	c := parseCommand(line)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r.cur != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, r.tokens[r.cur])
	}
	out, err := r.exec(ctx, c)
	if err != nil && status.Code(err) == codes.DeadlineExceeded {
		panic(fmt.Sprintf("%s: %v", line, err))
	}
	return formatResult(out, err)
}

func (r *etcdRunner) exec(ctx context.Context, c command) (string, error) {
	a := r.auth
	var err error
	switch c.arg(0) + " " + c.arg(1) {
	case "auth enable":
		_, err = a.AuthEnable(ctx, &pb.AuthEnableRequest{})
	case "auth disable":
		_, err = a.AuthDisable(ctx, &pb.AuthDisableRequest{})
	case "auth status":
		resp, err := a.AuthStatus(ctx, &pb.AuthStatusRequest{})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("enabled=%v rev=%d", resp.Enabled, resp.AuthRevision), nil
	case "user add":
		req := &pb.AuthUserAddRequest{Name: c.str(2)}
		switch c.arg(3) {
		case "nopass":
			req.Options = &authpb.UserAddOptions{NoPassword: true}
		case "bcrypt":
			h, err := bcrypt.GenerateFromPassword(c.bytes(4), bcrypt.MinCost)
			if err != nil {
				return "", err
			}
			req.HashedPassword = string(h)
		default:
			req.Password = c.str(3)
		}
		_, err = a.UserAdd(ctx, req)
	case "user del":
		_, err = a.UserDelete(ctx, &pb.AuthUserDeleteRequest{Name: c.str(2)})
	case "user get":
		resp, err := a.UserGet(ctx, &pb.AuthUserGetRequest{Name: c.str(2)})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("roles=%q", resp.Roles), nil
	case "user list":
		resp, err := a.UserList(ctx, &pb.AuthUserListRequest{})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("users=%q", resp.Users), nil
	case "user passwd":
		_, err = a.UserChangePassword(ctx, &pb.AuthUserChangePasswordRequest{Name: c.str(2), Password: c.str(3)})
	case "user grant":
		_, err = a.UserGrantRole(ctx, &pb.AuthUserGrantRoleRequest{User: c.str(2), Role: c.str(3)})
	case "user revoke":
		_, err = a.UserRevokeRole(ctx, &pb.AuthUserRevokeRoleRequest{Name: c.str(2), Role: c.str(3)})
	case "role add":
		_, err = a.RoleAdd(ctx, &pb.AuthRoleAddRequest{Name: c.str(2)})
	case "role del":
		_, err = a.RoleDelete(ctx, &pb.AuthRoleDeleteRequest{Role: c.str(2)})
	case "role get":
		resp, err := a.RoleGet(ctx, &pb.AuthRoleGetRequest{Role: c.str(2)})
		if err != nil {
			return "", err
		}
		return formatPerms(resp.Perm), nil
	case "role list":
		resp, err := a.RoleList(ctx, &pb.AuthRoleListRequest{})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("roles=%q", resp.Roles), nil
	case "role grant":
		_, err = a.RoleGrantPermission(ctx, &pb.AuthRoleGrantPermissionRequest{Name: c.str(2), Perm: c.perm()})
	case "role revoke":
		_, err = a.RoleRevokePermission(ctx, &pb.AuthRoleRevokePermissionRequest{Role: c.str(2), Key: c.bytes(3), RangeEnd: c.bytes(4)})
	default:
		switch c.arg(0) {
		case "login":
			resp, err := a.Authenticate(context.Background(), &pb.AuthenticateRequest{Name: c.str(1), Password: c.str(2)})
			if err != nil {
				return "", err
			}
			slot := c.arg(3)
			if slot == "" {
				slot = c.str(1)
			}
			r.tokens[slot] = resp.Token
			return tokenShape(resp.Token), nil
		case "as":
			r.cur = c.arg(1)
			if r.cur == "none" {
				r.cur = ""
			}
		case "settoken":
			r.cur = c.arg(1)
			r.tokens[r.cur] = c.str(2)
		case "get":
			_, err = r.kv.Range(ctx, &pb.RangeRequest{Key: c.bytes(1), RangeEnd: c.bytes(2)})
		case "put":
			_, err = r.kv.Put(ctx, &pb.PutRequest{Key: c.bytes(1), Value: []byte("v")})
		case "del":
			_, err = r.kv.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: c.bytes(1), RangeEnd: c.bytes(2)})
		case "compact":
			_, err = r.kv.Compact(ctx, &pb.CompactionRequest{Revision: 1})
		case "hash":
			_, err = r.mt.HashKV(ctx, &pb.HashKVRequest{})
		default:
			return "", errors.New("unknown command")
		}
	}
	return "", err
}
