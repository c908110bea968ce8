package ctl

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Golden tests: each case writes a fixed history on a fresh server, runs one
// etcdctl command in-process and compares stdout, stderr and the exit code,
// normalized (see normalize), with testdata/golden/<case>.txt.
//
// The golden files are the reference etcdctl's real output:
//
//	CAIRN_TEST_ETCD=/path/to/etcd CAIRN_REF_ETCDCTL=/path/to/etcdctl \
//	    go test ./internal/ctl -run TestGolden -update
//
// runs each case with the reference etcdctl against the reference etcd and
// rewrites the files. With CAIRN_REF_ETCDCTL set (and no -update) every case
// also runs the reference binary, on a second fresh server, and asserts that
// both outputs are equal and that the golden file is current.
var update = flag.Bool("update", false, "rewrite testdata/golden from the reference etcdctl (needs CAIRN_REF_ETCDCTL and CAIRN_TEST_ETCD)")

// result is what one run of a command produced.
type result struct {
	stdout, stderr string
	exit           int
}

// step is one write of a case's history.
type step func(ctx context.Context, cl *clientv3.Client) error

func put(k, v string) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.Put(ctx, k, v)
		return err
	}
}

func del(k string) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.Delete(ctx, k)
		return err
	}
}

func compact(rev int64) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.Compact(ctx, rev, clientv3.WithCompactPhysical())
		return err
	}
}

// testLease is granted with a fixed ID, so outputs do not vary.
const testLease = 0x694d77aa9e38260f

func grant(id int64) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := pb.NewLeaseClient(cl.ActiveConnection()).LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: id, TTL: 3600})
		return err
	}
}

func putLease(k, v string, id int64) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.Put(ctx, k, v, clientv3.WithLease(clientv3.LeaseID(id)))
		return err
	}
}

// base is the history most cases start from: revisions 2 to 11, a key
// updated (foo), one deleted and re-created (b), a binary key and value.
var base = []step{
	put("a", "1"),               // 2
	put("b", "2"),               // 3
	put("foo", "bar"),           // 4
	put("foo1", "bar1"),         // 5
	put("foo2", "bar 2"),        // 6
	put("foo", "bar2"),          // 7
	put("k\x01\n", "v\xff\t\""), // 8
	put("zoo", "zv"),            // 9
	del("b"),                    // 10
	put("b", "3"),               // 11
}

// withLease adds a lease and a key attached to it (revision 12).
var withLease = append(append([]step{}, base...), grant(testLease), putLease("lk", "lv", testLease))

// goldenCase is one command run.
type goldenCase struct {
	name    string
	history []step
	// args follow "--endpoints=<server>", unless raw is set; "{ep}" in args
	// and env is replaced by the server's endpoint, "{tmp}" by a temporary
	// directory.
	args  []string
	raw   bool
	stdin string
	env   []string
	// noServer cases fail before connecting; they run against a closed port.
	noServer bool
	// knownDiff, when set, says why our output cannot match yet; the case
	// is skipped (its golden file is still kept current).
	knownDiff string
	// settled waits until the server reports its final storage version;
	// etcd 3.6 reports "3.5.0" for its first seconds.
	settled bool
	// vars, when set, runs after the history and names values the history
	// cannot fix in advance (the ID of a member it added): "{name}" in args
	// and env is replaced by each.
	vars func(ctx context.Context, cl *clientv3.Client) (map[string]string, error)
	// script, when set, runs the command in the background and drives it
	// (see golden_script_test.go): long-running commands are watched for
	// their output, fed writes and input, and interrupted. It is called once
	// per run, so that its steps can keep state.
	script func() []action
	// masks rewrite what legitimately differs from run to run in this
	// case's output (server-assigned lease and member IDs, remaining TTLs),
	// on both sides and in the golden file; see masks_test.go.
	masks []mask
}

// normalize is the generic normalization followed by the case's masks.
func (c goldenCase) normalize(r result, vars map[string]string) result {
	r = normalize(r)
	for _, m := range c.masks {
		r.stdout = m(r.stdout, vars)
		r.stderr = m(r.stderr, vars)
	}
	return r
}

