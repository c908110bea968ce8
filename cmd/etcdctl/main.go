// Command etcdctl is Cairn's command-line client, compatible with etcdctl's
// v3 command set. The command tree lives in internal/ctl.
package main

import (
	"os"

	"github.com/cairn-kv/cairn/internal/ctl"
)

func main() {
	os.Exit(ctl.Main(ctl.Options{}, os.Args[1:]))
}
