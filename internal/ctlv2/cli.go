package ctlv2

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// etcdctl v2 was built on urfave/cli v1, whose flags are Go's flag package
// (so -ttl and --ttl are the same flag, and a flag's value may follow it as
// the next word or after "=") and whose help screens have a fixed layout.
// Scripts depend on both, so this file reproduces them: a command tree,
// flag parsing with urfave's reordering of a command's flags before its
// arguments, and the help screens. cobra (which the v3 etcdctl uses) parses
// differently (-ttl would be -t -t -l), hence this small framework.

type flagKind int

const (
	boolFlag flagKind = iota
	stringFlag
	intFlag
	durationFlag
	stringSliceFlag
)

// flagSpec describes one flag: its names (the first is the one values are
// looked up by), kind and help text.
type flagSpec struct {
	names []string
	kind  flagKind
	usage string
	// placeholder replaces "value" in the help screen.
	placeholder string
	// def is the default value, as the flag package parses it.
	def string
	// showDef is the "(default: ...)" suffix of the help screen.
	showDef string
}

// helpLine is the flag's line in a help screen: names, a tab, usage.
func (f *flagSpec) helpLine() string {
	ph := f.placeholder
	if ph == "" && f.kind != boolFlag {
		ph = "value"
	}
	var names []string
	for _, n := range f.names {
		s := "--" + n
		if len(n) == 1 {
			s = "-" + n
		}
		if ph != "" {
			s += " " + ph
		}
		names = append(names, s)
	}
	return strings.Join(names, ", ") + "\t" + f.usage + f.showDef
}

// values holds parsed flags by their first name.
type values map[string]any

func (v values) bool(name string) bool {
	b, _ := v[name].(*bool)
	return b != nil && *b
}

func (v values) string(name string) string {
	if s, ok := v[name].(*string); ok {
		return *s
	}
	return ""
}

func (v values) int(name string) int {
	if i, ok := v[name].(*int); ok {
		return *i
	}
	return 0
}

func (v values) duration(name string) time.Duration {
	if d, ok := v[name].(*time.Duration); ok {
		return *d
	}
	return 0
}

func (v values) strings(name string) []string {
	if s, ok := v[name].(*sliceValue); ok {
		return *s
	}
	return nil
}

// sliceValue is a repeatable string flag.
type sliceValue []string

func (s *sliceValue) String() string     { return strings.Join(*s, ",") }
func (s *sliceValue) Set(v string) error { *s = append(*s, v); return nil }

