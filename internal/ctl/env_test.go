package ctl

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

// newTestCLI builds a command tree and parses args into its flags without
// running anything.
func newTestCLI(t *testing.T, environ []string, args ...string) (*cli, *bytes.Buffer) {
	t.Helper()
	var stderr bytes.Buffer
	root := NewRootCommand(Options{Stdout: &bytes.Buffer{}, Stderr: &stderr, Environ: environ})
	if err := root.PersistentFlags().Parse(args); err != nil {
		t.Fatal(err)
	}
	c := &cli{opts: Options{Stderr: &stderr, Environ: environ}, root: root}
	return c, &stderr
}

// logLines decodes the JSON log lines on w.
func logLines(t *testing.T, w *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(w.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a log line: %q", l)
		}
		out = append(out, m)
	}
	return out
}

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		args    []string
		check   func(t *testing.T, root *flagValues)
		exit    int      // 0: no error
		logs    []string // level:environment-variable of each log line
	}{
		{
			name:    "fills unset flags",
			environ: []string{"ETCDCTL_ENDPOINTS=a:1,b:2", "ETCDCTL_HEX=true", "ETCDCTL_DIAL_TIMEOUT=3s", "ETCDCTL_WRITE_OUT=json", "PATH=/bin"},
			check: func(t *testing.T, v *flagValues) {
				if v.get("endpoints") != "[a:1,b:2]" || v.get("hex") != "true" || v.get("dial-timeout") != "3s" || v.get("write-out") != "json" {
					t.Errorf("got %v", v)
				}
			},
		},
		{
			name:    "bad values are no error and zero the flag",
			environ: []string{"ETCDCTL_HEX=bogus", "ETCDCTL_DIAL_TIMEOUT=xx"},
			check: func(t *testing.T, v *flagValues) {
				if v.get("hex") != "false" || v.get("dial-timeout") != "0s" {
					t.Errorf("got %v", v)
				}
			},
		},
		{
			name:    "explicit flag and variable conflict",
			environ: []string{"ETCDCTL_ENDPOINTS=a:1"},
			args:    []string{"--endpoints=b:2"},
			exit:    ExitError,
			logs:    []string{"fatal:ETCDCTL_ENDPOINTS"},
		},
		{
			name:    "conflict even when equal",
			environ: []string{"ETCDCTL_WRITE_OUT=json"},
			args:    []string{"-w", "json"},
			exit:    ExitError,
			logs:    []string{"fatal:ETCDCTL_WRITE_OUT"},
		},
		{
			name:    "empty variable is unset, and unrecognized",
			environ: []string{"ETCDCTL_HEX="},
			args:    []string{"--hex"},
			logs:    []string{"warn:ETCDCTL_HEX="},
		},
		{
			name:    "unknown and command flags are unrecognized",
			environ: []string{"ETCDCTL_BOGUS=1", "ETCDCTL_PREFIX=true", "ETCDCTL_API=3", "ETCDCTL_API_X=1"},
			logs:    []string{"warn:ETCDCTL_BOGUS=1", "warn:ETCDCTL_PREFIX=true", "warn:ETCDCTL_API_X=1"},
		},
		{
			name:    "other API versions are unrecognized",
			environ: []string{"ETCDCTL_API=4"},
			logs:    []string{"warn:ETCDCTL_API=4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, stderr := newTestCLI(t, tt.environ, tt.args...)
			err := applyEnv(c.root.PersistentFlags(), tt.environ, newLogger(stderr, zapcore.InfoLevel))
			if code := exitCode(err); (tt.exit == 0 && err != nil) || (tt.exit != 0 && code != tt.exit) {
				t.Fatalf("got %v (exit %d), want exit %d", err, code, tt.exit)
			}
			var logs []string
			for _, m := range logLines(t, stderr) {
				logs = append(logs, m["level"].(string)+":"+m["environment-variable"].(string))
			}
			if strings.Join(logs, " ") != strings.Join(tt.logs, " ") {
				t.Errorf("logs %q, want %q", logs, tt.logs)
			}
			if tt.check != nil {
				tt.check(t, &flagValues{c})
			}
		})
	}
}

type flagValues struct{ c *cli }

