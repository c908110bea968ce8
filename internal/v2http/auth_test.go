package v2http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/authpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// authCall is one request to the v2 API with optional basic auth
// credentials ("user:password") and a raw body; it returns the status and
// the decoded JSON body (nil when there is none).
func authCall(t *testing.T, method, u, creds, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/json")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user, pass, ok := strings.Cut(creds, ":"); ok {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp.StatusCode, nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: body %q: %v", method, u, raw, err)
	}
	return resp.StatusCode, out
}

// expect checks a call's status and, when want names fields, their values
// (compared through their JSON form).
func expect(t *testing.T, what string, status int, body map[string]any, wantStatus int, want map[string]any) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("%s: status %d, want %d (body %v)", what, status, wantStatus, body)
		return
	}
	for k, v := range want {
		got, _ := json.Marshal(body[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("%s: %s = %s, want %s", what, k, got, exp)
		}
	}
}

// TestAuthUsersAndRoles drives /v2/auth: the root user and role, users and
// roles with grants and revokes, the errors for each wrong request, and
// that it all is the v3 auth store seen through v2.
func TestAuthUsersAndRoles(t *testing.T) {
	m := testutil.StartMember(t)
	base := m.ClientURL + "/v2/auth"

	st, b := authCall(t, "GET", base+"/enable", "", "")
	expect(t, "auth status", st, b, 200, map[string]any{"enabled": false})
	st, b = authCall(t, "PUT", base+"/enable", "", "")
	expect(t, "enable without root", st, b, 400, map[string]any{"message": "auth: No root user available, please create one"})

	st, b = authCall(t, "PUT", base+"/users/root", "", `{"user":"root","password":"rootpw"}`)
	expect(t, "add root", st, b, 201, map[string]any{"user": "root", "roles": []string{"root"}})
	st, b = authCall(t, "PUT", base+"/users/alice", "", `{"user":"alice"}`)
	expect(t, "add user without password", st, b, 400, map[string]any{"message": "auth: Cannot create user alice with an empty password"})
	st, b = authCall(t, "PUT", base+"/users/alice", "", `{"user":"alice","password":"pw"}`)
	expect(t, "add alice", st, b, 201, map[string]any{"user": "alice"})
	st, b = authCall(t, "PUT", base+"/users/bob", "", `{"user":"bob","password":"pw","roles":["nosuch"]}`)
	expect(t, "add user with unknown role", st, b, 404, map[string]any{"message": "auth: Role nosuch does not exist."})

	st, b = authCall(t, "PUT", base+"/roles/reader", "", `{"role":"reader"}`)
	expect(t, "add role", st, b, 201, map[string]any{"role": "reader"})
	st, b = authCall(t, "PUT", base+"/roles/reader", "", `{"role":"reader"}`)
	expect(t, "add role twice", st, b, 409, map[string]any{"message": "auth: Role reader already exists."})
	st, b = authCall(t, "PUT", base+"/roles/root", "", `{"role":"root","grant":{"kv":{"read":["/x"]}}}`)
	expect(t, "modify root role", st, b, 403, map[string]any{"message": "auth: Cannot modify role root: is root role."})
	st, b = authCall(t, "PUT", base+"/roles/reader", "", `{"role":"reader","grant":{"kv":{"read":["/app/*","/app/inbox/*","/motd"],"write":["/app/inbox/*"]}}}`)
	expect(t, "grant permissions", st, b, 200, map[string]any{
		"permissions": map[string]any{"kv": map[string]any{"read": []string{"/app/*", "/app/inbox/*", "/motd"}, "write": []string{"/app/inbox/*"}}},
	})
	st, b = authCall(t, "PUT", base+"/roles/reader", "", `{"role":"reader","revoke":{"kv":{"read":["/app/inbox/*"]}}}`)
	expect(t, "revoke read, keep write", st, b, 200, map[string]any{
		"permissions": map[string]any{"kv": map[string]any{"read": []string{"/app/*", "/motd"}, "write": []string{"/app/inbox/*"}}},
	})
	st, b = authCall(t, "PUT", base+"/roles/reader", "", `{"role":"reader","revoke":{"kv":{"read":["/nothing"]}}}`)
	expect(t, "revoke nothing", st, b, 400, map[string]any{"message": "auth: Role not updated. Use grant/revoke to update the role."})

	st, b = authCall(t, "PUT", base+"/users/alice", "", `{"user":"alice","grant":["reader"]}`)
	expect(t, "grant role", st, b, 200, map[string]any{"user": "alice", "roles": []string{"reader"}})
	st, b = authCall(t, "PUT", base+"/users/alice", "", `{"user":"alice","grant":["reader"],"revoke":["reader"]}`)
	expect(t, "grant and revoke at once", st, b, 400, map[string]any{"message": "auth: Can't grant and revoke in the same request"})
	st, b = authCall(t, "PUT", base+"/users/nobody", "", `{"user":"nobody","grant":["reader"]}`)
	expect(t, "grant to unknown user", st, b, 404, map[string]any{"message": "auth: User nobody does not exist."})
	st, b = authCall(t, "DELETE", base+"/users/nobody", "", "")
	expect(t, "delete unknown user", st, b, 404, map[string]any{"message": "auth: User nobody does not exist"})
	st, b = authCall(t, "DELETE", base+"/roles/nosuch", "", "")
	expect(t, "delete unknown role", st, b, 404, map[string]any{"message": "auth: Role nosuch doesn't exist."})
	st, b = authCall(t, "PUT", base+"/users/alice", "", `not json`)
	expect(t, "bad body", st, b, 400, nil)
	st, b = authCall(t, "POST", base+"/users/alice", "", "")
	expect(t, "bad method", st, b, 405, nil)

	st, b = authCall(t, "GET", base+"/users/alice", "", "")
	expect(t, "get user", st, b, 200, map[string]any{"user": "alice", "roles": []map[string]any{{
		"role":        "reader",
		"permissions": map[string]any{"kv": map[string]any{"read": []string{"/app/*", "/motd"}, "write": []string{"/app/inbox/*"}}},
	}}})
	st, b = authCall(t, "GET", base+"/roles", "", "")
	if st != 200 || len(b["roles"].([]any)) != 2 {
		t.Errorf("list roles: %d %v, want reader and root", st, b)
	}

	// The same users and roles, seen through v3.
	cli := m.Client(t)
	ctx := context.Background()
	u, err := cli.UserGet(ctx, "alice")
	if err != nil || !slices.Equal(u.Roles, []string{"reader"}) {
		t.Fatalf("v3 UserGet alice: %v %v", u, err)
	}
	r, err := cli.RoleGet(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	var perms []string
	for _, p := range r.Perm {
		perms = append(perms, authpb.Permission_Type_name[int32(p.PermType)]+" "+string(p.Key)+" "+string(p.RangeEnd))
	}
	slices.Sort(perms)
	want := []string{"READ /app/ /app0", "READ /motd ", "WRITE /app/inbox/ /app/inbox0"}
	if !slices.Equal(perms, want) {
		t.Errorf("v3 role reader: %q, want %q", perms, want)
	}

	st, b = authCall(t, "PUT", base+"/users/alice", "", `{"user":"alice","revoke":["reader"]}`)
	expect(t, "revoke role", st, b, 200, map[string]any{"user": "alice", "roles": []string{}})
	st, b = authCall(t, "PUT", base+"/users/alice", "", `{"user":"alice","revoke":["reader"]}`)
	expect(t, "revoke ungranted role", st, b, 409, map[string]any{"message": "auth: Revoking ungranted role reader for user alice"})
	st, b = authCall(t, "DELETE", base+"/roles/reader", "", "")
	expect(t, "delete role", st, b, 200, nil)
	if _, err := cli.RoleGet(ctx, "reader"); err == nil {
		t.Error("role reader still exists in v3 after its v2 delete")
	}
}

// TestAuthKeyPermissions enables auth through /v2/auth and checks that
// /v2/keys then takes basic auth with the users' passwords and obeys their
// key permissions, that /v2/auth itself is root only, and that disabling
// auth opens the keys again. As in etcd, "/app/*" covers the keys under
// /app/ but not /app itself: a recursive request on /app, or an in-order
// POST to it, needs "/app*".
func TestAuthKeyPermissions(t *testing.T) {
	m := testutil.StartMember(t)
	base := m.ClientURL + "/v2"
	set(t, m.ClientURL, "/app/conf", url.Values{"value": {"c"}})
	set(t, m.ClientURL, "/secret", url.Values{"value": {"s"}})
	set(t, m.ClientURL, "/data/x", url.Values{"value": {"d"}})
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/auth/users/root", `{"user":"root","password":"rootpw"}`},
		{"PUT", "/auth/users/alice", `{"user":"alice","password":"alicepw"}`},
		{"PUT", "/auth/roles/app", `{"role":"app"}`},
		{"PUT", "/auth/roles/app", `{"role":"app","grant":{"kv":{"read":["/app*","/data/*"],"write":["/app/inbox*"]}}}`},
		{"PUT", "/auth/users/alice", `{"user":"alice","grant":["app"]}`},
	} {
		if st, b := authCall(t, c.method, base+c.path, "", c.body); st >= 300 {
			t.Fatalf("%s %s: %d %v", c.method, c.path, st, b)
		}
	}
	st, b := authCall(t, "PUT", base+"/auth/enable", "", "")
	expect(t, "enable", st, b, 200, nil)
	st, b = authCall(t, "GET", base+"/auth/enable", "", "")
	expect(t, "status after enable", st, b, 200, map[string]any{"enabled": true})

	denied := map[string]any{"errorCode": 110, "message": "The request requires user authentication", "cause": "Insufficient credentials"}
	for _, c := range []struct {
		name, method, path, creds, body string
		status                          int
	}{
		{"anonymous read", "GET", "/keys/app/conf", "", "", 401},
		{"wrong password", "GET", "/keys/app/conf", "alice:nope", "", 401},
		{"unknown user", "GET", "/keys/app/conf", "mallory:x", "", 401},
		{"read under a read prefix", "GET", "/keys/app/conf", "alice:alicepw", "", 200},
		{"read of the prefix's directory", "GET", "/keys/app", "alice:alicepw", "", 200},
		{"read outside the prefixes", "GET", "/keys/secret", "alice:alicepw", "", 401},
		{"write with only read", "PUT", "/keys/app/conf", "alice:alicepw", "value=x", 401},
		{"write under a write prefix", "PUT", "/keys/app/inbox/m1", "alice:alicepw", "value=hi", 201},
		{"in-order create under a write prefix", "POST", "/keys/app/inbox", "alice:alicepw", "value=q", 201},
		{"recursive read of the whole prefix", "GET", "/keys/app?recursive=true", "alice:alicepw", "", 200},
		{"recursive read above the prefix", "GET", "/keys/?recursive=true", "alice:alicepw", "", 401},
		{"read of a key under /data/*", "GET", "/keys/data/x", "alice:alicepw", "", 200},
		{"recursive read of /data with only /data/*", "GET", "/keys/data?recursive=true", "alice:alicepw", "", 401},
		{"recursive delete with a write prefix", "DELETE", "/keys/app/inbox?recursive=true", "alice:alicepw", "", 200},
		{"delete without write", "DELETE", "/keys/app/conf", "alice:alicepw", "", 401},
		{"watch without read", "GET", "/keys/secret?wait=true", "alice:alicepw", "", 401},
		{"root reads anything", "GET", "/keys/secret", "root:rootpw", "", 200},
		{"root writes anything", "PUT", "/keys/secret", "root:rootpw", "value=s2", 200},
	} {
		st, b := authCall(t, c.method, base+c.path, c.creds, c.body)
		if c.status == 401 {
			expect(t, c.name, st, b, 401, denied)
		} else {
			expect(t, c.name, st, b, c.status, nil)
		}
	}

	for _, creds := range []string{"", "alice:alicepw", "root:wrong"} {
		st, b := authCall(t, "GET", base+"/auth/users", creds, "")
		expect(t, "list users as "+creds, st, b, 401, map[string]any{"message": "Insufficient credentials"})
		st, b = authCall(t, "DELETE", base+"/auth/enable", creds, "")
		expect(t, "disable as "+creds, st, b, 401, map[string]any{"message": "Insufficient credentials"})
	}
	st, b = authCall(t, "GET", base+"/auth/users", "root:rootpw", "")
	if st != 200 || len(b["users"].([]any)) != 2 {
		t.Errorf("list users as root: %d %v", st, b)
	}

	// v3 requests need a token now; v2's writes are not visible to v3.
	cli := m.Client(t)
	if _, err := cli.Get(context.Background(), "/app/conf"); err == nil {
		t.Error("anonymous v3 read succeeded with auth enabled")
	}
	root, err := clientv3.New(clientv3.Config{Endpoints: []string{m.Endpoint}, Username: "root", Password: "rootpw"})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if resp, err := root.Get(context.Background(), "", clientv3.WithFromKey(), clientv3.WithCountOnly()); err != nil || resp.Count != 0 {
		t.Errorf("v3 key space after v2 writes: %v %v, want empty", resp, err)
	}

	st, b = authCall(t, "DELETE", base+"/auth/enable", "root:rootpw", "")
	expect(t, "disable as root", st, b, 200, nil)
	st, b = authCall(t, "GET", base+"/keys/secret", "", "")
	expect(t, "anonymous read after disable", st, b, 200, nil)
}