// parseFlags parses args against specs with the flag package's syntax and
// error messages.
func parseFlags(name string, specs []*flagSpec, args []string) (values, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	vals := values{}
	for _, f := range specs {
		switch f.kind {
		case boolFlag:
			p := new(bool)
			for _, n := range f.names {
				fs.BoolVar(p, n, false, f.usage)
			}
			vals[f.names[0]] = p
		case stringFlag:
			p := new(string)
			for _, n := range f.names {
				fs.StringVar(p, n, f.def, f.usage)
			}
			vals[f.names[0]] = p
		case intFlag:
			p := new(int)
			for _, n := range f.names {
				fs.IntVar(p, n, 0, f.usage)
			}
			vals[f.names[0]] = p
		case durationFlag:
			p := new(time.Duration)
			*p, _ = time.ParseDuration(f.def)
			for _, n := range f.names {
				fs.DurationVar(p, n, *p, f.usage)
			}
			vals[f.names[0]] = p
		case stringSliceFlag:
			p := new(sliceValue)
			for _, n := range f.names {
				fs.Var(p, n, f.usage)
			}
			vals[f.names[0]] = p
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	return vals, fs.Args(), nil
}

// reorderArgs moves a command's flags (and the word after a flag given
// without "=") in front of its other arguments, as urfave/cli v1 does, so
// "set /k --ttl 5 v" works. Everything from "--" on stays in place.
func reorderArgs(specs []*flagSpec, args []string) []string {
	var flags, rest []string
	valueNext := false
	for i, a := range args {
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			return append(flags, rest...)
		case valueNext && !strings.HasPrefix(a, "-"):
			valueNext = false
			flags = append(flags, a)
		case isFlagOf(specs, a):
			flags = append(flags, a)
			valueNext = !strings.Contains(a, "=")
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

func isFlagOf(specs []*flagSpec, a string) bool {
	if a == "-" || !strings.HasPrefix(a, "-") {
		return false
	}
	name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	name, _, _ = strings.Cut(name, "=")
	for _, f := range specs {
		for _, n := range f.names {
			if n == name {
				return true
			}
		}
	}
	return false
}

// command is a node of the command tree: a leaf with an action or a group
// of subcommands.
type command struct {
	name    string
	aliases []string
	// usage is the one-line summary.
	usage string
	// usageText, when set, is the whole USAGE line of the help screen.
	usageText string
	// argsUsage follows the command name in the USAGE line.
	argsUsage   string
	description string
	flags       []*flagSpec
	subs        []*command
	action      func(c *cmdContext) int
}

func (c *command) names() []string { return append([]string{c.name}, c.aliases...) }

func (c *command) find(name string) *command {
	for _, s := range c.subs {
		for _, n := range s.names() {
			if n == name {
				return s
			}
		}
	}
	return nil
}

// helpFlag is the --help flag every command accepts.
var helpFlag = &flagSpec{names: []string{"help", "h"}, kind: boolFlag, usage: "show help"}

// writeCommandHelp prints a leaf command's help screen (also what "help
// <group>" prints for a group).
func writeCommandHelp(w io.Writer, helpName string, c *command) {
	tw := tabwriter.NewWriter(w, 1, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME:\n   %s - %s\n\nUSAGE:\n   ", helpName, c.usage)
	switch {
	case c.usageText != "":
		fmt.Fprint(tw, c.usageText)
	default:
		fmt.Fprint(tw, helpName)
		if len(c.flags) > 0 {
			fmt.Fprint(tw, " [command options]")
		}
		if c.argsUsage != "" {
			fmt.Fprint(tw, " "+c.argsUsage)
		} else {
			fmt.Fprint(tw, " [arguments...]")
		}
	}
	if c.description != "" {
		fmt.Fprintf(tw, "\n\nDESCRIPTION:\n   %s", c.description)
	}
	if len(c.flags) > 0 {
		fmt.Fprint(tw, "\n\nOPTIONS:\n   ")
		for _, f := range c.flags {
			fmt.Fprintf(tw, "%s\n   ", f.helpLine())
		}
	}
	fmt.Fprint(tw, "\n")
	_ = tw.Flush()
}

// writeGroupHelp prints the help screen of a command group (member, user,
// role, auth).
func writeGroupHelp(w io.Writer, helpName string, c *command) {
	tw := tabwriter.NewWriter(w, 1, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME:\n   %s - %s\n\nUSAGE:\n   %s command [command options] [arguments...]\n\nCOMMANDS:", helpName, c.usage, helpName)
	for _, s := range c.subs {
		fmt.Fprintf(tw, "\n   %s\t%s", strings.Join(s.names(), ", "), s.usage)
	}
	fmt.Fprintf(tw, "\n\nOPTIONS:\n   %s\n   \n", helpFlag.helpLine())
	_ = tw.Flush()
}

// writeAppHelp prints the top-level help screen.
func writeAppHelp(w io.Writer, app *command, globals []*flagSpec, ver string) {
	tw := tabwriter.NewWriter(w, 1, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME:\n   %s - %s\n\nUSAGE:\n   %s [global options] command [command options] [arguments...]\n\nVERSION:\n   %s\n\nCOMMANDS:",
		app.name, app.usage, app.name, ver)
	for _, s := range app.subs {
		fmt.Fprintf(tw, "\n   %s\t%s", strings.Join(s.names(), ", "), s.usage)
	}
	fmt.Fprint(tw, "\n   help, h\tShows a list of commands or help for one command")
	fmt.Fprint(tw, "\n\nGLOBAL OPTIONS:")
	for _, f := range globals {
		fmt.Fprintf(tw, "\n   %s", f.helpLine())
	}
	fmt.Fprint(tw, "\n")
	_ = tw.Flush()
}

// errNoHelpTopic is what asking for an unknown command prints.
func errNoHelpTopic(name string) error { return errors.New("No help topic for '" + name + "'") }