func TestGolden(t *testing.T) {
	refCtl := os.Getenv("CAIRN_REF_ETCDCTL")
	if *update && (refCtl == "" || os.Getenv("CAIRN_TEST_ETCD") == "") {
		t.Fatal("-update needs CAIRN_REF_ETCDCTL and CAIRN_TEST_ETCD: golden files are the reference etcdctl's output against the reference etcd")
	}
	seen := map[string]bool{}
	for _, c := range goldenCases() {
		if seen[c.name] {
			t.Fatalf("duplicate case %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", "golden", c.name+".txt")
			if c.knownDiff != "" {
				if *update {
					writeGolden(t, path, c, runRef(t, c, refCtl))
				}
				t.Skip("known difference: " + c.knownDiff)
			}
			ours := runOurs(t, c)
			if refCtl != "" {
				theirs := runRef(t, c, refCtl)
				if *update {
					writeGolden(t, path, c, theirs)
				}
				if want, err := readGolden(path); err != nil {
					t.Errorf("golden: %v", err)
				} else if want != theirs {
					t.Errorf("golden file is stale (reference output differs):\n%s", diffResults(want, theirs))
				}
				if ours != theirs {
					t.Errorf("ours differs from the reference etcdctl:\n%s", diffResults(theirs, ours))
				}
				return
			}
			want, err := readGolden(path)
			if err != nil {
				t.Fatalf("golden: %v", err)
			}
			if ours != want {
				t.Errorf("ours differs from %s:\n%s", path, diffResults(want, ours))
			}
		})
	}
}

// prepared is a case ready to run: its server holds the history.
type prepared struct {
	ep        string // the server's endpoint
	args, env []string
	vars      map[string]string
}

// prepareCase starts the case's server and writes its history; it returns
// the endpoint, args and env to run with.
func prepareCase(t *testing.T, c goldenCase) prepared {
	t.Helper()
	pc := prepared{ep: "127.0.0.1:1", vars: map[string]string{}}
	if !c.noServer {
		pc.ep = startServer(t)
		if c.settled {
			waitStorageVersion(t, pc.ep)
		}
		if len(c.history) > 0 || c.vars != nil {
			cl := testClient(t, pc.ep)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for i, s := range c.history {
				if err := s(ctx, cl); err != nil {
					t.Fatalf("history step %d: %v", i, err)
				}
			}
			if c.vars != nil {
				vars, err := c.vars(ctx, cl)
				if err != nil {
					t.Fatalf("vars: %v", err)
				}
				pc.vars = vars
			}
		}
	}
	pc.vars["ep"] = pc.ep
	pc.vars["tmp"] = t.TempDir()
	expand := func(s string) string {
		for k, v := range pc.vars {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	if !c.raw {
		pc.args = append(pc.args, "--endpoints="+pc.ep)
	}
	for _, a := range c.args {
		pc.args = append(pc.args, expand(a))
	}
	for _, e := range c.env {
		pc.env = append(pc.env, expand(e))
	}
	if pc.env == nil {
		pc.env = []string{} // not the test process's environment
	}
	return pc
}

// runOurs runs the case with our etcdctl, in-process, and returns its
// normalized result.
func runOurs(t *testing.T, c goldenCase) result {
	pc := prepareCase(t, c)
	if c.script != nil {
		return c.normalize(runScript(t, pc, c.script(), func() running { return startOurs(pc) }), pc.vars)
	}
	var stdout, stderr bytes.Buffer
	code := Main(Options{
		Stdin:   strings.NewReader(c.stdin),
		Stdout:  &stdout,
		Stderr:  &stderr,
		Environ: pc.env,
		Sleep:   func(time.Duration) {},
	}, pc.args)
	return c.normalize(result{stdout: stdout.String(), stderr: stderr.String(), exit: code}, pc.vars)
}

// runRef runs the case with the reference etcdctl and returns its
// normalized result.
func runRef(t *testing.T, c goldenCase, bin string) result {
	pc := prepareCase(t, c)
	if c.script != nil {
		return c.normalize(runScript(t, pc, c.script(), func() running { return startRef(t, bin, pc) }), pc.vars)
	}
	args, env := pc.args, pc.env
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(c.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code, err := exitStatus(cmd.Run())
	if err != nil {
		t.Fatal(err)
	}
	return c.normalize(result{stdout: stdout.String(), stderr: stderr.String(), exit: code}, pc.vars)
}

// exitStatus is the status a shell would report for a process that ended
// with err: its exit code, or 128 plus the signal that killed it.
func exitStatus(err error) (int, error) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// Golden file layout:
//
//	# etcdctl <args>
//	# stdin: "<Go-quoted>"        (when there is one)
//	# env: <entries>              (when there are any)
//	# script: <action>            (one per action of a scripted case)
//	exit <code>
//	--- stdout <n>               (n raw bytes follow, then a newline)
//	--- stdout quoted            (or: one Go-quoted line, for binary output)
//	--- stderr <n>
func writeGolden(t *testing.T, path string, c goldenCase, r result) {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "# etcdctl %s\n", strings.Join(c.args, " "))
	if c.stdin != "" {
		fmt.Fprintf(&b, "# stdin: %q\n", c.stdin)
	}
	if len(c.env) > 0 {
		fmt.Fprintf(&b, "# env: %s\n", strings.Join(c.env, " "))
	}
	if c.script != nil {
		for _, a := range c.script() {
			fmt.Fprintf(&b, "# script: %v\n", a)
		}
	}
	fmt.Fprintf(&b, "exit %d\n", r.exit)
	writeStream(&b, "stdout", r.stdout)
	writeStream(&b, "stderr", r.stderr)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < ' ' && r != '\n' && r != '\t' {
			return false
		}
	}
	return true
}

func writeStream(b *bytes.Buffer, name, s string) {
	if printable(s) {
		fmt.Fprintf(b, "--- %s %d\n%s\n", name, len(s), s)
		return
	}
	fmt.Fprintf(b, "--- %s quoted\n%s\n", name, strconv.Quote(s))
}

func readGolden(path string) (result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return result{}, err
	}
	s := string(data)
	for strings.HasPrefix(s, "#") {
		_, s, _ = strings.Cut(s, "\n")
	}
	var r result
	line, s, _ := strings.Cut(s, "\n")
	if _, err := fmt.Sscanf(line, "exit %d", &r.exit); err != nil {
		return result{}, fmt.Errorf("%s: bad exit line %q", path, line)
	}
	if r.stdout, s, err = readStream(s, "stdout"); err != nil {
		return result{}, fmt.Errorf("%s: %v", path, err)
	}
	if r.stderr, _, err = readStream(s, "stderr"); err != nil {
		return result{}, fmt.Errorf("%s: %v", path, err)
	}
	return r, nil
}

