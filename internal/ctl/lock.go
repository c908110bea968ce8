package ctl

import (
	"context"
	"errors"
	"fmt"
	"os/exec"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

func (c *cli) newLockCommand() *cobra.Command {
	var ttl int
	cmd := &cobra.Command{
		Use:   "lock <lockname> [exec-command arg1 arg2 ...]",
		Short: "Acquires a named lock",
		Long: `Waits for the named lock and holds it.

With a command, the command runs while the lock is held and the lock is
released when it exits; the command finds the lock's key and revision in
ETCD_LOCK_KEY and ETCD_LOCK_REV, and its exit status becomes the lock's.
Without one, the lock's key is printed and the lock is held until the
process is interrupted. The lock lives on a lease of --ttl seconds that is
kept alive meanwhile: if the process dies, the lock is freed when the lease
runs out.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return exitErr(ExitBadArgs, errors.New("lock takes a lock name argument and an optional command to execute"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			err = c.lockUntilSignal(cmd, cl, p, ttl, args[0], args[1:])
			var ee *exitError
			var xe *exec.ExitError
			switch {
			case err == nil, errors.As(err, &ee):
				return err
			case errors.As(err, &xe):
				// The command's own failure: its status is ours.
				return exitErr(xe.ExitCode(), err)
			}
			return exitErr(ExitError, err)
		},
	}
	cmd.Flags().IntVar(&ttl, "ttl", 10, "timeout for session")
	return cmd
}

// lockUntilSignal takes the lock, then runs the command under it, or prints
// the lock's key and holds it until interrupted. The session's lease is not
// revoked on the way out: as with etcdctl, it simply stops being kept
// alive.
func (c *cli) lockUntilSignal(cmd *cobra.Command, cl *clientv3.Client, p printer, ttl int, name string, command []string) error {
	s, err := concurrency.NewSession(cl, concurrency.WithTTL(ttl))
	if err != nil {
		return err
	}
	m := concurrency.NewMutex(s, name)
	ctx, stop := c.interruptContext(baseContext(cmd.Context()), true)
	defer stop()
	if err := m.Lock(ctx); err != nil {
		return err
	}

	if len(command) > 0 {
		x := exec.Command(command[0], command[1:]...)
		x.Env = append(lockEnv(m), c.opts.Environ...)
		x.Stdout, x.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
		err := x.Run()
		unlockErr := m.Unlock(context.Background())
		if err != nil {
			return err
		}
		return unlockErr
	}

	resp, err := cl.Get(ctx, m.Key())
	if err != nil {
		return err
	}
	if len(resp.Kvs) == 0 {
		return errors.New("lock lost on init")
	}
	if err := p.get(resp, false); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return m.Unlock(context.Background())
	case <-s.Done():
	}
	return errors.New("session expired")
}

// lockEnv tells a command run under the lock which key holds it and at
// what revision it was taken.
func lockEnv(m *concurrency.Mutex) []string {
	if m.Header() == nil {
		return nil
	}
	return []string{
		"ETCD_LOCK_KEY=" + m.Key(),
		fmt.Sprintf("ETCD_LOCK_REV=%d", m.Header().Revision),
	}
}
