// Command etcdctl is Cairn's command-line client, compatible with etcdctl.
// ETCDCTL_API=2 selects the v2 command set (internal/ctlv2); anything else
// runs the v3 command set (internal/ctl), the default since etcd 3.4.
package main

import (
	"os"

	"github.com/cairn-kv/cairn/internal/ctl"
	"github.com/cairn-kv/cairn/internal/ctlv2"
)

func main() {
	if os.Getenv("ETCDCTL_API") == "2" {
		os.Exit(ctlv2.Main(os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(ctl.Main(ctl.Options{}, os.Args[1:]))
}
