package bench

import (
	"bytes"
	"strings"
	"testing"
)

// runMain runs the tool with args and returns its exit code and output.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(Options{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown flag", []string{"put", "--bogus"}, "Error: unknown flag: --bogus"},
		{"not a number", []string{"put", "--total", "abc"}, `invalid argument "abc" for "--total" flag`},
		{"zero total", []string{"put", "--total", "0"}, "--total must be at least 1, got 0"},
		{"negative rate", []string{"put", "--rate", "-1"}, "--rate must not be negative"},
		{"negative value size", []string{"put", "--val-size", "-1"}, "--val-size must not be negative"},
		{"key space too big for the key", []string{"put", "--key-size", "2", "--key-space-size", "1000"}, "--key-size 2 is too small for --key-space-size 1000"},
		{"negative compact delta", []string{"put", "--compact-index-delta", "-5"}, "--compact-index-delta must not be negative"},
		{"positional argument", []string{"put", "foo"}, `put takes no arguments, got ["foo"]`},
		{"range without key", []string{"range"}, "range takes a key and an optional end of range, got 0 argument(s)"},
		{"range with three args", []string{"range", "a", "b", "c"}, "got 3 argument(s)"},
		{"bad consistency", []string{"range", "foo", "--consistency", "x"}, `--consistency must be l (linearizable) or s (serializable), got "x"`},
		{"negative limit", []string{"range", "foo", "--limit", "-1"}, "--limit must not be negative"},
		{"txn ops over key space", []string{"txn-put", "--txn-ops", "2"}, "--txn-ops (2) must not exceed --key-space-size (1)"},
		{"zero txn ops", []string{"txn-put", "--txn-ops", "0"}, "--txn-ops must be at least 1"},
		{"negative rw ratio", []string{"txn-mixed", "--rw-ratio", "-1"}, "--rw-ratio must be a finite number"},
		{"txn-mixed bad consistency", []string{"txn-mixed", "--consistency", "q"}, "--consistency must be l"},
		{"zero streams", []string{"watch", "--streams", "0"}, "--streams must be at least 1"},
		{"zero watched keys", []string{"watch", "--watched-key-total", "0"}, "--watched-key-total must be at least 1"},
		{"zero watchers per stream", []string{"watch-latency", "--watchers-per-stream", "0"}, "watchers per stream must be at least 1"},
		{"zero put total", []string{"watch-latency", "--put-total", "0"}, "--put-total must be at least 1"},
		{"lease zero total", []string{"lease-keepalive", "--total", "0"}, "--total must be at least 1"},
		{"zero clients", []string{"--clients", "0", "put"}, "--clients must be at least 1"},
		{"zero conns", []string{"--conns", "0", "range", "a"}, "--conns must be at least 1"},
		{"cert without key", []string{"--cert", "c.pem", "put"}, "--cert and --key must be given together"},
		{"unknown command", []string{"bogus"}, `unknown command "bogus" for "benchmark"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tt.args...)
			if code != ExitError {
				t.Errorf("exit code %d, want %d", code, ExitError)
			}
			if !strings.HasPrefix(stderr, "Error: ") || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr = %q, want an Error: line with %q", stderr, tt.wantErr)
			}
			if !strings.Contains(stderr, "--help' for usage.") {
				t.Errorf("stderr = %q, want a usage hint", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestUnreachableEndpoint(t *testing.T) {
	code, _, stderr := runMain(t, "--endpoints", "127.0.0.1:1", "--dial-timeout", "200ms", "put", "--total", "1")
	if code != ExitError || !strings.Contains(stderr, "Error: cannot reach 127.0.0.1:1") {
		t.Errorf("code %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "for usage") {
		t.Errorf("a run error is not a usage error: %q", stderr)
	}
}

// TestDefaults pins the flag defaults to etcd's benchmark tool's.
func TestDefaults(t *testing.T) {
	root := NewRootCommand(Options{})
	want := map[string]map[string]string{
		"": {
			"endpoints": "[127.0.0.1:2379]", "clients": "1", "conns": "1", "dial-timeout": "0s",
			"precise": "false", "sample": "false", "target-leader": "false", "user": "",
		},
		"put": {
			"total": "10000", "key-size": "8", "val-size": "8", "key-space-size": "1", "sequential-keys": "false",
			"rate": "0", "compact-interval": "0s", "compact-index-delta": "1000",
		},
		"range":           {"consistency": "l", "limit": "0", "total": "10000", "rate": "0"},
		"txn-put":         {"total": "10000", "key-size": "8", "val-size": "8", "key-space-size": "1", "txn-ops": "1"},
		"txn-mixed":       {"total": "10000", "rw-ratio": "1", "limit": "1000", "consistency": "l", "end-key": ""},
		"watch":           {"streams": "10", "watch-per-stream": "100", "watched-key-total": "1", "put-total": "1000", "key-size": "32", "key-space-size": "1"},
		"watch-latency":   {"put-total": "1000", "put-rate": "100", "streams": "10", "watchers-per-stream": "10", "key-size": "32", "val-size": "32"},
		"lease-keepalive": {"total": "10000"},
	}
	for name, flags := range want {
		cmd := root
		if name != "" {
			var err error
			if cmd, _, err = root.Find([]string{name}); err != nil || cmd.Name() != name {
				t.Fatalf("no %s command: %v", name, err)
			}
		}
		for flag, def := range flags {
			f := cmd.Flags().Lookup(flag)
			if f == nil {
				f = cmd.PersistentFlags().Lookup(flag)
			}
			if f == nil {
				t.Errorf("%s: no --%s flag", name, flag)
				continue
			}
			if f.DefValue != def {
				t.Errorf("%s --%s defaults to %q, want %q", name, flag, f.DefValue, def)
			}
		}
	}
}
