package ctl

import (
	"bufio"

	"github.com/spf13/cobra"
)

func (c *cli) newTxnCommand() *cobra.Command {
	var interactive bool
	cmd := &cobra.Command{
		Use:   "txn [options]",
		Short: "Txn processes all the requests in one transaction",
		Long: `Reads a transaction from standard input and applies it atomically.

The input has three sections, each ended by a blank line: the comparisons,
all of which must hold; the requests to apply when they do; and the
requests to apply when they do not. A comparison reads target("key") op
"value" with target one of c (create), m (mod), ver, val or lease and op
one of =, !=, < or >. A request is a get, put or del command line.

  mod("key1") > "0"

  put key1 "overwritten"

  put key1 "created"
  put key2 "another key"

With --interactive each section is prompted for.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.newClient(nil)
			if err != nil {
				return err
			}
			defer cl.Close()
			p, err := c.printer(cmd)
			if err != nil {
				return err
			}
			r := &txnReader{
				in:          bufio.NewReader(cmd.InOrStdin()),
				interactive: interactive,
				stdout:      cmd.OutOrStdout(),
				stderr:      cmd.ErrOrStderr(),
				sleep:       c.opts.Sleep,
			}
			spec, err := r.read()
			if err != nil {
				return err
			}
			ctx, cancel := c.commandCtx(cmd)
			resp, err := cl.Txn(ctx).If(spec.compares...).Then(spec.success...).Else(spec.failure...).Commit()
			cancel()
			if err != nil {
				return rpcError(err)
			}
			return p.txn(resp)
		},
	}
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "Input transaction in interactive mode")
	return cmd
}
