// Command etcd runs one Cairn member, with etcd's flags, environment
// variables and config file (see internal/config).
//
// Configuration errors are printed to standard error before any logger
// exists, one line per problem, each starting "etcd: ", with no usage text
// and no stack trace; the exit status is 2 for command-line syntax errors
// (an unknown flag, an unparsable value), as Go's flag package gives etcd,
// and 1 for everything else. Once the configuration is valid, everything is
// logged through the configured logger. SIGTERM or SIGINT closes the member
// and exits 0.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"go.etcd.io/raft/v3"
	"google.golang.org/grpc/grpclog"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/gcfloor"
	"github.com/cairn-kv/cairn/internal/logging"
	"github.com/cairn-kv/cairn/internal/server"
	"github.com/cairn-kv/cairn/internal/version"
)

func main() {
	os.Exit(run(os.Args, os.Environ(), os.Stdout, os.Stderr))
}

// heapFloor is the Go heap size below which the member does not collect
// garbage (see package gcfloor). With 64 MiB, 100,000 puts from 256 clients
// take 18 collections instead of 75; GOGC=400 (a goal near 100 MiB) saved
// no more CPU than GOGC=200 (near 60 MiB).
const heapFloor = 64 << 20

func startHeapFloor(lg *slog.Logger) (stop func()) {
	if gcfloor.Overridden() {
		lg.Info("GOGC or GOMEMLIMIT set; the garbage collector runs as they say")
		return func() {}
	}
	lg.Info("garbage collector heap floor", "bytes", heapFloor)
	return gcfloor.Start(heapFloor)
}

// run is main with its inputs and outputs passed in; it returns the exit
// status.
func run(args, environ []string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(args[1:], environ)
	if err != nil {
		return fail(stderr, err)
	}
	switch {
	case cfg.ShowVersion:
		printVersion(stdout)
		return 0
	case cfg.ShowHelp:
		fmt.Fprint(stdout, config.Usage())
		return 0
	}
	if err := cfg.Validate(); err != nil {
		return fail(stderr, err)
	}
	lg, err := logging.New(cfg)
	if err != nil {
		return fail(stderr, err)
	}
	grpclog.SetLoggerV2(logging.GRPCLogger(lg))
	raft.SetLogger(logging.RaftLogger(lg))

	lg.Info("starting etcd", "args", args,
		"etcd-version", version.EtcdVersion, "cairn-version", version.Version, "git-sha", version.GitSHA,
		"go-version", runtime.Version(), "go-os", runtime.GOOS, "go-arch", runtime.GOARCH)
	for _, w := range cfg.Warnings {
		lg.LogAttrs(context.Background(), slog.LevelWarn, w.Msg, w.Attrs...)
	}
	defer startHeapFloor(lg)()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv, err := server.New(cfg, lg)
	if err != nil {
		lg.Error("cannot create server", "error", err)
		return 1
	}
	if err := srv.Start(ctx); err != nil {
		lg.Error("cannot start server", "error", err)
		if err := srv.Close(); err != nil {
			lg.Error("cannot close server", "error", err)
		}
		return 1
	}
	select {
	case <-ctx.Done():
		lg.Info("received signal; shutting down")
	case <-srv.Done():
		// The server stopped on its own (it was removed from the cluster).
	}
	if err := srv.Close(); err != nil {
		lg.Error("cannot close server", "error", err)
		return 1
	}
	return 0
}

// printVersion prints etcd's --version lines and Cairn's own.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "etcd Version: %s\n", version.EtcdVersion)
	fmt.Fprintf(w, "Git SHA: %s\n", version.GitSHA)
	fmt.Fprintf(w, "Go Version: %s\n", runtime.Version())
	fmt.Fprintf(w, "Go OS/Arch: %s/%s\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "Cairn Version: %s\n", version.Version)
}

// fail prints each problem in err on its own line and returns the exit
// status for it.
func fail(w io.Writer, err error) int {
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(w, "etcd: %s\n", line)
	}
	if _, ok := errors.AsType[*config.UsageError](err); ok {
		return 2
	}
	return 1
}
