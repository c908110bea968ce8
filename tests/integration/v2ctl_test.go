package integration

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cairn-kv/cairn/internal/ctl"
	"github.com/cairn-kv/cairn/internal/ctlv2"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// v2ctl runs etcdctl's v2 command set (what ETCDCTL_API=2 etcdctl runs)
// against endpoints and returns its exit code, stdout and stderr.
func v2ctl(t *testing.T, endpoints string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := ctlv2.Main(append([]string{"--endpoints", endpoints}, args...), []string{"ETCDCTL_API=2"}, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func mustV2ctl(t *testing.T, endpoints, want string, args ...string) {
	t.Helper()
	code, out, errs := v2ctl(t, endpoints, args...)
	if code != 0 || out != want {
		t.Fatalf("etcdctl %s: exit %d, stdout %q (want %q), stderr %q", strings.Join(args, " "), code, out, want, errs)
	}
}

// TestV2CtlCluster runs the v2 etcdctl against a 3-member cluster: a write
// through one member is read through the others (with --quorum and
// without), directories and TTLs behave, users and roles made with the v2
// commands then guard the keys, and the data survives a restart of every
// member in turn.
func TestV2CtlCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	ep := func(i int) string { return c.Members[i].ClientURL }

	mustV2ctl(t, ep(0), "bar\n", "set", "/dir/foo", "bar")
	mustV2ctl(t, ep(1), "bar\n", "get", "--quorum", "/dir/foo")
	mustV2ctl(t, ep(2), "/dir/foo\n", "ls", "--quorum", "/dir")
	mustV2ctl(t, ep(1), "", "mkdir", "/dir/sub")
	mustV2ctl(t, ep(2), "/dir/foo\n/dir/sub\n", "ls", "--sort", "--quorum", "/dir")
	if code, _, errs := v2ctl(t, ep(0), "rmdir", "/dir"); code == 0 || !strings.Contains(errs, "Directory not empty") {
		t.Errorf("rmdir of a non-empty dir: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := v2ctl(t, ep(2), "mk", "/dir/foo", "again"); code != 4 || !strings.Contains(errs, "Key already exists") {
		t.Errorf("mk of an existing key: exit %d, stderr %q", code, errs)
	}
	mustV2ctl(t, ep(0), "baz\n", "set", "--swap-with-value", "bar", "/dir/foo", "baz")
	if code, _, errs := v2ctl(t, ep(1), "set", "--swap-with-value", "bar", "/dir/foo", "qux"); code != 4 || !strings.Contains(errs, "Compare failed") {
		t.Errorf("swap with a stale value: exit %d, stderr %q", code, errs)
	}

	// v2 users and roles are the cluster's v3 ones; with auth on, the v2
	// commands need --username and obey the role's permissions.
	mustV2ctl(t, ep(0), "User root created\n", "user", "add", "root:rootpw")
	mustV2ctl(t, ep(1), "Role app created\n", "role", "add", "app")
	mustV2ctl(t, ep(2), "Role app updated\n", "role", "grant", "--read", "--path", "/dir/*", "app")
	mustV2ctl(t, ep(0), "User alice created\n", "user", "add", "alice:alicepw")
	mustV2ctl(t, ep(1), "User alice updated\n", "user", "grant", "--roles", "app", "alice")
	mustV2ctl(t, ep(2), "Authentication Enabled\n", "auth", "enable")
	// A get without --quorum is served by member 0 from what it applied,
	// which may be a moment behind member 2's "auth enable".
	var code int
	var errs string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code, _, errs = v2ctl(t, ep(0), "get", "/dir/foo"); code != 0 {
			break
		}
	}
	if code == 0 || !strings.Contains(errs, "Insufficient credentials") {
		t.Errorf("anonymous get with auth on: exit %d, stderr %q", code, errs)
	}
	mustV2ctl(t, ep(1), "baz\n", "--username", "alice:alicepw", "get", "/dir/foo")
	if code, _, errs := v2ctl(t, ep(2), "--username", "alice:alicepw", "set", "/dir/foo", "x"); code == 0 || !strings.Contains(errs, "Insufficient credentials") {
		t.Errorf("write with read-only role: exit %d, stderr %q", code, errs)
	}
	mustV2ctl(t, ep(0), "Authentication Disabled\n", "--username", "root:rootpw", "auth", "disable")

	for _, m := range c.Members { // a rolling restart: each from its data dir
		m.Stop()
		m.Restart(t)
	}
	mustV2ctl(t, ep(2), "baz\n", "get", "--quorum", "/dir/foo")
	mustV2ctl(t, ep(0), "/dir/foo\n/dir/sub\n", "ls", "--sort", "/dir")
}

// TestEtcdctlAPIVersionsRefuseEachOther: each command set answers a
// command that exists only in the other with its usual unknown-command
// error and a line that names the ETCDCTL_API to use.
func TestEtcdctlAPIVersionsRefuseEachOther(t *testing.T) {
	m := testutil.StartMember(t)

	code, out, errs := v2ctl(t, m.ClientURL, "put", "k", "v")
	if code != 3 || out != "" || errs != "No help topic for 'put'\n\"put\" is a command of etcdctl's v3 API: run it with ETCDCTL_API=3, or without ETCDCTL_API\n" {
		t.Errorf("v2 put: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	var stdout, stderr bytes.Buffer
	code = ctl.Main(ctl.Options{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Environ: []string{}},
		[]string{"--endpoints=" + m.Endpoint, "mkdir", "/d"})
	if code != 1 || !strings.Contains(stderr.String(), "Error: unknown command \"mkdir\" for \"etcdctl\"") ||
		!strings.Contains(stderr.String(), "\"mkdir\" is a command of etcdctl's v2 API: run it with ETCDCTL_API=2\n") {
		t.Errorf("v3 mkdir: exit %d, stderr %q", code, stderr.String())
	}
	// Neither command reached the server.
	if code, _, errs := v2ctl(t, m.ClientURL, "ls", "/"); code != 0 || errs != "" {
		t.Errorf("v2 ls: exit %d, stderr %q", code, errs)
	}
	resp, err := m.Client(t).Get(t.Context(), "k")
	if err != nil || len(resp.Kvs) != 0 {
		t.Errorf("v3 get k: %v %v, want no key", resp, err)
	}
}
