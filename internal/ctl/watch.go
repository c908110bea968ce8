package ctl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// watchOptions are watch's flags; each line of an interactive watch takes
// them too.
type watchOptions struct {
	interactive    bool
	prefix         bool
	rev            int64
	prevKV         bool
	progressNotify bool
}

func (o *watchOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.interactive, "interactive", "i", false, "Interactive mode")
	fs.BoolVar(&o.prefix, "prefix", false, "Watch on a prefix if prefix is set")
	fs.Int64Var(&o.rev, "rev", 0, "Revision to start watching")
	fs.BoolVar(&o.prevKV, "prev-kv", false, "get the previous key-value pair before the event happens")
	fs.BoolVar(&o.progressNotify, "progress-notify", false, "get periodic watch progress notification from server")
}

// The environment can name the watched key and range end instead of the
// arguments.
const (
	envWatchKey      = "ETCDCTL_WATCH_KEY"
	envWatchRangeEnd = "ETCDCTL_WATCH_RANGE_END"
)

var (
	errWatchArgs          = errors.New("bad number of arguments")
	errWatchArgsEnv       = errors.New("bad number of arguments (found conflicting environment key)")
	errWatchArgsSeparator = errors.New("bad number of arguments (found separator --, but no commands)")
)

func (c *cli) newWatchCommand() *cobra.Command {
	var o watchOptions
	cmd := &cobra.Command{
		Use:   "watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
		Short: "Watches events stream on keys or prefixes",
		Long: `Prints the events on a key, a range [key, range_end) or a prefix as they
happen, or from --rev on, until interrupted.

A command after "--" runs once per event, after the event is printed, with
ETCD_WATCH_REVISION, ETCD_WATCH_EVENT_TYPE, ETCD_WATCH_KEY and
ETCD_WATCH_VALUE set. ETCDCTL_WATCH_KEY and ETCDCTL_WATCH_RANGE_END may name
the key and range end instead of the arguments.

With --interactive, watches are read from standard input, one per line, as
"watch [options] <key> [range_end] [-- command...]"; a "progress" line asks
the server for a progress notification on every watch.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runWatch(cmd, args, &o)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

// watchSpec is one watch to open: what to watch and what to run per event.
type watchSpec struct {
	args []string // key [range_end]; more are ignored
	exec []string
	opts watchOptions
}

func (c *cli) runWatch(cmd *cobra.Command, args []string, o *watchOptions) error {
	c.ownEnv = []string{envWatchKey, envWatchRangeEnd}
	envKey, _ := lookupEnv(c.opts.Environ, envWatchKey)
	envRange, _ := lookupEnv(c.opts.Environ, envWatchRangeEnd)
	if envKey == "" && envRange != "" {
		return exitErrf(ExitBadArgs, "%s is empty but got %s=%q", envWatchKey, envWatchRangeEnd, envRange)
	}
	if o.interactive {
		return c.watchInteractive(cmd, envKey, envRange)
	}
	spec, err := c.watchArgs(cmd, args, envKey, envRange)
	if err != nil {
		return exitErr(ExitBadArgs, err)
	}
	spec.opts = *o
	cl, p, err := c.clientAndPrinter(cmd)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, stop := c.interruptContext(baseContext(cmd.Context()), false)
	defer stop()
	ch, err := openWatch(ctx, cl, spec)
	if err != nil {
		return exitErr(ExitBadArgs, err)
	}
	w := &watchPrinter{c: c, cmd: cmd, p: p}
	if err := w.print(ctx, ch, spec.exec); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return killedByInterrupt()
	}
	return exitErr(ExitInterrupted, errors.New("watch is canceled by the server"))
}

// watchArgs works out, for a command-line watch, the key and range end and
// the command to run per event, by etcdctl's rules:
//
//   - "--" must be followed by a command;
//   - without "--", some argument must follow "watch" on the command line,
//     a flag will do (a missing key is found out later), unless
//     ETCDCTL_WATCH_KEY names the key;
//   - ETCDCTL_WATCH_KEY (and ETCDCTL_WATCH_RANGE_END) conflict with a key
//     given as an argument, and come first otherwise;
//   - the key and range end are the arguments up to the last one equal to
//     the command's name.
func (c *cli) watchArgs(cmd *cobra.Command, args []string, envKey, envRange string) (*watchSpec, error) {
	dash := cmd.ArgsLenAtDash()
	hasExec := dash >= 0
	if hasExec && dash == len(args) {
		return nil, errWatchArgsSeparator
	}
	if !hasExec && len(c.argsAfter("watch")) == 0 && envKey == "" {
		return nil, errWatchArgs
	}
	if envKey != "" && ((hasExec && dash > 0) || (!hasExec && len(args) > 0)) {
		return nil, errWatchArgsEnv
	}
	spec := &watchSpec{args: args}
	if hasExec {
		spec.exec = args[dash:]
	}
	spec.args = withEnvKey(spec.args, envKey, envRange)
	spec.args = beforeCommand(spec.args, spec.exec)
	return spec, nil
}

// withEnvKey puts the key and range end from the environment in front of
// the arguments.
func withEnvKey(args []string, envKey, envRange string) []string {
	if envKey == "" {
		return args
	}
	out := []string{envKey}
	if envRange != "" {
		out = append(out, envRange)
	}
	return append(out, args...)
}

// beforeCommand cuts the positional arguments at the command to run: before
// the last argument equal to the command's name. (A name that also appears
// among its own arguments thus cuts late; etcdctl does the same.)
func beforeCommand(args, command []string) []string {
	if len(command) == 0 {
		return args
	}
	for i := len(args) - 1; i >= 0; i-- {
		if args[i] == command[0] {
			return args[:i]
		}
	}
	return nil
}

// argsAfter returns the command line after the first occurrence of word.
func (c *cli) argsAfter(word string) []string {
	for i, a := range c.args {
		if a == word {
			return c.args[i+1:]
		}
	}
	return nil
}

// openWatch starts a watch. The key is the first argument; a second is the
// range end, and any others are ignored.
func openWatch(ctx context.Context, cl *clientv3.Client, spec *watchSpec) (clientv3.WatchChan, error) {
	if len(spec.args) < 1 {
		return nil, errWatchArgs
	}
	opts := []clientv3.OpOption{clientv3.WithRev(spec.opts.rev)}
	if len(spec.args) == 2 {
		if spec.opts.prefix {
			return nil, errors.New("`range_end` and `--prefix` are mutually exclusive")
		}
		opts = append(opts, clientv3.WithRange(spec.args[1]))
	}
	if spec.opts.prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	if spec.opts.prevKV {
		opts = append(opts, clientv3.WithPrevKV())
	}
	if spec.opts.progressNotify {
		opts = append(opts, clientv3.WithProgressNotify())
	}
	return cl.Watch(clientv3.WithRequireLeader(ctx), spec.args[0], opts...), nil
}

// watchPrinter prints the responses of one or more watches; the watches of
// an interactive session print concurrently, a response at a time.
type watchPrinter struct {
	c   *cli
	cmd *cobra.Command
	p   printer
	mu  sync.Mutex
}

// print prints every response until the watch ends. A response that
// cancels the watch is reported on stderr, a progress notification with
// its revision; after the response, the command runs once per event.
func (w *watchPrinter) print(ctx context.Context, ch clientv3.WatchChan, command []string) error {
	for resp := range ch {
		if err := w.response(ctx, resp, command); err != nil {
			return err
		}
	}
	return nil
}

func (w *watchPrinter) response(ctx context.Context, resp clientv3.WatchResponse, command []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	stdout, stderr := w.cmd.OutOrStdout(), w.cmd.ErrOrStderr()
	if resp.Canceled {
		fmt.Fprintf(stderr, "watch was canceled (%v)\n", resp.Err())
	}
	if resp.IsProgressNotify() {
		fmt.Fprintf(stdout, "progress notify: %d\n", resp.Header.GetRevision())
	}
	if err := w.p.watch(resp); err != nil {
		return err
	}
	if len(command) == 0 {
		return nil
	}
	for _, ev := range resp.Events {
		// The command is not bound to ctx: interrupting etcdctl leaves a
		// running command to finish.
		x := exec.Command(command[0], command[1:]...)
		x.Env = append(append([]string{}, w.c.opts.Environ...),
			fmt.Sprintf("ETCD_WATCH_REVISION=%d", resp.Header.GetRevision()),
			fmt.Sprintf("ETCD_WATCH_EVENT_TYPE=%q", ev.Type),
			fmt.Sprintf("ETCD_WATCH_KEY=%q", ev.Kv.Key),
			fmt.Sprintf("ETCD_WATCH_VALUE=%q", ev.Kv.Value),
		)
		x.Stdout, x.Stderr = stdout, stderr
		if err := x.Run(); err != nil {
			fmt.Fprintf(stderr, "command %q error (%v)\n", command, err)
			return silentExit(ExitError)
		}
		if ctx.Err() != nil {
			return killedByInterrupt()
		}
	}
	return nil
}

// watchInteractive reads watch requests from stdin, a line at a time:
//
//	watch [options] [key] [range_end] [-- command args...]
//	progress
//
// Each watch prints concurrently with the others until the session ends.
// Lines that make no sense are reported on stderr and skipped, but
// arguments a watch cannot be built from end the session, as does the end
// of input.
func (c *cli) watchInteractive(cmd *cobra.Command, envKey, envRange string) error {
	cl, p, err := c.clientAndPrinter(cmd)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, stop := c.interruptContext(baseContext(cmd.Context()), false)
	defer stop()
	stderr := cmd.ErrOrStderr()
	w := &watchPrinter{c: c, cmd: cmd, p: p}

	lines := readLines(ctx, cmd.InOrStdin())
	failed := make(chan error, 1)
	for {
		var line lineRead
		select {
		case <-ctx.Done():
			return killedByInterrupt()
		case err := <-failed:
			return err
		case line = <-lines:
		}
		if line.err != nil {
			// A last line without a newline is not read either.
			return exitErrf(ExitInvalidInput, "error reading watch request line: %v", line.err)
		}
		l := strings.TrimSuffix(line.text, "\n")
		args, err := splitOpLine(l)
		if err != nil {
			return exitErr(ExitInvalidInput, err)
		}
		if len(args) < 1 {
			fmt.Fprintf(stderr, "Invalid command: %s (watch and progress supported)\n", l)
			continue
		}
		switch args[0] {
		case "watch":
			if len(args) < 2 && envKey == "" {
				fmt.Fprintf(stderr, "Invalid command %s (command type or key is not provided)\n", l)
				continue
			}
			spec, err := interactiveWatchArgs(args[1:], envKey, envRange)
			if err != nil {
				return exitErr(ExitBadArgs, err)
			}
			ch, err := openWatch(ctx, cl, spec)
			if err != nil {
				fmt.Fprintf(stderr, "Invalid command %s (%v)\n", l, err)
				continue
			}
			go func() {
				if err := w.print(ctx, ch, spec.exec); err != nil {
					select {
					case failed <- err:
					default:
					}
				}
			}()
		case "progress":
			if err := cl.RequestProgress(clientv3.WithRequireLeader(ctx)); err != nil {
				return rpcError(err)
			}
		default:
			fmt.Fprintf(stderr, "Invalid command %s (only support watch)\n", l)
		}
	}
}

// interactiveWatchArgs parses the words after "watch" on an interactive
// line. Its options are the line's own; the command line's do not carry
// over.
func interactiveWatchArgs(words []string, envKey, envRange string) (*watchSpec, error) {
	dash := -1
	for i, w := range words {
		if w == "--" {
			dash = i
			break
		}
	}
	if dash >= 0 && dash == len(words)-1 {
		return nil, errWatchArgsSeparator
	}
	spec := &watchSpec{}
	fs := pflag.NewFlagSet("watch", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	spec.opts.addFlags(fs)
	if err := fs.Parse(words); err != nil {
		// Not wrapped: cobra would take a wrapped pflag.ErrHelp ("--help"
		// on the line) for a request to show the watch command's help.
		return nil, errors.New(err.Error())
	}
	positional := fs.Args()
	if dash < 0 && envKey == "" && len(positional) < 1 {
		return nil, errWatchArgs
	}
	if dash < 0 && envKey != "" && len(positional) > 0 {
		return nil, errWatchArgsEnv
	}
	if dash >= 0 {
		spec.exec = words[dash+1:]
	}
	spec.args = beforeCommand(withEnvKey(positional, envKey, envRange), spec.exec)
	return spec, nil
}

// lineRead is one line of input, or the error that ended it.
type lineRead struct {
	text string
	err  error
}

// readLines reads r a line at a time in the background, so that a reader
// can stop waiting for input. It stops after an error or once ctx is done
// (when a pending read returns).
func readLines(ctx context.Context, r io.Reader) <-chan lineRead {
	ch := make(chan lineRead)
	go func() {
		br := bufio.NewReader(r)
		for {
			s, err := br.ReadString('\n')
			select {
			case ch <- lineRead{text: s, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}
