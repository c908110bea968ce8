package ctl

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-kv/cairn/internal/version"
)

// newVersionCommand reports the etcd version whose etcdctl this one
// behaves like, and its API version.
func (c *cli) newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Prints the version of etcdctl",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "etcdctl version: %s\n", version.EtcdVersion)
			fmt.Fprintf(cmd.OutOrStdout(), "API version: %s\n", version.APIVersion())
		},
	}
}
