package ctl

import (
	"bytes"
	"strings"
	"testing"
)

// TestV2OnlyCommands: the v3 command set answers a v2 command as etcdctl
// answers any unknown command (same lines, exit 1), with a line pointing to
// ETCDCTL_API=2 before the usage hint; `help <v2 command>` is an unknown
// topic with the same pointer.
func TestV2OnlyCommands(t *testing.T) {
	cases := []struct {
		args         []string
		exit         int
		stderr       string
		stdoutPrefix string
	}{
		{
			args: []string{"ls", "/dir"},
			exit: ExitError,
			stderr: "Error: unknown command \"ls\" for \"etcdctl\"\n" +
				"\"ls\" is a command of etcdctl's v2 API: run it with ETCDCTL_API=2\n" +
				"Run 'etcdctl --help' for usage.\n",
		},
		{
			// Flags are the v2 command's, not parsed here.
			args: []string{"--endpoints=127.0.0.1:1", "rm", "/dir", "--recursive"},
			exit: ExitError,
			stderr: "Error: unknown command \"rm\" for \"etcdctl\"\n" +
				"\"rm\" is a command of etcdctl's v2 API: run it with ETCDCTL_API=2\n" +
				"Run 'etcdctl --help' for usage.\n",
		},
		{
			// cobra's suggestions, in etcdctl's order, stay.
			args: []string{"set", "foo", "bar", "--help"},
			exit: ExitError,
			stderr: "Error: unknown command \"set\" for \"etcdctl\"\n\nDid you mean this?\n\tget\n\tput\n\tdel\n\tuser\n\n" +
				"\"set\" is a command of etcdctl's v2 API: run it with ETCDCTL_API=2\n" +
				"Run 'etcdctl --help' for usage.\n",
		},
		{
			args:         []string{"help", "cluster-health"},
			exit:         ExitSuccess,
			stderr:       "Unknown help topic [`cluster-health`]\n\"cluster-health\" is a command of etcdctl's v2 API: run it with ETCDCTL_API=2\n",
			stdoutPrefix: "NAME:\n  etcdctl - ",
		},
		{
			// Other unknown commands keep etcdctl's text alone.
			args:   []string{"sett"},
			exit:   ExitError,
			stderr: "Error: unknown command \"sett\" for \"etcdctl\"\n\nDid you mean this?\n\tget\n\nRun 'etcdctl --help' for usage.\n",
		},
	}
	for _, name := range v2OnlyCommands {
		cases = append(cases, struct {
			args         []string
			exit         int
			stderr       string
			stdoutPrefix string
		}{args: []string{name}, exit: ExitError})
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(Options{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Environ: []string{}}, c.args)
			if code != c.exit {
				t.Errorf("exit %d, want %d", code, c.exit)
			}
			if c.stderr == "" {
				if !strings.Contains(stderr.String(), "run it with ETCDCTL_API=2\n") {
					t.Errorf("stderr %q lacks the ETCDCTL_API=2 hint", stderr.String())
				}
			} else if stderr.String() != c.stderr {
				t.Errorf("stderr\n got %q\nwant %q", stderr.String(), c.stderr)
			}
			if !strings.HasPrefix(stdout.String(), c.stdoutPrefix) || (c.stdoutPrefix == "" && stdout.Len() > 0) {
				t.Errorf("stdout %q", stdout.String())
			}
		})
	}
}
