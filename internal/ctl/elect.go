package ctl

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

func (c *cli) newElectCommand() *cobra.Command {
	var listen bool
	cmd := &cobra.Command{
		Use:   "elect <election-name> [proposal]",
		Short: "Observes and participates in leader election",
		Long: `Campaigns in the named election with the proposal as value: once elected,
prints the leader's key and value and stays leader until interrupted, then
resigns. With --listen, prints the leader's key and value each time the
leadership changes, without campaigning.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 && len(args) != 2 {
				return exitErr(ExitBadArgs, errors.New("elect takes one election name argument and an optional proposal argument"))
			}
			cl, p, err := c.clientAndPrinter(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			if len(args) == 1 {
				if !listen {
					return exitErr(ExitBadArgs, errors.New("no proposal argument but -l not set"))
				}
				err = c.observe(cmd, cl, p, args[0])
			} else {
				if listen {
					return exitErr(ExitBadArgs, errors.New("proposal given but -l is set"))
				}
				err = c.campaign(cmd, cl, p, args[0], args[1])
			}
			var ee *exitError
			if err != nil && !errors.As(err, &ee) {
				err = exitErr(ExitError, err)
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&listen, "listen", "l", false, "observation mode")
	return cmd
}

// observe prints every leader of the election, as the leader's key-value
// pair, until interrupted.
func (c *cli) observe(cmd *cobra.Command, cl *clientv3.Client, p printer, name string) error {
	s, err := concurrency.NewSession(cl)
	if err != nil {
		return err
	}
	e := concurrency.NewElection(s, name)
	ctx, stop := c.interruptContext(baseContext(cmd.Context()), true)
	defer stop()

	// The observer must go on to the end of its channel even when printing
	// fails, so that its goroutines are done when we return.
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var printErr error
	for resp := range e.Observe(watchCtx) {
		if printErr != nil {
			continue
		}
		if printErr = p.get(resp, false); printErr != nil {
			cancel()
		}
	}
	if printErr != nil {
		return printErr
	}
	if ctx.Err() == nil {
		return errors.New("elect: observer lost")
	}
	return nil
}

// campaign waits to be elected, prints the leader's (our) key-value pair,
// and resigns when interrupted. A lost session ends it with an error.
func (c *cli) campaign(cmd *cobra.Command, cl *clientv3.Client, p printer, name, proposal string) error {
	s, err := concurrency.NewSession(cl)
	if err != nil {
		return err
	}
	e := concurrency.NewElection(s, name)
	ctx, stop := c.interruptContext(baseContext(cmd.Context()), true)
	defer stop()
	if err := e.Campaign(ctx, proposal); err != nil {
		return err
	}
	resp, err := cl.Get(ctx, e.Key())
	if err != nil {
		return err
	}
	if err := p.get(resp, false); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-s.Done():
		return errors.New("elect: session expired")
	}
	return e.Resign(context.Background())
}
