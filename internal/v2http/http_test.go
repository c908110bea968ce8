package v2http_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/cairn-kv/cairn/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/keys.golden from the server under test")

// refURL, when set, points the transcript test at another server (etcd
// 3.5 started fresh with --enable-v2) to record the golden file from it.
var refURL = os.Getenv("CAIRN_V2_REF_URL")

var (
	expirationRE = regexp.MustCompile(`"expiration":"[^"]*","ttl":-?\d+`)
	stripRE      = regexp.MustCompile(`"(id|name)":"[^"]*"|127\.0\.0\.1:\d+|"[a-zA-Z]+(Success|Fail|Count)":\d+|"watchers":\d+`)
)

// TestKeysTranscript replays testdata/keys.script and compares status,
// X-Etcd-Index and body with the transcript recorded from etcd 3.5.
// Expirations and TTLs, member IDs, ports and operation counters vary from
// run to run and are masked.
func TestKeysTranscript(t *testing.T) {
	base := refURL
	if base == "" {
		base = testutil.StartMember(t).ClientURL
	}
	script, err := os.ReadFile("testdata/keys.script")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, line := range strings.Split(string(script), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fmt.Fprintf(&out, "> %s\n", line)
		out.WriteString(do(t, base, line))
	}
	got := out.String()
	if *update {
		if err := os.WriteFile("testdata/keys.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("testdata/keys.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("transcript differs from etcd's (-want +got):\n%s", lineDiff(string(want), got))
	}
}

func do(t *testing.T, base, line string) string {
	t.Helper()
	parts := strings.SplitN(line, " ", 3)
	method, path := parts[0], parts[1]
	var body io.Reader
	ctype := "application/x-www-form-urlencoded"
	if strings.HasSuffix(method, "-JSON") {
		method, ctype = strings.TrimSuffix(method, "-JSON"), "application/json"
	}
	if len(parts) == 3 {
		body = strings.NewReader(parts[2])
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// A watch answers at once here: every one in the script finds its
	// event in the history.
	b, _ := io.ReadAll(bufio.NewReader(resp.Body))
	s := expirationRE.ReplaceAllString(string(b), `"expiration":"<t>","ttl":<n>`)
	s = stripRE.ReplaceAllString(s, "<masked>")
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d", resp.StatusCode)
	for _, h := range []string{"X-Etcd-Index", "Content-Type", "Allow"} {
		if v := resp.Header.Get(h); v != "" {
			fmt.Fprintf(&sb, " %s=%s", h, v)
		}
	}
	sb.WriteString("\n")
	if s != "" {
		sb.WriteString(strings.TrimSuffix(s, "\n") + "\n")
	}
	return sb.String()
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var sb strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			fmt.Fprintf(&sb, "line %d:\n-%s\n+%s\n", i+1, a, b)
		}
	}
	return sb.String()
}
