package ctl

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// Long-running commands end in one of two ways when the user interrupts
// them, as etcdctl's do:
//
//   - lock and elect catch SIGINT and SIGTERM, give up the lock or the
//     leadership, and exit normally;
//   - watch and lease keep-alive do not catch them and die of the signal.
//
// Options.Interrupt replaces the signals for in-process runs; a command of
// the second kind then returns exitKilledByInterrupt, the status a shell
// reports for a process killed by SIGINT.
const exitKilledByInterrupt = 128 + int(syscall.SIGINT)

// interruptContext derives a context that is canceled when the command is
// interrupted: when Options.Interrupt is closed or, if catch is set and
// there is no Options.Interrupt, when the process gets SIGINT or SIGTERM.
// Without either, only stop cancels it.
func (c *cli) interruptContext(parent context.Context, catch bool) (ctx context.Context, stop context.CancelFunc) {
	if c.opts.Interrupt == nil {
		if catch {
			return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
		}
		return context.WithCancel(parent)
	}
	ctx, cancel := context.WithCancel(parent)
	go func() {
		select {
		case <-c.opts.Interrupt:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// killedByInterrupt ends a command that etcdctl lets the signal kill.
func killedByInterrupt() error {
	return &exitError{Code: exitKilledByInterrupt, Err: errors.New("interrupted"), Silent: true}
}

// baseContext is the command's context, or a background one.
func baseContext(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}