func readStream(s, name string) (content, rest string, err error) {
	head, s, _ := strings.Cut(s, "\n")
	arg, ok := strings.CutPrefix(head, "--- "+name+" ")
	if !ok {
		return "", "", fmt.Errorf("want --- %s, got %q", name, head)
	}
	if arg == "quoted" {
		line, rest, _ := strings.Cut(s, "\n")
		content, err := strconv.Unquote(line)
		return content, rest, err
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n+1 > len(s) {
		return "", "", fmt.Errorf("bad length in %q", head)
	}
	return s[:n], s[n+1:], nil
}

func diffResults(want, got result) string {
	var b strings.Builder
	if want.exit != got.exit {
		fmt.Fprintf(&b, "exit: want %d, got %d\n", want.exit, got.exit)
	}
	if want.stdout != got.stdout {
		fmt.Fprintf(&b, "stdout:\n--- want\n%s\n--- got\n%s\n", quoteIfBinary(want.stdout), quoteIfBinary(got.stdout))
	}
	if want.stderr != got.stderr {
		fmt.Fprintf(&b, "stderr:\n--- want\n%s\n--- got\n%s\n", quoteIfBinary(want.stderr), quoteIfBinary(got.stderr))
	}
	return b.String()
}

func quoteIfBinary(s string) string {
	if printable(s) {
		return s
	}
	return strconv.Quote(s)
}

// TestGoldenFilesHaveCases keeps testdata/golden free of files no case
// writes any more.
func TestGoldenFilesHaveCases(t *testing.T) {
	names := map[string]bool{}
	for _, c := range goldenCases() {
		names[c.name] = true
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := strings.TrimSuffix(e.Name(), ".txt"); !names[name] {
			t.Errorf("testdata/golden/%s has no case", e.Name())
		}
	}
}
