package ctlv2

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Golden tests: each testdata/<name>.script is a list of etcdctl command
// lines run in order against one fresh member; testdata/<name>.golden holds
// what the reference etcdctl (v3.5, ETCDCTL_API=2) printed for each line
// against a fresh etcd 3.5 started with --enable-v2. Here every line runs
// through Main against the real v2 handlers over a fresh v2 store (see
// fakeMember) and must print the same, byte for byte once the parts that
// vary from run to run are masked (see mask).
//
// Record the golden files again with
//
//	CAIRN_REF35_ETCD=/path/to/etcd-3.5 CAIRN_REF35_ETCDCTL=/path/to/etcdctl-3.5 \
//	    go test ./internal/ctlv2 -run TestGolden -update
//
// Script lines: "# comment"; otherwise optional leading NAME=value words
// (environment), then the arguments, shell-quoted with '...' or "...". A
// line starting with "~" compares stdout as a set of lines (etcd lists a
// directory in map order unless asked to sort). "<<< text" at the end feeds
// text and a newline to stdin.
var update = flag.Bool("update", false, "rewrite testdata/*.golden from the reference etcdctl 3.5 (needs CAIRN_REF35_ETCD and CAIRN_REF35_ETCDCTL)")

func TestGolden(t *testing.T) {
	scripts, err := filepath.Glob("testdata/*.script")
	if err != nil {
		t.Fatal(err)
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".script")
		t.Run(name, func(t *testing.T) {
			lines := readScript(t, script)
			goldenPath := strings.TrimSuffix(script, ".script") + ".golden"
			if *update {
				got := runReference(t, lines)
				if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatal(err)
			}
			got := runOurs(t, lines)
			if got != string(want) {
				t.Errorf("output differs from etcdctl 3.5's (-want +got):\n%s", lineDiff(string(want), got))
			}
		})
	}
}

type scriptLine struct {
	text      string
	unordered bool
	env       []string
	args      []string
	stdin     string
	hasStdin  bool
}

var envWord = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`)

func readScript(t *testing.T, path string) []scriptLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []scriptLine
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		sl := scriptLine{text: l}
		if strings.HasPrefix(l, "~") {
			sl.unordered = true
			l = strings.TrimSpace(l[1:])
		}
		if i := strings.Index(l, "<<< "); i >= 0 {
			sl.stdin, sl.hasStdin = l[i+4:]+"\n", true
			l = strings.TrimSpace(l[:i])
		}
		words, err := splitWords(l)
		if err != nil {
			t.Fatalf("%s: %q: %v", path, l, err)
		}
		for len(words) > 0 && envWord.MatchString(words[0]) {
			sl.env = append(sl.env, words[0])
			words = words[1:]
		}
		sl.args = words
		out = append(out, sl)
	}
	return out
}

// splitWords splits a line into words with shell-like single and double
// quotes (no escapes).
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, errors.New("unterminated quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// result is what one command line printed.
type result struct {
	stdout, stderr string
	code           int
}

func runOurs(t *testing.T, lines []scriptLine) string {
	t.Helper()
	f := newFakeMember(t)
	var sb strings.Builder
	for _, l := range lines {
		env := append([]string{"ETCDCTL_API=2", "ETCDCTL_ENDPOINTS=" + f.URL()}, l.env...)
		var stdout, stderr bytes.Buffer
		var stdin io.Reader = strings.NewReader("")
		if l.hasStdin {
			stdin = strings.NewReader(l.stdin)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		code := run(ctx, l.args, env, stdin, &stdout, &stderr)
		cancel()
		writeResult(&sb, l, result{stdout.String(), stderr.String(), code})
	}
	return sb.String()
}

func runReference(t *testing.T, lines []scriptLine) string {
	t.Helper()
	etcd, etcdctl := os.Getenv("CAIRN_REF35_ETCD"), os.Getenv("CAIRN_REF35_ETCDCTL")
	if etcd == "" || etcdctl == "" {
		t.Fatal("-update needs CAIRN_REF35_ETCD and CAIRN_REF35_ETCDCTL (etcd and etcdctl v3.5)")
	}
	url := startReference(t, etcd)
	var sb strings.Builder
	for _, l := range lines {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		cmd := exec.CommandContext(ctx, etcdctl, l.args...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "ETCDCTL_API=2", "ETCDCTL_ENDPOINTS=" + url}, l.env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if l.hasStdin {
			cmd.Stdin = strings.NewReader(l.stdin)
		}
		err := cmd.Run()
		cancel()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", l.text, err)
		}
		writeResult(&sb, l, result{stdout.String(), stderr.String(), code})
	}
	return sb.String()
}

// startReference starts a fresh single-member etcd 3.5 with the v2 API and
// waits until it has published itself (etcd index 3).
func startReference(t *testing.T, bin string) string {
	t.Helper()
	cport, pport := freePort(t), freePort(t)
	curl := "http://127.0.0.1:" + strconv.Itoa(cport)
	purl := "http://127.0.0.1:" + strconv.Itoa(pport)
	cmd := exec.Command(bin, "--name", "m0", "--data-dir", t.TempDir(), "--enable-v2",
		"--listen-client-urls", curl, "--advertise-client-urls", curl,
		"--listen-peer-urls", purl, "--initial-advertise-peer-urls", purl,
		"--initial-cluster", "m0="+purl, "--log-level", "error")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(curl + "/v2/keys/")
		if err == nil {
			resp.Body.Close()
			if resp.Header.Get("X-Etcd-Index") == "3" {
				return curl
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a process we do not control
	}
	t.Fatal("reference etcd did not start")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var masks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`http://127\.0\.0\.1:\d+`), "http://<addr>"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "<addr>"},
	{regexp.MustCompile(`\b[0-9a-f]{13,16}\b`), "<id>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "<time>"},
	{regexp.MustCompile(`\b3\.\d+\.\d+\b`), "<version>"},
	// Remaining TTLs count down while the reference runs.
	{regexp.MustCompile(`"ttl":\d+`), `"ttl":<n>`},
	{regexp.MustCompile(`TTL: [1-9]\d*`), "TTL: <n>"},
}

func mask(s string) string {
	for _, m := range masks {
		s = m.re.ReplaceAllString(s, m.with)
	}
	return s
}

func writeResult(sb *strings.Builder, l scriptLine, r result) {
	fmt.Fprintf(sb, "$ etcdctl %s\n", l.text)
	out := mask(r.stdout)
	if l.unordered {
		ls := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		sort.Strings(ls)
		out = strings.Join(ls, "\n") + "\n"
	}
	writeStream(sb, "| ", out)
	writeStream(sb, "! ", mask(r.stderr))
	fmt.Fprintf(sb, "[exit %d]\n", r.code)
}

func writeStream(sb *strings.Builder, prefix, s string) {
	if s == "" {
		return
	}
	noEOL := !strings.HasSuffix(s, "\n")
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		sb.WriteString(prefix + line + "\n")
	}
	if noEOL {
		sb.WriteString(prefix + "(no newline at end)\n")
	}
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var sb strings.Builder
	n := 0
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
			if n++; n > 40 {
				sb.WriteString("...\n")
				break
			}
		}
	}
	return sb.String()
}
