package utl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes, as etcdutl uses them.
const (
	ExitSuccess    = 0
	ExitError      = 1
	ExitBadFeature = 4 // an output format a command does not support
	ExitBadArgs    = 128
)

// Options are the process streams a command tree uses. Zero fields fall back
// to the real process's.
type Options struct {
	Stdout io.Writer
	Stderr io.Writer
	// Context, when set, is the commands' context; cancelling it stops a
	// restore.
	Context context.Context
}

func (o Options) withDefaults() Options {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	return o
}

// exitError ends a command with an exit code; Main prints it as
// "Error: <message>".
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitErr(code int, err error) *exitError { return &exitError{code: code, err: err} }

func exitErrf(code int, format string, args ...any) *exitError {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// cli is the state of one invocation.
type cli struct {
	opts Options
	root *cobra.Command

	writeOut string
	timeout  time.Duration

	// failed is the error a command ended with. Commands do not return
	// their errors to cobra, which would print the usage with them:
	// etcdutl's commands print the error alone and exit.
	failed error
}

// Main builds the command tree, runs it with args (without the program
// name) and returns the process exit code.
func Main(o Options, args []string) int {
	c := newCLI(o)
	c.root.SetArgs(args)
	if o.Context != nil {
		c.root.SetContext(o.Context)
	}
	_, err := c.root.ExecuteC()
	if err != nil {
		// cobra printed its own error (and the usage, for a command it
		// found); etcdutl prints it once more.
		fmt.Fprintf(c.opts.Stderr, "Error: %v\n", err)
		return ExitError
	}
	if c.failed != nil {
		code := ExitError
		var ee *exitError
		if errors.As(c.failed, &ee) {
			code = ee.code
		}
		fmt.Fprintf(c.opts.Stderr, "Error: %v\n", c.failed)
		return code
	}
	return ExitSuccess
}

// NewRootCommand returns the etcdutl command tree. Like any cobra command, it
// runs os.Args unless given other arguments with SetArgs. Command failures
// are printed, not returned.
func NewRootCommand(o Options) *cobra.Command { return newCLI(o).root }

func newCLI(o Options) *cli {
	c := &cli{opts: o.withDefaults()}
	root := &cobra.Command{Use: "etcdutl"}
	c.root = root
	// cobra prints the usage that follows a usage error to its output
	// writer, and etcdutl's goes to stderr; help goes to stdout, and is
	// the usage alone. Commands print their results to c.opts.Stdout.
	root.SetOut(c.opts.Stderr)
	root.SetErr(c.opts.Stderr)
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		io.WriteString(c.opts.Stdout, cmd.UsageString())
	})
	root.CompletionOptions.DisableDefaultCmd = true

	pf := root.PersistentFlags()
	pf.StringVarP(&c.writeOut, "write-out", "w", "simple", "set the output format (fields, json, protobuf, simple, table)")
	pf.DurationVar(&c.timeout, "timeout", 10*time.Second, "time to wait for the lock on a data directory (0 waits forever)")
	pf.MarkHidden("timeout")

	root.AddCommand(
		c.newCompletionCommand(),
		c.newDefragCommand(),
		c.newHashKVCommand(),
		c.newSnapshotCommand(),
		c.newVersionCommand(),
	)
	return c
}

// run adapts a command body to cobra: the body's error is kept for Main.
func (c *cli) run(body func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) {
	return func(cmd *cobra.Command, args []string) {
		c.failed = body(cmd, args)
	}
}

func (c *cli) newCompletionCommand() *cobra.Command {
	return &cobra.Command{
		Use:                   "completion [bash|zsh|fish|powershell]",
		Short:                 "Generate completion script",
		DisableFlagsInUseLine: true,
		ValidArgs:             []string{"bash", "zsh", "fish", "powershell"},
		Args:                  cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		Run: c.run(func(cmd *cobra.Command, args []string) error {
			out := c.opts.Stdout
			switch args[0] {
			case "bash":
				return cmd.Root().GenBashCompletion(out)
			case "zsh":
				return cmd.Root().GenZshCompletion(out)
			case "fish":
				return cmd.Root().GenFishCompletion(out, true)
			default:
				return cmd.Root().GenPowerShellCompletionWithDesc(out)
			}
		}),
	}
}
