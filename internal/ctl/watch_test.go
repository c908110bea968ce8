package ctl

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

func TestBeforeCommand(t *testing.T) {
	tests := []struct {
		name          string
		args, command []string
		want          []string
	}{
		{"no command", []string{"a", "b"}, nil, []string{"a", "b"}},
		{"key and command", []string{"a", "echo", "x"}, []string{"echo", "x"}, []string{"a"}},
		{"range and command", []string{"a", "b", "echo"}, []string{"echo"}, []string{"a", "b"}},
		// The last occurrence of the command's name cuts.
		{"name repeated", []string{"a", "echo", "echo"}, []string{"echo", "echo"}, []string{"a", "echo"}},
		{"command only", []string{"echo", "hi"}, []string{"echo", "hi"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := beforeCommand(tt.args, tt.command); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInteractiveWatchArgs(t *testing.T) {
	tests := []struct {
		name             string
		words            []string
		envKey, envRange string
		args, exec       []string
		opts             watchOptions
		err              string
	}{
		{name: "key", words: []string{"foo"}, args: []string{"foo"}},
		{name: "range and options", words: []string{"a", "--prefix", "b", "--rev", "3", "--prev-kv", "--progress-notify"},
			args: []string{"a", "b"}, opts: watchOptions{prefix: true, rev: 3, prevKV: true, progressNotify: true}},
		{name: "command", words: []string{"foo", "--rev=2", "--", "echo", "--rev"}, args: []string{"foo"}, exec: []string{"echo", "--rev"}, opts: watchOptions{rev: 2}},
		{name: "key from env", words: []string{"--rev", "5"}, envKey: "k", envRange: "z", args: []string{"k", "z"}, opts: watchOptions{rev: 5}},
		{name: "env and command", words: []string{"--", "echo"}, envKey: "k", args: []string{"k"}, exec: []string{"echo"}},
		{name: "env and key", words: []string{"foo"}, envKey: "k", err: errWatchArgsEnv.Error()},
		{name: "no key", words: []string{"--prefix"}, err: errWatchArgs.Error()},
		{name: "dash last", words: []string{"foo", "--"}, err: errWatchArgsSeparator.Error()},
		{name: "unknown flag", words: []string{"foo", "--bogus"}, err: "unknown flag: --bogus"},
		{name: "global flag", words: []string{"foo", "-w", "json"}, err: "unknown shorthand flag: 'w' in -w"},
		{name: "help", words: []string{"foo", "--help"}, err: "pflag: help requested"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := interactiveWatchArgs(tt.words, tt.envKey, tt.envRange)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("got %v, want error %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(spec.args, tt.args) || !slices.Equal(spec.exec, tt.exec) || spec.opts != tt.opts {
				t.Errorf("got args %q exec %q opts %+v", spec.args, spec.exec, spec.opts)
			}
		})
	}
}

// A "--help" on an interactive line is an error of the line, not a request
// for the watch command's help screen.
func TestInteractiveHelpIsNotHelp(t *testing.T) {
	_, err := interactiveWatchArgs([]string{"--help"}, "", "")
	if err == nil || errors.Unwrap(err) != nil {
		t.Errorf("got %#v, want a plain error", err)
	}
}

// With --progress-notify the server's periodic notifications are printed
// as "progress notify: <revision>" (here from a member that sends them
// every 100ms).
func TestWatchProgressNotify(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) { c.WatchProgressNotifyInterval = 100 * time.Millisecond })
	var stdout, stderr syncBuffer
	intr := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- Main(Options{Stdout: &stdout, Stderr: &stderr, Environ: []string{}, Interrupt: intr},
			[]string{"--endpoints=" + m.Endpoint, "watch", "foo", "--progress-notify"})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(stdout.String(), "progress notify: 1\n") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no notifications: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(intr)
	if code := <-done; code != exitKilledByInterrupt {
		t.Errorf("exit %d", code)
	}
	if out := strings.ReplaceAll(stdout.String(), "progress notify: 1\n", ""); out != "" {
		t.Errorf("more than notifications: %q", out)
	}
}
