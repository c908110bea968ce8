package config

import (
	"fmt"
	"strings"
)

// Usage returns the --help text: how to run the server, then every flag by
// group with its default and its ETCD_* variable.
func Usage() string {
	var b strings.Builder
	b.WriteString(`Usage:

  etcd [flags]
      Start a member of an etcd-compatible cluster.
  etcd --version
      Print the version and exit.
  etcd -h | --help
      Print this help and exit.
  etcd --config-file <file>
      Read the configuration from a YAML file; all other flags and ETCD_*
      variables are then ignored.

Every flag may also be set with an environment variable named ETCD_ and the
flag name in upper case with dashes as underscores (--initial-cluster-token is
ETCD_INITIAL_CLUSTER_TOKEN). Setting both for one flag is an error.
`)
	group := ""
	for _, f := range flagTable {
		if f.hidden || f.ignored {
			continue
		}
		if f.group != group {
			group = f.group
			fmt.Fprintf(&b, "\n%s:\n", group)
		}
		def := f.def
		if f.shown != "" {
			def = f.shown
		}
		if _, isBool := f.bind(&Config{}).(boolFlag); isBool && f.cmdOnly {
			fmt.Fprintf(&b, "  --%s\n", f.name)
		} else {
			fmt.Fprintf(&b, "  --%s '%s'\n", f.name, def)
		}
		fmt.Fprintf(&b, "      %s\n", f.usage)
		if f.name == "feature-gates" {
			for _, line := range featureUsage() {
				fmt.Fprintf(&b, "        %s\n", line)
			}
		}
	}
	return b.String()
}
