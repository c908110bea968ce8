package ctl

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cairn-kv/cairn/internal/version"
)

// writeHelp prints a command's help screen in etcdctl's layout:
//
//	NAME:
//	  get - Gets the key or a range of keys
//
//	USAGE:
//	  etcdctl get [options] <key> [range_end] [flags]
//
//	OPTIONS:
//	      --consistency="l"	Linearizable(l) or Serializable(s)
//	...
//
// VERSION appears on the root only, API VERSION on commands that have
// subcommands, DESCRIPTION when the command has a long text, Examples when
// it has examples, COMMANDS lists
// runnable commands (groups are expanded: "endpoint health"), and GLOBAL
// OPTIONS holds inherited flags. Columns are aligned with tabs, eight wide.
// The same screen is the usage printed when a flag does not parse.
func writeHelp(w io.Writer, cmd *cobra.Command) {
	tw := tabwriter.NewWriter(w, 0, 8, 1, '\t', 0)
	defer tw.Flush()

	fmt.Fprintf(tw, "NAME:\n  %s - %s\n\n", commandName(cmd), cmd.Short)
	fmt.Fprintf(tw, "USAGE:\n  %s\n\n", cmd.UseLine())
	if !cmd.HasParent() {
		fmt.Fprintf(tw, "VERSION:\n  %s\n\n", version.EtcdVersion)
	}
	if cmd.HasSubCommands() {
		fmt.Fprintf(tw, "API VERSION:\n  %s\n\n", version.APIVersion())
	}
	if cmd.Long != "" {
		fmt.Fprintf(tw, "DESCRIPTION:\n")
		for _, line := range strings.Split(cmd.Long, "\n") {
			fmt.Fprintf(tw, "  %s\n", line)
		}
		fmt.Fprintln(tw)
	}
	if cmd.Example != "" {
		fmt.Fprintf(tw, "Examples:\n")
		for _, line := range strings.Split(cmd.Example, "\n") {
			fmt.Fprintf(tw, "  %s\n", line)
		}
		fmt.Fprintln(tw)
	}
	if cmd.HasSubCommands() {
		fmt.Fprintf(tw, "COMMANDS:\n")
		writeCommandList(tw, cmd, "")
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "OPTIONS:\n")
	writeFlags(tw, cmd.LocalFlags())
	fmt.Fprintln(tw)
	if cmd.HasAvailableInheritedFlags() {
		fmt.Fprintf(tw, "GLOBAL OPTIONS:\n")
		writeFlags(tw, cmd.InheritedFlags())
		fmt.Fprintln(tw)
	}
}

// commandName is the command's path below the root ("endpoint health"), or
// the root's own name.
func commandName(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return cmd.Name()
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// writeCommandList lists the runnable commands under cmd; a group is
// replaced by its own commands, named with the group as prefix.
func writeCommandList(w io.Writer, cmd *cobra.Command, prefix string) {
	for _, sub := range cmd.Commands() {
		if sub.Hidden {
			continue
		}
		if sub.HasSubCommands() {
			writeCommandList(w, sub, prefix+sub.Name()+" ")
			continue
		}
		fmt.Fprintf(w, "  %s%s\t%s\n", prefix, sub.Name(), sub.Short)
	}
}

// writeFlags prints one line per flag: booleans as --name[=default], strings
// quoted as --name="default", everything else as --name=default.
func writeFlags(w io.Writer, fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		lead := "      "
		if f.Shorthand != "" {
			lead = "  -" + f.Shorthand + ", "
		}
		var def string
		switch f.Value.Type() {
		case "bool":
			def = "[=" + f.DefValue + "]"
		case "string":
			def = fmt.Sprintf("=%q", f.DefValue)
		default:
			def = "=" + f.DefValue
		}
		fmt.Fprintf(w, "%s--%s%s\t%s\n", lead, f.Name, def, f.Usage)
	})
}
