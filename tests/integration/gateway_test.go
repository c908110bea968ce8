package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-kv/cairn/internal/testutil"
)

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s: %q is not JSON", url, data)
	}
	return resp.StatusCode, out
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
