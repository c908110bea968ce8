// Command etcdutl is Cairn's offline tool for etcd snapshot files and data
// directories, compatible with etcdutl. The command tree lives in
// internal/utl.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cairn-kv/cairn/internal/utl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := utl.Main(utl.Options{Context: ctx}, os.Args[1:])
	stop()
	os.Exit(code)
}
