package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-kv/cairn/internal/testutil/freeport"
	"github.com/cairn-kv/cairn/internal/version"
)

// The tests run the etcd binary as a process, built once per test run.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary returns the path of the etcd binary built from this package.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "cairn-etcd-bin-")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(buildDir, "etcd"), ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "etcd")
}

type result struct {
	code           int
	stdout, stderr string
}

// runBinary runs bin with args and exactly env (plus PATH), in dir, and
// kills it after timeout.
func runBinary(t *testing.T, bin, dir string, args, env []string, timeout time.Duration) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		res.code = -1 // still running at the deadline
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("running %s: %v", bin, err)
	}
	return res
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--version", "--election-timeout", "1"}} {
		res := runBinary(t, binary(t), t.TempDir(), args, nil, time.Minute)
		want := fmt.Sprintf("etcd Version: %s\nGit SHA: %s\nGo Version: %s\nGo OS/Arch: %s/%s\nCairn Version: %s\n",
			version.EtcdVersion, version.GitSHA, runtime.Version(), runtime.GOOS, runtime.GOARCH, version.Version)
		if res.code != 0 || res.stdout != want || res.stderr != "" {
			t.Errorf("%q: exit %d, stdout\n%s\nstderr %q; want exit 0 and\n%s", args, res.code, res.stdout, res.stderr, want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}} {
		res := runBinary(t, binary(t), t.TempDir(), args, nil, time.Minute)
		if res.code != 0 || res.stderr != "" {
			t.Errorf("%q: exit %d, stderr %q", args, res.code, res.stderr)
		}
		for _, s := range []string{"Usage:", "--name 'default'", "--initial-cluster 'default=http://localhost:2380'", "--log-format 'json'", "ETCD_",
			"--feature-gates ''", "InitialCorruptCheck=true|false (ALPHA - default=false)", "--experimental-initial-corrupt-check 'false'",
			"--max-concurrent-streams '4294967295'", "--pre-vote 'true'", "Experimental features:", "Unsafe features:"} {
			if !strings.Contains(res.stdout, s) {
				t.Errorf("%q: help lacks %q", args, s)
			}
		}
	}
}

// errorCase is one bad configuration, with what Cairn prints and how etcd
// v3.6 compares. In args and env, {peer} and {client} stand for free local
// ports and {file} for a regular file.
type errorCase struct {
	name     string
	args     []string
	env      []string
	wantCode int
	want     string // the one stderr line, after "etcd: "
	// ref says how etcd's message compares: "" identical, "prefix:<p>"
	// etcd's message starts with p, "code" only the exit status agrees.
	ref string
}

