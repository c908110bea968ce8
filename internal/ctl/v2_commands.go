package ctl

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// v2OnlyCommands are the commands of etcdctl's v2 command set that the v3
// set has no command of the same name for. The v3 set answers them as
// unknown commands, as etcdctl does (exit 1, the same first lines), and
// adds a line that points to ETCDCTL_API=2, which the etcdctl binary
// dispatches to the v2 command set.
var v2OnlyCommands = []string{
	"backup", "cluster-health", "exec-watch", "ls", "mk", "mkdir",
	"rm", "rmdir", "set", "setdir", "update", "updatedir",
}

// newV2OnlyCommands returns a hidden command per v2-only name, which takes
// any arguments and fails with the hint.
func (c *cli) newV2OnlyCommands() []*cobra.Command {
	var cmds []*cobra.Command
	for _, name := range v2OnlyCommands {
		cmds = append(cmds, &cobra.Command{
			Use:                name,
			Hidden:             true,
			DisableFlagParsing: true,
			RunE:               func(*cobra.Command, []string) error { return c.v2OnlyError(name) },
		})
	}
	return cmds
}

// isV2Only reports whether cmd is one of the hidden v2-only commands.
func isV2Only(cmd *cobra.Command) bool {
	return cmd.Hidden && cmd.Parent() != nil && !cmd.Parent().HasParent() && slices.Contains(v2OnlyCommands, cmd.Name())
}

// v2OnlyHint is the line that follows the error for a v2-only command.
func v2OnlyHint(name string) string {
	return fmt.Sprintf("%q is a command of etcdctl's v2 API: run it with ETCDCTL_API=2\n", name)
}

// v2OnlyError is cobra's error for an unknown command, suggestions
// included, followed by the hint and cobra's usage line.
func (c *cli) v2OnlyError(name string) error {
	root := c.root
	if root.SuggestionsMinimumDistance <= 0 {
		root.SuggestionsMinimumDistance = 2 // cobra's default
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "unknown command %q for %q", name, root.CommandPath())
	if s := root.SuggestionsFor(name); len(s) > 0 {
		msg.WriteString("\n\nDid you mean this?\n")
		for _, cmd := range s {
			fmt.Fprintf(&msg, "\t%v\n", cmd)
		}
	}
	return &exitError{
		Code:    ExitError,
		Err:     errors.New(msg.String()),
		trailer: v2OnlyHint(name) + fmt.Sprintf("Run '%s --help' for usage.\n", root.CommandPath()),
	}
}
