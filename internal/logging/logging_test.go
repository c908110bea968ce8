package logging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-kv/cairn/internal/config"
)

func TestNewOutputs(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	if err := os.WriteFile(a, []byte("kept\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.LogOutputs = []string{a, b, a}
	cfg.LogLevel = "warn"
	lg, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lg.Info("dropped")
	lg.Warn("kept", "k", 1)

	for _, p := range []string{a, b} {
		out, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.TrimPrefix(string(out), "kept\n") // a is appended to
		recs := parseLines(t, []byte(s))
		if len(recs) != 1 || recs[0]["msg"] != "kept" || recs[0]["level"] != "warn" {
			t.Errorf("%s holds %q, want one warn record", filepath.Base(p), out)
		}
	}
}

func TestNewConsole(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.log")
	cfg := config.Default()
	cfg.LogOutputs = []string{p}
	cfg.LogFormat = "console"
	cfg.LogLevel = "debug"
	lg, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lg.Debug("hello", "k", "v")
	out, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(strings.TrimSuffix(string(out), "\n"), "\t")
	if len(f) != 5 || f[1] != "debug" || f[3] != "hello" || f[4] != `{"k": "v"}` {
		t.Errorf("console line = %q", out)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *config.Config)
		want   string
	}{
		{"unopenable output", func(c *config.Config) { c.LogOutputs = []string{"/nonexistent/dir/x.log"} },
			`open sink "/nonexistent/dir/x.log": open /nonexistent/dir/x.log: no such file or directory`},
		{"empty output", func(c *config.Config) { c.LogOutputs = []string{""} },
			`open sink "": open : no such file or directory`},
		{"bad level", func(c *config.Config) { c.LogLevel = "loud" },
			"unknown log level: loud, supported values debug, info, warn, error, panic, fatal"},
		{"bad format", func(c *config.Config) { c.LogFormat = "xml" },
			"unknown log format: xml, supported values json, console"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			tt.modify(cfg)
			_, err := New(cfg)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New() error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestOpenOutputsStandardStreams(t *testing.T) {
	for _, names := range [][]string{nil, {"default"}, {"stderr"}, {"default", "stderr"}} {
		w, err := openOutputs(names)
		if err != nil || w != os.Stderr {
			t.Errorf("openOutputs(%q) = %v, %v; want os.Stderr", names, w, err)
		}
	}
	if w, err := openOutputs([]string{"stdout"}); err != nil || w != os.Stdout {
		t.Errorf("openOutputs(stdout) = %v, %v; want os.Stdout", w, err)
	}
	if w, err := openOutputs([]string{"stdout", "stderr"}); err != nil || w == os.Stdout || w == os.Stderr {
		t.Errorf("openOutputs(stdout, stderr) = %v, %v; want both", w, err)
	}
}