var errorCases = []errorCase{
	{name: "unknown flag", args: []string{"--bogus"},
		wantCode: 2, want: "flag provided but not defined: -bogus"},
	{name: "malformed URL", args: []string{"--listen-client-urls", "localhost:2379"},
		wantCode: 2, want: "invalid value \"localhost:2379\" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: localhost:2379"},
	{name: "URL without port", args: []string{"--listen-client-urls", "http://localhost"},
		wantCode: 2, want: "invalid value \"http://localhost\" for flag -listen-client-urls: URL address does not have the form \"host:port\": http://localhost"},
	{name: "unparsable URL", args: []string{"--initial-advertise-peer-urls", "http://[::1"},
		wantCode: 2, want: "invalid value \"http://[::1\" for flag -initial-advertise-peer-urls: parse \"http://[::1\": missing ']' in host"},
	{name: "not a number", args: []string{"--snapshot-count", "abc"},
		wantCode: 2, want: "invalid value \"abc\" for flag -snapshot-count: parse error"},
	{name: "bad cluster state", args: []string{"--initial-cluster-state", "bogus"},
		wantCode: 2, want: "invalid value \"bogus\" for flag -initial-cluster-state: valid values are new, existing",
		ref: "prefix:invalid value \"bogus\" for flag -initial-cluster-state: "},
	{name: "positional argument", args: []string{"foo"},
		wantCode: 1, want: "\"foo\" is not a valid flag"},
	{name: "name missing from initial cluster",
		args:     []string{"--name", "x", "--initial-cluster", "y=http://localhost:{peer}", "--initial-advertise-peer-urls", "http://localhost:{peer}", "--listen-peer-urls", "http://localhost:{peer}", "--listen-client-urls", "http://localhost:{client}", "--advertise-client-urls", "http://localhost:{client}"},
		wantCode: 1, want: "couldn't find local name \"x\" in the initial cluster configuration"},
	{name: "advertised peer URLs not in initial cluster",
		args:     []string{"--initial-advertise-peer-urls", "http://localhost:{peer}", "--listen-peer-urls", "http://localhost:{peer}", "--listen-client-urls", "http://localhost:{client}", "--advertise-client-urls", "http://localhost:{client}"},
		wantCode: 1, want: "--initial-cluster has default=http://localhost:2380 but missing from --initial-advertise-peer-urls=http://localhost:{peer}",
		// etcd adds the addresses it resolved the host names to.
		ref: "prefix:--initial-cluster has default=http://localhost:2380 but missing from --initial-advertise-peer-urls=http://localhost:{peer} (resolved urls: "},
	{name: "unwritable data dir",
		args:     []string{"--data-dir", "{file}/data", "--listen-peer-urls", "http://localhost:{peer}", "--listen-client-urls", "http://localhost:{client}", "--advertise-client-urls", "http://localhost:{client}"},
		wantCode: 1, want: "cannot access data directory: mkdir {file}: not a directory",
		// etcd: "open {file}/data: not a directory", found later.
		ref: "code"},
	{name: "bad env value", env: []string{"ETCD_SNAPSHOT_COUNT=abc"},
		wantCode: 1, want: "invalid value \"abc\" for ETCD_SNAPSHOT_COUNT: parse error"},
	{name: "bad env URL", env: []string{"ETCD_LISTEN_CLIENT_URLS=foo"},
		wantCode: 1, want: "invalid value \"foo\" for ETCD_LISTEN_CLIENT_URLS: URL scheme must be http, https, unix, or unixs: foo"},
	{name: "env shadowed by flag", args: []string{"--name", "b"}, env: []string{"ETCD_NAME=a"},
		wantCode: 1, want: "conflicting environment variable \"ETCD_NAME\" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)",
		// etcd logs the variable's name as a separate field.
		ref: "prefix:conflicting environment variable is shadowed by corresponding command-line flag"},
	{name: "election timeout below five heartbeats", args: []string{"--election-timeout", "200"},
		wantCode: 1, want: "--election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]"},
	{name: "zero heartbeat", args: []string{"--heartbeat-interval", "0"},
		wantCode: 1, want: "--heartbeat-interval must be >0 (set to 0ms)"},
	{name: "election timeout too long", args: []string{"--election-timeout", "60000"},
		wantCode: 1, want: "--election-timeout[60000ms] is too long, and should be set less than 50000ms"},
	{name: "advertise URLs required", args: []string{"--listen-client-urls", "http://localhost:{client}"},
		wantCode: 1, want: "--advertise-client-urls is required when --listen-client-urls is set explicitly"},
	{name: "capnslog", args: []string{"--logger", "capnslog"},
		wantCode: 1, want: "--logger=capnslog is removed in v3.5"},
	{name: "unknown logger", args: []string{"--logger", "foo"},
		wantCode: 1, want: "unknown logger option \"foo\""},
	{name: "bad log format", args: []string{"--log-format", "xml"},
		wantCode: 1, want: "unknown log format: xml, supported values json, console"},
	{name: "bad log level", args: []string{"--log-level", "loud"},
		wantCode: 1, want: "unknown log level: loud, supported values debug, info, warn, error, panic, fatal",
		// etcd panics (exit 2, with a stack trace).
		ref: "skip"},
	{name: "unopenable log output", args: []string{"--log-outputs", "/nonexistent/x.log"},
		wantCode: 1, want: "open sink \"/nonexistent/x.log\": open /nonexistent/x.log: no such file or directory"},
	{name: "unknown feature gate", args: []string{"--feature-gates=Bogus=true"},
		wantCode: 2, want: "invalid value \"Bogus=true\" for flag -feature-gates: unrecognized feature gate: Bogus"},
	{name: "bad feature gate value", args: []string{"--feature-gates=InitialCorruptCheck=maybe"},
		wantCode: 2, want: "invalid value \"InitialCorruptCheck=maybe\" for flag -feature-gates: invalid value of InitialCorruptCheck=maybe, err: strconv.ParseBool: parsing \"maybe\": invalid syntax"},
	{name: "feature gate without value", args: []string{"--feature-gates=InitialCorruptCheck"},
		wantCode: 2, want: "invalid value \"InitialCorruptCheck\" for flag -feature-gates: missing bool value for InitialCorruptCheck"},
	{name: "unknown feature gate in env", env: []string{"ETCD_FEATURE_GATES=Bogus=true"},
		wantCode: 1, want: "invalid value \"Bogus=true\" for ETCD_FEATURE_GATES: unrecognized feature gate: Bogus"},
	{name: "experimental flag with its successor", args: []string{"--experimental-compaction-batch-limit=5", "--compaction-batch-limit=5"},
		wantCode: 1, want: "cannot set --experimental-compaction-batch-limit and --compaction-batch-limit at the same time, please use --compaction-batch-limit only"},
	{name: "experimental flag with its successor in env", args: []string{"--watch-progress-notify-interval=5s"},
		env:      []string{"ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL=5s"},
		wantCode: 1, want: "cannot set --experimental-watch-progress-notify-interval and --watch-progress-notify-interval at the same time, please use --watch-progress-notify-interval only"},
	{name: "both unary request warning durations", args: []string{"--experimental-warning-unary-request-duration=1s", "--warning-unary-request-duration=2s"},
		wantCode: 1, want: "both --experimental-warning-unary-request-duration and --warning-unary-request-duration flags are set. Use only --warning-unary-request-duration"},
	// etcd 3.6 refuses the gate and its experimental flag together even
	// when they agree; Cairn only when they differ (see internal/config).
	{name: "feature gate against its experimental flag", args: []string{"--feature-gates=InitialCorruptCheck=false", "--experimental-initial-corrupt-check=true"},
		wantCode: 1, want: "cannot specify both flags: --experimental-initial-corrupt-check=true and --feature-gates=InitialCorruptCheck=false at the same time, please just use --feature-gates=InitialCorruptCheck=false"},
	{name: "lease checkpoint persistence alone", args: []string{"--feature-gates=LeaseCheckpointPersist=true"},
		wantCode: 1, want: "enabling feature gate LeaseCheckpointPersist requires enabling feature gate LeaseCheckpoint"},
	{name: "stream limit", args: []string{"--max-concurrent-streams=-1"},
		wantCode: 2, want: "invalid value \"-1\" for flag -max-concurrent-streams: strconv.ParseUint: parsing \"-1\": invalid syntax"},
	{name: "CORS origin", args: []string{"--cors=foo"},
		wantCode: 2, want: "invalid value \"foo\" for flag -cors: URL scheme must be http, https, unix, or unixs: foo"},
	{name: "v2 deprecation stage", args: []string{"--v2-deprecation=not-yet"},
		wantCode: 2, want: "invalid value \"not-yet\" for flag -v2-deprecation: invalid value \"not-yet\""},
	{name: "compact hash check period", args: []string{"--compact-hash-check-time=0"},
		wantCode: 1, want: "--compact-hash-check-time must be >0 (set to 0s)"},
	{name: "discovery fallback proxy", args: []string{"--discovery-fallback=proxy"},
		wantCode: 1, want: "v2 proxy is deprecated, and --discovery-fallback can't be configured as \"proxy\""},
	{name: "discovery", args: []string{"--discovery-srv=example.com"},
		wantCode: 1, want: "discovery is not supported: Cairn bootstraps a cluster from --initial-cluster only; remove --discovery-srv",
		// etcd looks the SRV records up and fails on them (or, with
		// --initial-cluster, on "multiple discovery or bootstrap flags").
		ref: "code"},
	{name: "tracing sampling rate", args: []string{"--enable-distributed-tracing", "--distributed-tracing-sampling-rate=2000000"},
		wantCode: 1, want: "distributed tracing configurition is not valid: (tracing sampling rate must be less than 1000000)"},
	{name: "log rotation without a file", args: []string{"--enable-log-rotation"},
		wantCode: 1, want: "--log-outputs requires a single file path when --log-rotate-config-json is defined"},
	{name: "client HTTP URL names a host", args: []string{"--listen-client-http-urls=http://example.com:1"},
		wantCode: 1, want: "expected IP in URL for binding (http://example.com:1)"},
	{name: "missing config file", args: []string{"--config-file", "/nonexistent/etcd.conf.yml"},
		wantCode: 1, want: "open /nonexistent/etcd.conf.yml: no such file or directory"},
	{name: "missing ETCD_CONFIG_FILE", env: []string{"ETCD_CONFIG_FILE=/nonexistent/etcd.conf.yml"},
		wantCode: 1, want: "open /nonexistent/etcd.conf.yml: no such file or directory"},
}