func (v *flagValues) get(name string) string {
	return v.c.root.PersistentFlags().Lookup(name).Value.String()
}

func (v *flagValues) String() string {
	var b strings.Builder
	writeDebugEnv(&b, v.c.root.PersistentFlags())
	return b.String()
}

func TestConflictMessage(t *testing.T) {
	c, stderr := newTestCLI(t, []string{"ETCDCTL_ENDPOINTS=a:1"}, "--endpoints=b:2")
	applyEnv(c.root.PersistentFlags(), c.opts.Environ, newLogger(stderr, zapcore.InfoLevel))
	m := logLines(t, stderr)[0]
	want := "conflicting environment variable is shadowed by corresponding command-line flag (either unset environment variable or disable flag))"
	if m["msg"] != want || m["level"] != "fatal" {
		t.Errorf("got %v", m)
	}
	if _, err := time.Parse(time.RFC3339Nano, m["ts"].(string)); err != nil {
		t.Errorf("ts: %v", err)
	}
}

// The listing --debug starts with, as etcdctl 3.6 prints it for
// ETCDCTL_ENDPOINTS=127.0.0.1:23790 and --debug.
func TestDebugEnvListing(t *testing.T) {
	c, _ := newTestCLI(t, nil, "--debug", "--endpoints=127.0.0.1:23790")
	var b strings.Builder
	writeDebugEnv(&b, c.root.PersistentFlags())
	want := `ETCDCTL_CACERT=
ETCDCTL_CERT=
ETCDCTL_COMMAND_TIMEOUT=5s
ETCDCTL_DEBUG=true
ETCDCTL_DIAL_TIMEOUT=2s
ETCDCTL_DISCOVERY_SRV=
ETCDCTL_DISCOVERY_SRV_NAME=
ETCDCTL_ENDPOINTS=[127.0.0.1:23790]
ETCDCTL_HEX=false
ETCDCTL_INSECURE_DISCOVERY=true
ETCDCTL_INSECURE_SKIP_TLS_VERIFY=false
ETCDCTL_INSECURE_TRANSPORT=true
ETCDCTL_KEEPALIVE_TIME=2s
ETCDCTL_KEEPALIVE_TIMEOUT=6s
ETCDCTL_KEY=
ETCDCTL_MAX_RECV_BYTES=0
ETCDCTL_MAX_REQUEST_BYTES=0
ETCDCTL_PASSWORD=
ETCDCTL_USER=
ETCDCTL_WRITE_OUT=simple
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestAPIVersion(t *testing.T) {
	tests := []struct {
		environ []string
		exit    int
		stderr  string
	}{
		{[]string{"ETCDCTL_API=2"}, ExitBadFeature, "Error: ETCDCTL_API=2 selects the v2 command set, which the etcdctl binary runs; this is the v3 command set: unset ETCDCTL_API or set it to 3 to use it\n"},
		{[]string{"ETCDCTL_API=3"}, ExitSuccess, ""},
		{[]string{}, ExitSuccess, ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Main(Options{Stdout: &stdout, Stderr: &stderr, Environ: tt.environ}, []string{"version"})
		if code != tt.exit || stderr.String() != tt.stderr {
			t.Errorf("%v: exit %d, stderr %q", tt.environ, code, stderr.String())
		}
	}
}

// A command's own ETCDCTL_* variables (watch's key and range end) are not
// reported as unrecognized; the other commands do report them.
func TestApplyEnvCommandOwn(t *testing.T) {
	environ := []string{"ETCDCTL_WATCH_KEY=foo", "ETCDCTL_BOGUS=1"}
	for _, tt := range []struct {
		known []string
		want  []string
	}{
		{nil, []string{"ETCDCTL_WATCH_KEY=foo", "ETCDCTL_BOGUS=1"}},
		{[]string{envWatchKey, envWatchRangeEnd}, []string{"ETCDCTL_BOGUS=1"}},
	} {
		c, stderr := newTestCLI(t, environ)
		if err := applyEnv(c.root.PersistentFlags(), environ, newLogger(stderr, zapcore.InfoLevel), tt.known...); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range logLines(t, stderr) {
			got = append(got, m["environment-variable"].(string))
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("known %q: warned about %q, want %q", tt.known, got, tt.want)
		}
	}
}
