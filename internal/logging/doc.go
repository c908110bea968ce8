// Package logging builds the server's *slog.Logger from the configuration,
// writing lines in the shape etcd's logs have, so that the tools reading
// etcd logs (log shippers, alert rules, scripts waiting for "ready to serve
// client requests") read Cairn's unchanged.
//
// With --log-format json (the default) each record is one JSON object on one
// line, with etcd's keys first and in etcd's order:
//
//	{"level":"info","ts":"2025-01-02T15:04:05.123456Z","caller":"server/server.go:88","msg":"ready to serve client requests","address":"127.0.0.1:2379"}
//
// level is lower case (debug, info, warn, error, panic, fatal); ts is the
// local time with microseconds and a numeric zone ("Z" in UTC, "+0100"
// elsewhere), as etcd prints it; caller is the last directory and file of
// the logging call. The record's attributes follow, durations as strings
// ("100ms") and errors as their text.
//
// With --log-format console each record is one tab-separated line: time,
// level, caller, message and the attributes as a JSON object.
//
// RaftLogger and GRPCLogger adapt the logger to the interfaces that
// go.etcd.io/raft and gRPC log through.
package logging
