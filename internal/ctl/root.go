package ctl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// Options are the process streams and environment a command tree uses.
// Zero fields fall back to the real process's.
type Options struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Environ is the environment as os.Environ returns it ("KEY=value").
	Environ []string
	// Sleep pauses; `del <key> <end>` without --range waits two seconds
	// before deleting, and tests replace the wait.
	Sleep func(time.Duration)
	// Interrupt, when set, stands in for SIGINT and SIGTERM: closing it
	// interrupts the running command. When nil, lock and elect catch those
	// signals themselves, to give up what they hold before exiting, and
	// every other command is simply killed by them, as etcdctl is.
	Interrupt <-chan struct{}

	// Seams for this package's tests; zero keeps etcdctl's values: check
	// perf's duration (a minute), the number of keys check datascale
	// writes, and the time between make-mirror's counts (30s).
	checkPerfDuration    time.Duration
	checkDatascaleKeys   int
	mirrorReportInterval time.Duration
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
	if o.Environ == nil {
		o.Environ = os.Environ()
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	return o
}

// globalFlags are the flags every command inherits from the root. Each can
// also come from an ETCDCTL_<NAME> environment variable (see env.go).
type globalFlags struct {
	endpoints        []string
	dialTimeout      time.Duration
	commandTimeout   time.Duration
	keepAliveTime    time.Duration
	keepAliveTimeout time.Duration

	insecureTransport  bool
	insecureSkipVerify bool
	insecureDiscovery  bool
	cacert, cert, key  string

	user, password string

	discoverySrv, discoverySrvName string

	maxRequestBytes int
	maxRecvBytes    int

	writeOut string
	hex      bool
	debug    bool
}

// cli is the state one invocation's commands share.
type cli struct {
	opts Options
	root *cobra.Command
	g    globalFlags
	// args is the command line without the program name; watch reads it
	// as it was typed, "--" and all.
	args []string
	// ownEnv are ETCDCTL_* variables the running command reads itself;
	// they are not reported as unrecognized.
	ownEnv []string

	// prepareOnce merges the environment into g (see prepare).
	prepareOnce sync.Once
	prepareErr  error
}

// Main builds the command tree, runs it with args (without the program
// name) and returns the process exit code.
func Main(o Options, args []string) int {
	o = o.withDefaults()
	// The etcdctl binary runs the v2 command set itself when ETCDCTL_API
	// is 2; this tree has only the v3 one.
	if api, ok := lookupEnv(o.Environ, "ETCDCTL_API"); ok && api == "2" {
		fmt.Fprintln(o.Stderr, "Error: ETCDCTL_API=2 selects the v2 command set, which the etcdctl binary runs; this is the v3 command set: unset ETCDCTL_API or set it to 3 to use it")
		return ExitBadFeature
	}
	root := newCLI(o, args).root
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	var ee *exitError
	if err != nil && !errors.As(err, &ee) {
		// cobra's own errors, such as an unknown command, come with a hint.
		err = &exitError{Code: ExitError, Err: err, trailer: fmt.Sprintf("Run '%s --help' for usage.\n", cmd.CommandPath())}
	}
	return report(root.ErrOrStderr(), err)
}

// NewRootCommand returns the etcdctl v3 command tree. Like any cobra
// command, it runs os.Args unless given other arguments with SetArgs.
func NewRootCommand(o Options) *cobra.Command {
	return newCLI(o, os.Args[1:]).root
}

