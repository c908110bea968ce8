package utl

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Golden tests: each case runs one etcdutl command in-process, in a fresh
// directory holding copies of the snapshot files it names, and compares
// stdout, stderr and the exit code, normalized (see normalize), with
// testdata/golden/<case>.txt.
//
// The golden files are the reference etcdutl's real output:
//
//	CAIRN_REF_ETCDUTL=/path/to/etcdutl go test ./internal/utl -run TestGolden -update
//
// rewrites them. With CAIRN_REF_ETCDUTL set (and no -update) every case also
// runs the reference binary, and the test asserts that both outputs are
// equal and that the golden file is current.
var update = flag.Bool("update", false, "rewrite testdata/golden from the reference etcdutl (needs CAIRN_REF_ETCDUTL)")

// The snapshots were taken with the reference etcd; see
// internal/snapshot/etcd_test.go for what they hold.
const fixtures = "../snapshot/testdata"

// result is what one run of a command produced.
type result struct {
	stdout, stderr string
	exit           int
}

// goldenCase is one command run. In args, "{snap:NAME}" is a copy of the
// fixture etcd-3.6.16-NAME.snap (the reference etcdutl hashkv writes to the
// file it reads), "{raw:NAME}" the same without its hash trailer,
// "{badhash:NAME}" with a damaged trailer, and "{text}" a text file; paths
// are relative to the case's directory, which also holds "nonempty/" (a
// directory with a file) and "empty/".
type goldenCase struct {
	name string
	args []string
	// knownDiff, when set, says why our output differs from etcdutl's on
	// purpose; the case is skipped (its golden file is kept current).
	knownDiff string
}

