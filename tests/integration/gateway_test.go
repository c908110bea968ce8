package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/server"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// post posts a JSON body to url and decodes the JSON answer.
func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	return gwCall(t, url, "", body, "")
}

// TestJSONGateway runs etcd's curl recipes: base64 keys, int64 as strings,
// proto field names, gRPC errors as {code, message}.
func TestJSONGateway(t *testing.T) {
	m := testutil.StartMember(t)
	u := m.ClientURL
	if code, out := post(t, u+"/v3/kv/put", `{"key": "Zm9v", "value": "YmFy"}`); code != 200 || out["header"].(map[string]any)["revision"] != "2" {
		t.Fatalf("put: %d %v", code, out)
	}
	code, out := post(t, u+"/v3/kv/range", `{"key": "Zm9v"}`)
	kvs, _ := out["kvs"].([]any)
	if code != 200 || len(kvs) != 1 || kvs[0].(map[string]any)["value"] != "YmFy" || out["count"] != "1" {
		t.Fatalf("range: %d %v", code, out)
	}
	if _, out := post(t, u+"/v3beta/kv/range", `{"key": "Zm9v"}`); out["count"] != "1" {
		t.Fatalf("v3beta alias: %v", out)
	}
	code, out = post(t, u+"/v3/kv/range", `{"key": "Zm9v", "revision": 100}`)
	if code != 400 || out["message"] != "etcdserver: mvcc: required revision is a future revision" || out["code"] != float64(11) {
		t.Fatalf("future revision: %d %v", code, out)
	}
	if code, out := post(t, u+"/v3/kv/range", `{}`); out["message"] != "etcdserver: key is not provided" {
		t.Fatalf("empty key: %d %v", code, out)
	}
	if _, out := post(t, u+"/v3/lease/grant", `{"TTL": 30}`); out["TTL"] != "30" {
		t.Fatalf("lease grant: %v", out)
	}
	if _, out := post(t, u+"/v3/maintenance/status", `{}`); out["version"] == nil {
		t.Fatalf("status: %v", out)
	}
	if _, out := post(t, u+"/v3/cluster/member/list", `{}`); len(out["members"].([]any)) != 1 {
		t.Fatalf("member list: %v", out)
	}
	if _, out := post(t, u+"/v3/kv/txn", `{"compare":[{"key":"Zm9v","target":"VALUE","value":"YmFy"}],"success":[{"request_delete_range":{"key":"Zm9v"}}]}`); out["succeeded"] != true {
		t.Fatalf("txn: %v", out)
	}
}

// gwCall posts body to path on the member's gateway, with the auth token
// in the Authorization header when token is set, as etcd's curl recipes
// send it.
func gwCall(t *testing.T, base, path, body, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s: %q is not JSON", base+path, data)
	}
	return resp.StatusCode, out
}

// gwStream posts body to a streaming path and returns a decoder of the
// {"result": ...} messages it streams, closed when the test ends.
func gwStream(t *testing.T, ctx context.Context, base, path, body string, token ...string) *json.Decoder {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(token) > 0 {
		req.Header.Set("Authorization", token[0])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body)
}

