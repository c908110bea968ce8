// Command benchmark is Cairn's load tool, with the subcommands, flags and
// report of etcd's benchmark tool. The command tree lives in internal/bench.
package main

import (
	"os"

	"github.com/cairn-kv/cairn/internal/bench"
)

func main() {
	os.Exit(bench.Main(bench.Options{}, os.Args[1:]))
}
