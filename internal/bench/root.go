package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Options are the process streams a command tree uses. Zero fields fall
// back to the real process's.
type Options struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Progress receives the progress bar; nil means stderr when stderr is a
	// terminal and no bar otherwise.
	Progress io.Writer
}

func (o Options) withDefaults() Options {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Progress == nil && isTerminal(o.Stderr) {
		o.Progress = o.Stderr
	}
	return o
}

// globalFlags are the flags every subcommand inherits.
type globalFlags struct {
	endpoints        []string
	clients          uint
	conns            uint
	dialTimeout      time.Duration
	autoSyncInterval time.Duration

	cacert, cert, key  string
	insecureSkipVerify bool
	user               string
	targetLeader       bool

	precise bool
	sample  bool

	// waitReady, a Cairn extension, retries the first linearizable read
	// for up to this long before the run (scripts time restarts with it).
	waitReady time.Duration
}

// cli is the state one invocation's commands share.
type cli struct {
	opts Options
	g    globalFlags
}

// Exit codes.
const (
	ExitSuccess = 0
	// ExitError reports bad flags or arguments, an unreachable cluster, or a
	// run in which every request failed.
	ExitError = 1
)

// Main builds the command tree, runs it with args (without the program
// name) and returns the process exit code. An interrupt (SIGINT, SIGTERM)
// stops issuing requests and reports what was done so far.
func Main(o Options, args []string) int {
	o = o.withDefaults()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRootCommand(o)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitSuccess
	}
	fmt.Fprintf(o.Stderr, "Error: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || cmd == root {
		fmt.Fprintf(o.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return ExitError
}

// usageError marks errors in the command line, as opposed to the run.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// NewRootCommand returns the benchmark command tree.
func NewRootCommand(o Options) *cobra.Command {
	o = o.withDefaults()
	c := &cli{opts: o}
	root := &cobra.Command{
		Use:   "benchmark",
		Short: "A low-level benchmark tool for etcd-compatible clusters",
		Long: "benchmark is a low-level benchmark tool for etcd-compatible clusters (Cairn or etcd).\n" +
			"It prints a latency summary, histogram and distribution like etcd's benchmark tool,\n" +
			"then one JSON line for scripts.",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(o.Stdin)
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	pf := root.PersistentFlags()
	pf.StringSliceVar(&c.g.endpoints, "endpoints", []string{"127.0.0.1:2379"}, "gRPC endpoints")
	pf.UintVar(&c.g.clients, "clients", 1, "Total number of gRPC clients")
	pf.UintVar(&c.g.conns, "conns", 1, "Total number of gRPC connections")
	pf.DurationVar(&c.g.dialTimeout, "dial-timeout", 0, "dial timeout for client connections (0 waits up to 5s for the first response)")
	pf.DurationVar(&c.g.autoSyncInterval, "auto-sync-interval", 0, "AutoSyncInterval is the interval to update endpoints with its latest members")
	pf.StringVar(&c.g.cacert, "cacert", "", "verify certificates of HTTPS-enabled servers using this CA bundle")
	pf.StringVar(&c.g.cert, "cert", "", "identify HTTPS client using this SSL certificate file")
	pf.StringVar(&c.g.key, "key", "", "identify HTTPS client using this SSL key file")
	pf.BoolVar(&c.g.insecureSkipVerify, "insecure-skip-tls-verify", false, "skip server certificate verification")
	pf.StringVar(&c.g.user, "user", "", "provide username[:password] and prompt if password is not supplied.")
	pf.BoolVar(&c.g.targetLeader, "target-leader", false, "connect only to the leader node")
	pf.BoolVar(&c.g.precise, "precise", false, "use full floating point precision")
	pf.BoolVar(&c.g.sample, "sample", false, "'true' to sample requests for every second")
	pf.DurationVar(&c.g.waitReady, "wait-ready", 0, "retry a first linearizable read until it is served, for up to this long, before the run (0 fails at once)")

	root.AddCommand(
		c.newPutCommand(),
		c.newRangeCommand(),
		c.newTxnPutCommand(),
		c.newTxnMixedCommand(),
		c.newWatchCommand(),
		c.newWatchLatencyCommand(),
		c.newLeaseKeepaliveCommand(),
	)
	for _, sub := range root.Commands() {
		sub.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	}
	return root
}

// validateGlobal checks the global flags.
func (c *cli) validateGlobal() error {
	if c.g.clients < 1 {
		return usagef("--clients must be at least 1")
	}
	if c.g.conns < 1 {
		return usagef("--conns must be at least 1")
	}
	if len(c.g.endpoints) == 0 {
		return usagef("--endpoints must name at least one endpoint")
	}
	if c.g.dialTimeout < 0 {
		return usagef("--dial-timeout must not be negative")
	}
	if c.g.waitReady < 0 {
		return usagef("--wait-ready must not be negative")
	}
	if (c.g.cert == "") != (c.g.key == "") {
		return usagef("--cert and --key must be given together")
	}
	return nil
}

// reportOptions are the report choices of the global flags.
func (c *cli) reportOptions() ReportOptions {
	return ReportOptions{Precise: c.g.precise, Sample: c.g.sample}
}

// finish prints the JSON line of sum and turns a run in which every request
// failed, or which was interrupted, into an error.
func (c *cli) finish(ctx context.Context, sum Summary) error {
	if err := WriteJSON(c.opts.Stdout, sum); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return errors.New("interrupted: the report covers the requests completed before the interrupt")
	}
	if sum.Ops == 0 && sum.Errors > 0 {
		return fmt.Errorf("all %d requests failed", sum.Errors)
	}
	return nil
}