// nextResult decodes the next streamed message's result.
func nextResult(t *testing.T, dec *json.Decoder) map[string]any {
	t.Helper()
	var msg map[string]any
	if err := dec.Decode(&msg); err != nil {
		t.Fatalf("stream: %v", err)
	}
	res, ok := msg["result"].(map[string]any)
	if !ok {
		t.Fatalf("stream message without a result: %v", msg)
	}
	return res
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestJSONGatewayKVAndWatch: puts, prefix ranges, deletes with prev_kv and
// compaction through the gateway, and a watch that streams the events of
// later puts as newline-separated JSON messages.
func TestJSONGatewayKVAndWatch(t *testing.T) {
	m := testutil.StartMember(t)
	u := m.ClientURL
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	watch := gwStream(t, ctx, u, "/v3/watch", fmt.Sprintf(`{"create_request": {"key": %q, "range_end": %q, "prev_kv": true}}`, b64("app/"), b64("app0")))
	if created := nextResult(t, watch); created["created"] != true {
		t.Fatalf("watch create: %v", created)
	}
	for i, kv := range [][2]string{{"app/a", "1"}, {"app/b", "2"}, {"app/a", "3"}, {"other", "x"}} {
		code, out := gwCall(t, u, "/v3/kv/put", fmt.Sprintf(`{"key": %q, "value": %q}`, b64(kv[0]), b64(kv[1])), "")
		if code != 200 || out["header"].(map[string]any)["revision"] != fmt.Sprint(i+2) {
			t.Fatalf("put %v: %d %v", kv, code, out)
		}
	}
	// The watch sees the three app/ puts, the last with its previous value.
	var seen []string
	for len(seen) < 3 {
		res := nextResult(t, watch)
		for _, e := range res["events"].([]any) {
			ev := e.(map[string]any)
			kv := ev["kv"].(map[string]any)
			s := fmt.Sprintf("%s=%s@%s", kv["key"], kv["value"], kv["mod_revision"])
			if prev, ok := ev["prev_kv"].(map[string]any); ok {
				s += " prev=" + prev["value"].(string)
			}
			seen = append(seen, s)
		}
	}
	want := []string{b64("app/a") + "=" + b64("1") + "@2", b64("app/b") + "=" + b64("2") + "@3", b64("app/a") + "=" + b64("3") + "@4 prev=" + b64("1")}
	if !slices.Equal(seen, want) {
		t.Fatalf("watch events %q, want %q", seen, want)
	}
	code, out := gwCall(t, u, "/v3/kv/range", fmt.Sprintf(`{"key": %q, "range_end": %q, "keys_only": true}`, b64("app/"), b64("app0")), "")
	if code != 200 || out["count"] != "2" || len(out["kvs"].([]any)) != 2 || out["kvs"].([]any)[0].(map[string]any)["value"] != nil {
		t.Fatalf("prefix range, keys only: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/kv/deleterange", fmt.Sprintf(`{"key": %q, "prev_kv": true}`, b64("app/b")), "")
	if prev, _ := out["prev_kvs"].([]any); code != 200 || out["deleted"] != "1" || len(prev) != 1 {
		t.Fatalf("delete with prev_kv: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/kv/compaction", `{"revision": 4, "physical": true}`, ""); code != 200 {
		t.Fatalf("compaction: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/kv/range", fmt.Sprintf(`{"key": %q, "revision": 3}`, b64("app/a")), "")
	if code != 400 || out["message"] != "etcdserver: mvcc: required revision has been compacted" || out["code"] != float64(codes.OutOfRange) {
		t.Fatalf("range below the compaction: %d %v", code, out)
	}
}

// TestJSONGatewayLeaseClusterMaintenance covers the lease, cluster and
// maintenance paths, including the streaming keepalive and snapshot.
func TestJSONGatewayLeaseClusterMaintenance(t *testing.T) {
	m := testutil.StartMember(t)
	u := m.ClientURL
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	code, out := gwCall(t, u, "/v3/lease/grant", `{"TTL": 60, "ID": 4096}`, "")
	if code != 200 || out["ID"] != "4096" || out["TTL"] != "60" {
		t.Fatalf("lease grant: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/kv/put", fmt.Sprintf(`{"key": %q, "value": %q, "lease": 4096}`, b64("leased"), b64("v")), ""); code != 200 {
		t.Fatalf("put with lease: %d %v", code, out)
	}
	keepalive := gwStream(t, ctx, u, "/v3/lease/keepalive", `{"ID": 4096}`)
	if res := nextResult(t, keepalive); res["ID"] != "4096" || res["TTL"] != "60" {
		t.Fatalf("keepalive: %v", res)
	}
	for _, path := range []string{"/v3/lease/timetolive", "/v3/kv/lease/timetolive"} {
		code, out := gwCall(t, u, path, `{"ID": 4096, "keys": true}`, "")
		keys, _ := out["keys"].([]any)
		if code != 200 || out["grantedTTL"] != "60" || len(keys) != 1 || keys[0] != b64("leased") {
			t.Fatalf("%s: %d %v", path, code, out)
		}
	}
	if code, out := gwCall(t, u, "/v3/lease/leases", `{}`, ""); code != 200 || len(out["leases"].([]any)) != 1 {
		t.Fatalf("leases: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/lease/revoke", `{"ID": 4096}`, ""); code != 200 {
		t.Fatalf("revoke: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/kv/lease/revoke", `{"ID": 4096}`, "")
	if code != 404 || out["message"] != "etcdserver: requested lease not found" {
		t.Fatalf("second revoke: %d %v", code, out)
	}
	if _, out := gwCall(t, u, "/v3/kv/range", fmt.Sprintf(`{"key": %q}`, b64("leased")), ""); out["count"] != nil {
		t.Fatalf("key of a revoked lease: %v", out)
	}

	// Cluster: add a learner, see it listed, fail to promote it (it never
	// started) and to remove a member that does not exist, remove it.
	code, out = gwCall(t, u, "/v3/cluster/member/add", `{"peerURLs": ["http://127.0.0.1:1"], "isLearner": true}`, "")
	added, _ := out["member"].(map[string]any)
	if code != 200 || added == nil || added["isLearner"] != true {
		t.Fatalf("member add: %d %v", code, out)
	}
	if _, out := gwCall(t, u, "/v3/cluster/member/list", `{}`, ""); len(out["members"].([]any)) != 2 {
		t.Fatalf("member list: %v", out)
	}
	code, out = gwCall(t, u, "/v3/cluster/member/promote", fmt.Sprintf(`{"ID": %q}`, added["ID"]), "")
	if code != 400 || out["message"] != "etcdserver: can only promote a learner member which is in sync with leader" {
		t.Fatalf("promote: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/cluster/member/remove", `{"ID": "12345"}`, "")
	if code != 404 || out["message"] != "etcdserver: member not found" {
		t.Fatalf("remove of an unknown member: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/cluster/member/remove", fmt.Sprintf(`{"ID": %q}`, added["ID"]), ""); code != 200 || len(out["members"].([]any)) != 1 {
		t.Fatalf("member remove: %d %v", code, out)
	}

	// Maintenance.
	code, out = gwCall(t, u, "/v3/maintenance/status", `{}`, "")
	if code != 200 || out["version"] == nil || out["dbSize"] == nil || out["leader"] == nil {
		t.Fatalf("status: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/maintenance/alarm", `{"action": "GET"}`, ""); code != 200 || out["alarms"] != nil {
		t.Fatalf("alarm get: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/maintenance/hash", `{}`, ""); code != 200 || out["hash"] == nil {
		t.Fatalf("hash: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/maintenance/hashkv", `{"revision": 0}`, ""); code != 200 || out["hash"] == nil || out["hash_revision"] == nil {
		t.Fatalf("hashkv: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/maintenance/defragment", `{}`, ""); code != 200 {
		t.Fatalf("defragment: %d %v", code, out)
	}
	snap := gwStream(t, ctx, u, "/v3/maintenance/snapshot", `{}`)
	var db, sum []byte
	for {
		var msg map[string]any
		if err := snap.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("snapshot stream: %v", err)
		}
		res := msg["result"].(map[string]any)
		blob, err := base64.StdEncoding.DecodeString(res["blob"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if res["remaining_bytes"] == nil && len(blob) == sha256.Size && sum == nil && len(db) > 0 {
			sum = blob
			continue
		}
		db = append(db, blob...)
	}
	if want := sha256.Sum256(db); len(db) == 0 || !bytes.Equal(sum, want[:]) {
		t.Fatalf("snapshot over the gateway: %d bytes, checksum %x, want %x", len(db), sum, want)
	}
}

// TestJSONGatewayAuth: etcd's auth recipe over curl: create root, enable
// auth, authenticate for a token and send it in the Authorization header.
func TestJSONGatewayAuth(t *testing.T) {
	m := testutil.StartMember(t)
	u := m.ClientURL
	for _, step := range [][2]string{
		{"/v3/auth/user/add", `{"name": "root", "password": "pass"}`},
		{"/v3/auth/role/add", `{"name": "root"}`},
		{"/v3/auth/user/grant", `{"user": "root", "role": "root"}`},
		{"/v3/auth/user/add", `{"name": "reader", "password": "rpass"}`},
		{"/v3/auth/role/add", `{"name": "readonly"}`},
		{"/v3/auth/role/grant", fmt.Sprintf(`{"name": "readonly", "perm": {"permType": "READ", "key": %q, "range_end": %q}}`, b64("pub/"), b64("pub0"))},
		{"/v3/auth/user/grant", `{"user": "reader", "role": "readonly"}`},
		{"/v3/kv/put", fmt.Sprintf(`{"key": %q, "value": %q}`, b64("pub/x"), b64("1"))},
		{"/v3/auth/enable", `{}`},
	} {
		if code, out := gwCall(t, u, step[0], step[1], ""); code != 200 {
			t.Fatalf("%s: %d %v", step[0], code, out)
		}
	}
	code, out := gwCall(t, u, "/v3/kv/range", fmt.Sprintf(`{"key": %q}`, b64("pub/x")), "")
	if code != 400 || out["message"] != "etcdserver: user name is empty" {
		t.Fatalf("range without a token: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/auth/authenticate", `{"name": "root", "password": "wrong"}`, "")
	if code != 400 || out["message"] != "etcdserver: authentication failed, invalid user ID or password" {
		t.Fatalf("bad password: %d %v", code, out)
	}
	token := func(name, password string) string {
		code, out := gwCall(t, u, "/v3/auth/authenticate", fmt.Sprintf(`{"name": %q, "password": %q}`, name, password), "")
		tok, _ := out["token"].(string)
		if code != 200 || tok == "" {
			t.Fatalf("authenticate %s: %d %v", name, code, out)
		}
		return tok
	}
	rootTok, readerTok := token("root", "pass"), token("reader", "rpass")
	if code, out := gwCall(t, u, "/v3/kv/range", fmt.Sprintf(`{"key": %q}`, b64("pub/x")), readerTok); code != 200 || out["count"] != "1" {
		t.Fatalf("reader's range: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/kv/put", fmt.Sprintf(`{"key": %q, "value": %q}`, b64("pub/x"), b64("2")), readerTok)
	if code != 403 || out["message"] != "etcdserver: permission denied" {
		t.Fatalf("reader's put: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/kv/range", fmt.Sprintf(`{"key": %q}`, b64("pub/x")), "not-a-token")
	if code != 401 || out["message"] != "etcdserver: invalid auth token" {
		t.Fatalf("range with a bad token: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/auth/user/list", `{}`, rootTok)
	if users, _ := out["users"].([]any); code != 200 || len(users) != 2 {
		t.Fatalf("user list: %d %v", code, out)
	}
	code, out = gwCall(t, u, "/v3/auth/role/get", `{"role": "readonly"}`, rootTok)
	if perms, _ := out["perm"].([]any); code != 200 || len(perms) != 1 || perms[0].(map[string]any)["key"] != b64("pub/") {
		t.Fatalf("role get: %d %v", code, out)
	}
	// A watch stream carries the token too: the reader watches what it may
	// read and sees root's write.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	watch := gwStream(t, ctx, u, "/v3/watch", fmt.Sprintf(`{"create_request": {"key": %q, "range_end": %q}}`, b64("pub/"), b64("pub0")), readerTok)
	if created := nextResult(t, watch); created["created"] != true {
		t.Fatalf("reader's watch: %v", created)
	}
	if code, out := gwCall(t, u, "/v3/kv/put", fmt.Sprintf(`{"key": %q, "value": %q}`, b64("pub/y"), b64("3")), rootTok); code != 200 {
		t.Fatalf("root's put: %d %v", code, out)
	}
	if res := nextResult(t, watch); len(res["events"].([]any)) != 1 {
		t.Fatalf("reader's watch event: %v", res)
	}
	if code, out := gwCall(t, u, "/v3/auth/status", `{}`, rootTok); code != 200 || out["enabled"] != true {
		t.Fatalf("auth status: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/auth/disable", `{}`, rootTok); code != 200 {
		t.Fatalf("auth disable: %d %v", code, out)
	}
	if code, out := gwCall(t, u, "/v3/kv/range", fmt.Sprintf(`{"key": %q}`, b64("pub/x")), ""); code != 200 || out["count"] != "1" {
		t.Fatalf("range after auth disable: %d %v", code, out)
	}
}

// TestSameURLForGRPCAndHTTPRefused: an address given in both
// --listen-client-urls and --listen-client-http-urls is refused, as etcd
// refuses it, before the data dir is created.
func TestSameURLForGRPCAndHTTPRefused(t *testing.T) {
	u := freeURL(t, "http")
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []url.URL{u}, []url.URL{u}
	cfg.ListenClientHTTPURLs = []url.URL{{Scheme: "https", Host: u.Host}}
	cfg.ListenPeerURLs = []url.URL{freeURL(t, "http")}
	srv, err := server.New(cfg, testutil.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Start(ctx)
	want := "cannot bind both --listen-client-urls and --listen-client-http-urls on the same url https://" + u.Host
	if err == nil || err.Error() != want {
		srv.Close()
		t.Fatalf("start: %v, want %q", err, want)
	}
	if _, err := os.Stat(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir after the refusal: %v", err)
	}
}