func goldenCases() []goldenCase {
	var cs []goldenCase
	add := func(name string, args ...string) { cs = append(cs, goldenCase{name: name, args: args}) }
	formats := []string{"simple", "json", "table", "fields"}

	add("version", "version")
	add("version_json", "version", "-w", "json")
	add("version_protobuf", "version", "-w", "protobuf")

	for _, snap := range []string{"compacted", "auth-leases", "nospace"} {
		for _, f := range formats {
			add("status_"+snap+"_"+f, "snapshot", "status", "{snap:"+snap+"}", "-w", f)
		}
	}
	add("status_raw_db", "snapshot", "status", "{raw:compacted}")
	add("status_bad_hash", "snapshot", "status", "{badhash:compacted}", "-w", "json")
	add("status_protobuf", "snapshot", "status", "{snap:compacted}", "-w", "protobuf")
	add("status_bad_format", "snapshot", "status", "{snap:compacted}", "-w", "yaml")
	add("status_no_args", "snapshot", "status")
	add("status_two_args", "snapshot", "status", "{snap:compacted}", "{snap:nospace}")
	add("status_missing_file", "snapshot", "status", "missing.db")
	add("status_missing_file_bad_format", "snapshot", "status", "missing.db", "-w", "yaml")
	add("status_text", "snapshot", "status", "{text}")
	add("status_text_bad_format", "snapshot", "status", "{text}", "-w", "yaml")
	add("status_text_protobuf", "snapshot", "status", "{text}", "-w", "protobuf")
	add("status_help", "snapshot", "status", "--help")

	// etcdutl hashkv panics on auth-leases, whose key leased3 has a lease.
	for _, snap := range []string{"compacted", "nospace"} {
		for _, f := range formats {
			add("hashkv_"+snap+"_"+f, "hashkv", "{snap:"+snap+"}", "-w", f)
		}
	}
	for _, rev := range []string{"-1", "0", "1", "4", "5", "6", "10", "16", "20", "21", "22"} {
		add("hashkv_compacted_rev_"+rev, "hashkv", "{snap:compacted}", "--rev", rev)
	}
	for _, rev := range []string{"1", "3", "6", "7"} {
		add("hashkv_nospace_rev_"+rev, "hashkv", "{snap:nospace}", "--rev", rev)
	}
	add("hashkv_raw_db", "hashkv", "{raw:compacted}", "-w", "json")
	add("hashkv_protobuf", "hashkv", "{snap:compacted}", "-w", "protobuf")
	add("hashkv_bad_format", "hashkv", "{snap:compacted}", "--rev", "100", "-w", "yaml")
	add("hashkv_future_rev_json", "hashkv", "{snap:compacted}", "--rev", "100", "-w", "json")
	add("hashkv_no_args", "hashkv")
	add("hashkv_two_args", "hashkv", "{snap:compacted}", "{snap:nospace}")
	add("hashkv_bad_rev", "hashkv", "{snap:compacted}", "--rev", "abc")
	add("hashkv_missing_file", "hashkv", "missing.db", "-w", "protobuf")

	restore := func(name string, args ...string) {
		add("restore_"+name, append([]string{"snapshot", "restore"}, args...)...)
	}
	restore("no_args")
	restore("two_args", "{snap:compacted}", "{snap:nospace}")
	restore("bump_without_mark", "{snap:compacted}", "--bump-revision", "10")
	restore("mark_without_bump", "{snap:compacted}", "--mark-compacted")
	restore("bad_bump", "{snap:compacted}", "--bump-revision", "-1")
	restore("non_empty_data_dir", "{snap:compacted}", "--data-dir", "nonempty")
	restore("data_dir_is_a_file", "{snap:compacted}", "--data-dir", "nonempty/file")
	restore("wal_dir_exists", "{snap:compacted}", "--data-dir", "out", "--wal-dir", "empty")
	restore("unknown_name", "{snap:compacted}", "--data-dir", "out", "--name", "m9")
	restore("bad_cluster", "{snap:compacted}", "--data-dir", "out", "--initial-cluster", "bad")
	restore("bad_scheme", "{snap:compacted}", "--data-dir", "out", "--name", "a", "--initial-cluster", "a=ftp://127.0.0.1:1")
	restore("no_scheme", "{snap:compacted}", "--data-dir", "out", "--name", "a", "--initial-cluster", "a=127.0.0.1:1")
	restore("url_path", "{snap:compacted}", "--data-dir", "out", "--name", "a",
		"--initial-cluster", "a=http://127.0.0.1:1/p", "--initial-advertise-peer-urls", "http://127.0.0.1:1/p")
	restore("no_port", "{snap:compacted}", "--data-dir", "out", "--initial-advertise-peer-urls", "http://127.0.0.1")
	restore("empty_peer_urls", "{snap:compacted}", "--data-dir", "out", "--initial-advertise-peer-urls=")
	restore("peer_urls_differ", "{snap:compacted}", "--data-dir", "out", "--initial-advertise-peer-urls", "http://127.0.0.2:2380")
	restore("peer_urls_fewer", "{snap:compacted}", "--data-dir", "out",
		"--initial-cluster", "default=http://127.0.0.1:1,default=http://127.0.0.1:3", "--initial-advertise-peer-urls", "http://127.0.0.1:0,http://127.0.0.1:1")
	restore("peer_urls_more", "{snap:compacted}", "--data-dir", "out",
		"--initial-cluster", "default=http://127.0.0.1:1", "--initial-advertise-peer-urls", "http://127.0.0.1:1,http://127.0.0.1:2")
	restore("peer_urls_repeated", "{snap:compacted}", "--data-dir", "out",
		"--initial-cluster", "default=http://127.0.0.1:1,default=http://127.0.0.1:1", "--initial-advertise-peer-urls", "http://127.0.0.1:1")
	restore("duplicate_url", "{snap:compacted}", "--data-dir", "out", "--name", "a",
		"--initial-cluster", "a=http://127.0.0.1:1,b=http://127.0.0.1:1,b=http://127.0.0.1:2", "--initial-advertise-peer-urls", "http://127.0.0.1:1")
	restore("missing_file", "missing.db", "--data-dir", "out")
	restore("missing_hash", "{raw:compacted}", "--data-dir", "out")
	restore("bad_hash", "{badhash:compacted}", "--data-dir", "out")
	cs = append(cs, goldenCase{name: "restore_text", args: []string{"snapshot", "restore", "{text}", "--data-dir", "out"},
		knownDiff: "etcdutl fails to seek to the trailer of a file shorter than one (\"seek: invalid argument\"); Cairn's reports the missing hash"})
	restore("help", "--help")
	cs = append(cs, goldenCase{name: "restore_ok", args: []string{"snapshot", "restore", "{snap:compacted}", "--data-dir", "out"},
		knownDiff: "Cairn's etcdutl writes a Cairn data dir and logs its own lines (see TestRestore and tests/integration's snapshot tests)"})

	add("defrag_no_data_dir", "defrag")
	cs = append(cs, goldenCase{name: "defrag_missing_data_dir", args: []string{"defrag", "--data-dir", "missing"},
		knownDiff: "a Cairn data dir has member/, not member/snap/db, and its defrag compacts the engine (see TestDefrag)"})

	add("unknown_command", "foo")
	add("unknown_flag", "version", "--foo")
	add("snapshot_alone", "snapshot")
	add("snapshot_unknown", "snapshot", "foo")
	add("help_snapshot", "help", "snapshot")
	add("completion_no_args", "completion")
	add("completion_bad_shell", "completion", "tcsh")
	cs = append(cs, goldenCase{name: "help", args: []string{"--help"},
		knownDiff: "Cairn's etcdutl has no migrate command: a Cairn data dir has no etcd storage schema to migrate"})
	return cs
}