// freePort returns a local TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	p, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(p)
}

// expand fills the placeholders of an errorCase for one run.
func expand(t *testing.T, tc errorCase) (args, env []string, r *strings.Replacer) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r = strings.NewReplacer("{peer}", freePort(t), "{client}", freePort(t), "{file}", file)
	for _, a := range tc.args {
		args = append(args, r.Replace(a))
	}
	for _, e := range tc.env {
		env = append(env, r.Replace(e))
	}
	return args, env, r
}

// TestConfigErrors checks that each bad configuration fails with a single
// "etcd: " line on stderr, nothing on stdout and etcd's exit status.
func TestConfigErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			args, env, r := expand(t, tc)
			res := runBinary(t, binary(t), t.TempDir(), args, env, time.Minute)
			want := "etcd: " + r.Replace(tc.want) + "\n"
			if res.code != tc.wantCode || res.stderr != want || res.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr\n%s\nwant exit %d, stderr\n%s", res.code, res.stdout, res.stderr, tc.wantCode, want)
			}
		})
	}
}

func TestSeveralErrors(t *testing.T) {
	res := runBinary(t, binary(t), t.TempDir(), []string{"--bogus", "--snapshot-count", "x"}, nil, time.Minute)
	want := "etcd: flag provided but not defined: -bogus\n" +
		"etcd: invalid value \"x\" for flag -snapshot-count: parse error\n"
	if res.code != 2 || res.stderr != want {
		t.Errorf("exit %d, stderr\n%s\nwant exit 2,\n%s", res.code, res.stderr, want)
	}
	res = runBinary(t, binary(t), t.TempDir(), []string{"--election-timeout", "200", "--log-format", "xml"}, nil, time.Minute)
	want = "etcd: --election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]\n" +
		"etcd: unknown log format: xml, supported values json, console\n"
	if res.code != 1 || res.stderr != want {
		t.Errorf("exit %d, stderr\n%s\nwant exit 1,\n%s", res.code, res.stderr, want)
	}
}