// newCLI builds the command tree for one run of args.
func newCLI(o Options, args []string) *cli {
	o = o.withDefaults()
	c := &cli{opts: o, args: args}
	root := &cobra.Command{
		Use:   "etcdctl",
		Short: "A simple command line client for etcd3.",
		// Errors are printed by report, as "Error: <message>".
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	c.root = root
	root.SetIn(o.Stdin)
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	root.CompletionOptions.DisableDefaultCmd = true

	pf := root.PersistentFlags()
	pf.StringSliceVar(&c.g.endpoints, "endpoints", []string{"127.0.0.1:2379"}, "gRPC endpoints")
	pf.BoolVar(&c.g.debug, "debug", false, "enable client-side debug logging")
	pf.StringVarP(&c.g.writeOut, "write-out", "w", "simple", "set the output format (fields, json, protobuf, simple, table)")
	pf.BoolVar(&c.g.hex, "hex", false, "print byte strings as hex encoded strings")
	pf.DurationVar(&c.g.dialTimeout, "dial-timeout", 2*time.Second, "dial timeout for client connections")
	pf.DurationVar(&c.g.keepAliveTime, "keepalive-time", 2*time.Second, "keepalive time for client connections")
	pf.DurationVar(&c.g.keepAliveTimeout, "keepalive-timeout", 6*time.Second, "keepalive timeout for client connections")
	pf.DurationVar(&c.g.commandTimeout, "command-timeout", 5*time.Second, "timeout for short running command (excluding dial timeout)")
	pf.BoolVar(&c.g.insecureTransport, "insecure-transport", true, "disable transport security for client connections")
	pf.BoolVar(&c.g.insecureDiscovery, "insecure-discovery", true, "accept insecure SRV records describing cluster endpoints")
	pf.BoolVar(&c.g.insecureSkipVerify, "insecure-skip-tls-verify", false, "skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)")
	pf.StringVar(&c.g.cert, "cert", "", "identify secure client using this TLS certificate file")
	pf.StringVar(&c.g.key, "key", "", "identify secure client using this TLS key file")
	pf.StringVar(&c.g.cacert, "cacert", "", "verify certificates of TLS-enabled secure servers using this CA bundle")
	pf.StringVar(&c.g.user, "user", "", "username[:password] for authentication (prompt if password is not supplied)")
	pf.StringVar(&c.g.password, "password", "", "password for authentication (if this option is used, --user option shouldn't include password)")
	pf.StringVarP(&c.g.discoverySrv, "discovery-srv", "d", "", "domain name to query for SRV records describing cluster endpoints")
	pf.StringVar(&c.g.discoverySrvName, "discovery-srv-name", "", "service name to query when using DNS discovery")
	pf.IntVar(&c.g.maxRequestBytes, "max-request-bytes", 0, "client-side request send limit in bytes (if 0, it defaults to 2.0 MiB (2 * 1024 * 1024).)")
	pf.IntVar(&c.g.maxRecvBytes, "max-recv-bytes", 0, "client-side response receive limit in bytes (if 0, it defaults to \"math.MaxInt32\")")

	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { writeHelp(cmd.OutOrStdout(), cmd) })
	root.SetUsageFunc(func(cmd *cobra.Command) error {
		writeHelp(cmd.OutOrStdout(), cmd)
		return nil
	})
	// A flag that does not parse prints the command's help on stdout, then
	// "Error: <message>" and a blank line on stderr, and exits with 1.
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		writeHelp(cmd.OutOrStdout(), cmd)
		return &exitError{Code: ExitError, Err: err, trailer: "\n"}
	})

	// Suggestions for an unknown command list the candidates in this
	// order, etcdctl's; nothing may sort the root's commands before the
	// command runs (cobra's Commands sorts them in place).
	cmds := []*cobra.Command{
		c.newGetCommand(),
		c.newPutCommand(),
		c.newDelCommand(),
		c.newTxnCommand(),
		c.newCompactionCommand(),
		c.newWatchCommand(),
		c.newLeaseCommand(),
		c.newLockCommand(),
		c.newElectCommand(),
		c.newEndpointCommand(),
		c.newMemberCommand(),
		c.newMoveLeaderCommand(),
		c.newVersionCommand(),
		c.newAlarmCommand(),
		c.newAuthCommand(),
		c.newUserCommand(),
		c.newRoleCommand(),
		c.newDefragCommand(),
		c.newSnapshotCommand(),
		c.newCheckCommand(),
		c.newMakeMirrorCommand(),
	}
	cmds = append(cmds, c.newV2OnlyCommands()...)
	root.AddCommand(cmds...)
	for _, cmd := range cmds {
		wrapRunE(cmd)
	}
	c.routeHelpTopicErrors()
	return c
}

// routeHelpTopicErrors makes `etcdctl help <unknown>` report the topic on
// stderr and show the root's help on stdout, as etcdctl does; cobra's own
// help command would write both to the output stream.
func (c *cli) routeHelpTopicErrors() {
	c.root.InitDefaultHelpCmd()
	// Find, unlike Commands, leaves the order of the commands alone.
	if help, _, err := c.root.Find([]string{"help"}); err == nil && help != c.root {
		help.Run = func(_ *cobra.Command, args []string) {
			target, _, err := c.root.Find(args)
			if target == nil || err != nil || isV2Only(target) {
				fmt.Fprintf(c.opts.Stderr, "Unknown help topic %#q\n", args)
				if target != nil && isV2Only(target) {
					fmt.Fprint(c.opts.Stderr, v2OnlyHint(target.Name()))
				}
				writeHelp(c.opts.Stdout, c.root)
				return
			}
			target.InitDefaultHelpFlag()
			writeHelp(c.opts.Stdout, target)
		}
	}
}

// wrapRunE gives every error a command returns an exit code, so that only
// cobra's own errors (unknown commands) reach Main without one.
func wrapRunE(cmd *cobra.Command) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			var ee *exitError
			if err != nil && !errors.As(err, &ee) {
				err = exitErr(ExitError, err)
			}
			return err
		}
	}
	for _, sub := range cmd.Commands() {
		wrapRunE(sub)
	}
}