func TestGolden(t *testing.T) {
	ref := os.Getenv("CAIRN_REF_ETCDUTL")
	if *update && ref == "" {
		t.Fatal("-update needs CAIRN_REF_ETCDUTL: golden files are the reference etcdutl's output")
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
			var theirs result
			if ref != "" {
				theirs = runRef(t, ref, c.args)
				if *update {
					writeGolden(t, path, c, theirs)
				}
				if want, err := readGolden(path); err != nil {
					t.Errorf("golden: %v", err)
				} else if want != theirs {
					t.Errorf("golden file is stale (reference output differs):\n%s", diffResults(want, theirs))
				}
			}
			if c.knownDiff != "" {
				t.Skip("known difference: " + c.knownDiff)
			}
			ours := runOurs(t, c.args)
			want := theirs
			if ref == "" {
				var err error
				if want, err = readGolden(path); err != nil {
					t.Fatalf("golden: %v", err)
				}
			}
			if ours != want {
				t.Errorf("ours differs from etcdutl's:\n%s", diffResults(want, ours))
			}
		})
	}
}

// prepareDir makes a case's directory and returns it with args expanded.
func prepareDir(t *testing.T, args []string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"nonempty", "empty"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "nonempty", "file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	placeholder := regexp.MustCompile(`\{(snap|raw|badhash):([a-z-]+)\}|\{text\}`)
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = placeholder.ReplaceAllStringFunc(a, func(m string) string {
			sub := placeholder.FindStringSubmatch(m)
			if m == "{text}" {
				writeFile(t, filepath.Join(dir, "text.db"), []byte("hello\n"))
				return "text.db"
			}
			data, err := os.ReadFile(filepath.Join(fixtures, "etcd-3.6.16-"+sub[2]+".snap"))
			if err != nil {
				t.Fatal(err)
			}
			switch sub[1] {
			case "raw":
				data = data[:len(data)-32]
			case "badhash":
				data[len(data)-1] ^= 0xff
			}
			name := sub[1] + "-" + sub[2] + ".db"
			writeFile(t, filepath.Join(dir, name), data)
			return name
		})
	}
	return dir, out
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runOurs runs args in-process, in the case's directory. Cases run in
// parallel and the directory is per case, so paths are made absolute and
// the directory's path is normalized away.
func runOurs(t *testing.T, args []string) result {
	dir, args := prepareDir(t, args)
	args = absPaths(dir, args)
	var stdout, stderr bytes.Buffer
	code := Main(Options{Stdout: &stdout, Stderr: &stderr}, args)
	return normalize(result{stdout: stdout.String(), stderr: stderr.String(), exit: code}, dir)
}

// absPaths makes the file arguments of a case absolute: each argument that
// names something in dir, or a path under it that does not exist yet.
func absPaths(dir string, args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "" || strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, a)); err == nil || strings.HasSuffix(a, ".db") || a == "out" {
			out[i] = filepath.Join(dir, a)
		}
	}
	return out
}

func runRef(t *testing.T, ref string, args []string) result {
	dir, args := prepareDir(t, args)
	args = absPaths(dir, args)
	cmd := exec.Command(ref, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", ref, err)
	}
	return normalize(result{stdout: stdout.String(), stderr: stderr.String(), exit: code}, dir)
}

// logLine matches a log line: etcdutl's (zap console: time, level, ...) or
// Cairn's (JSON).
var logLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\S+\t(debug|info|warn|error)\t|\{"time":)`)

// normalize drops log lines from stderr and writes the case's directory as
// "{dir}".
func normalize(r result, dir string) result {
	var kept []string
	for _, l := range strings.SplitAfter(r.stderr, "\n") {
		if !logLine.MatchString(l) {
			kept = append(kept, l)
		}
	}
	r.stderr = strings.Join(kept, "")
	r.stdout = strings.ReplaceAll(r.stdout, dir, "{dir}")
	r.stderr = strings.ReplaceAll(r.stderr, dir, "{dir}")
	return r
}

func writeGolden(t *testing.T, path string, c goldenCase, r result) {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "# etcdutl %s\n", strings.Join(c.args, " "))
	if c.knownDiff != "" {
		fmt.Fprintf(&b, "# known difference: %s\n", c.knownDiff)
	}
	fmt.Fprintf(&b, "exit %d\n", r.exit)
	fmt.Fprintf(&b, "--- stdout %d\n%s\n", len(r.stdout), r.stdout)
	fmt.Fprintf(&b, "--- stderr %d\n%s\n", len(r.stderr), r.stderr)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
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
		fmt.Fprintf(&b, "stdout:\n--- want\n%s\n--- got\n%s\n", want.stdout, got.stdout)
	}
	if want.stderr != got.stderr {
		fmt.Fprintf(&b, "stderr:\n--- want\n%s\n--- got\n%s\n", want.stderr, got.stderr)
	}
	return b.String()
}
