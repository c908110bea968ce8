// Package bench is Cairn's load tool: the command tree behind cmd/benchmark,
// its workloads, and the statistics and reports it prints.
//
// The tool speaks the etcd v3 API through the official client, so it
// measures any etcd-compatible endpoint, Cairn or etcd itself, with the same
// instrument. Its subcommands and flags follow etcd's benchmark tool (put,
// range, txn-put, txn-mixed, watch, watch-latency, lease-keepalive; global
// --endpoints, --clients, --conns, TLS and --user), and so does its report:
//
//	Summary:
//	  Total:	1.4805 secs.
//	  ...
//	Response time histogram:
//	  0.0007 [1]	|
//	  0.0051 [1816]	|∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
//	  ...
//	Latency distribution:
//	  10% in 0.0014 secs.
//	  ...
//
// After the human report each run prints one JSON line (see Summary) for
// scripts, and while it runs it draws a progress bar on stderr when stderr
// is a terminal.
//
// # Measuring
//
// A run starts --clients workers sharing --conns gRPC connections. Each
// worker takes the next request number from a shared counter until --total
// requests have been issued, optionally paced by a shared rate limiter, and
// records each request's start, latency and error in its own buffer, so
// recording adds no contention. Latencies are per request, wall clock, as
// the client sees them. Percentiles use the nearest-rank definition: the
// p-th percentile is the smallest latency that at least p% of the
// successful requests did not exceed. Failed requests count as errors and
// are left out of the latency statistics.
//
// Written values are random bytes, drawn per request, so that a store which
// compresses its blocks is not flattered by a value repeated a million
// times.
package bench