// TestServe starts a member with a valid configuration. It must log JSON
// lines, and then either serve until SIGTERM and exit 0, or (while the
// server cannot start) log the error and exit 1.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	client, peer := freePort(t), freePort(t)
	cmd := exec.Command(binary(t),
		"--name", "m1", "--data-dir", filepath.Join(dir, "m1.etcd"),
		"--listen-client-urls", "http://127.0.0.1:"+client, "--advertise-client-urls", "http://127.0.0.1:"+client,
		"--listen-peer-urls", "http://127.0.0.1:"+peer, "--initial-advertise-peer-urls", "http://127.0.0.1:"+peer)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// Read log lines until "ready to serve client requests" or EOF.
	lines := make(chan map[string]any)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				rec = map[string]any{"not-json": sc.Text()}
			}
			lines <- rec
		}
	}()
	var recs []map[string]any
	ready := false
	deadline := time.After(30 * time.Second)
read:
	for {
		select {
		case rec, ok := <-lines:
			if !ok {
				break read
			}
			recs = append(recs, rec)
			if rec["msg"] == "ready to serve client requests" {
				ready = true
				break read
			}
		case <-deadline:
			t.Fatalf("neither ready nor exited within 30s; log so far: %v", recs)
		}
	}
	for _, rec := range recs {
		if _, bad := rec["not-json"]; bad {
			t.Errorf("log line is not JSON: %q", rec["not-json"])
			continue
		}
		for _, k := range []string{"level", "ts", "caller", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("log line lacks %q: %v", k, rec)
			}
		}
	}
	if len(recs) == 0 || recs[0]["msg"] != "starting etcd" || recs[0]["etcd-version"] != version.EtcdVersion {
		t.Errorf("first log line = %v, want the start line with versions", recs)
	}

	if !ready {
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("exited with %v before serving, want status 1", err)
		}
		last := recs[len(recs)-1]
		if last["level"] != "error" || last["msg"] != "cannot start server" {
			t.Fatalf("last log line = %v, want the start error", last)
		}
		t.Logf("server does not start yet (%v); signal handling not exercised", last["error"])
		return
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30s after SIGTERM")
	}
}
