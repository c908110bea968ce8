package ctlv2

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// watchContext is a context for a command that runs until interrupted;
// interrupted reports whether it ended that way.
func (c *cmdContext) watchContext() (ctx context.Context, interrupted func() bool, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch, stopListening := c.interrupted()
	go func() {
		select {
		case <-ch:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() bool {
			select {
			case <-ch:
				return true
			default:
				return false
			}
		}, func() {
			stopListening()
			cancel()
		}
}

func watchAction(c *cmdContext) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	if len(c.args) == 0 {
		return c.fail(exitBadArgs, errKeyRequired)
	}
	recursive, forever := c.flags.bool("recursive"), c.flags.bool("forever")
	w := cl.watcher(c.args[0], uint64(c.flags.int("after-index")), recursive)
	ctx, interrupted, stop := c.watchContext()
	defer stop()
	for {
		resp, err := w.next(ctx)
		if err != nil {
			if interrupted() {
				return exitSuccess
			}
			return c.fail(exitServerError, err)
		}
		if resp.Node.Dir {
			continue
		}
		if recursive {
			fmt.Fprintf(c.stdout, "[%s] %s\n", resp.Action, resp.Node.Key)
		}
		c.printResponse(resp)
		if !forever {
			return exitSuccess
		}
	}
}

var errExecArgs = errors.New("key and command to exec required")

// execWatchAction runs a command for every change of a key, with the
// change in ETCD_WATCH_ACTION, ETCD_WATCH_MODIFIED_INDEX, ETCD_WATCH_KEY
// and ETCD_WATCH_VALUE. Commands are started without waiting for the
// previous one, as etcdctl does.
func execWatchAction(c *cmdContext) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	args := c.args
	if len(args) < 2 {
		return c.fail(exitBadArgs, errExecArgs)
	}
	// "exec-watch <key> -- <command>..." keeps its order; without "--"
	// the flag parser has moved the key last (etcdctl's convention).
	var key string
	var cmdArgs []string
	sep := false
	for i := range args {
		if args[i] == "--" && i != 0 {
			sep = true
			break
		}
	}
	if sep {
		key, cmdArgs = args[0], args[2:]
	} else {
		key, cmdArgs = args[len(args)-1], args[:len(args)-1]
	}
	if len(cmdArgs) == 0 {
		return c.fail(exitBadArgs, errExecArgs)
	}
	w := cl.watcher(key, uint64(c.flags.int("after-index")), c.flags.bool("recursive"))
	ctx, interrupted, stop := c.watchContext()
	defer stop()
	for {
		resp, err := w.next(ctx)
		if err != nil {
			if interrupted() {
				return exitSuccess
			}
			return c.fail(exitServerError, err)
		}
		if resp.Node.Dir {
			fmt.Fprintf(c.stderr, "Ignored dir %s change\n", resp.Node.Key)
			continue
		}
		cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
		cmd.Env = append(append([]string(nil), c.environ...),
			"ETCD_WATCH_ACTION="+resp.Action,
			fmt.Sprintf("ETCD_WATCH_MODIFIED_INDEX=%d", resp.Node.ModifiedIndex),
			"ETCD_WATCH_KEY="+resp.Node.Key,
			"ETCD_WATCH_VALUE="+resp.Node.Value)
		cmd.Stdout, cmd.Stderr = c.stdout, c.stderr
		if err := cmd.Start(); err != nil {
			fmt.Fprint(c.stderr, err.Error())
			return exitUsage
		}
		go func() { _ = cmd.Wait() }()
	}
}
