// Package ctl is Cairn's etcdctl: the v3 command-line client, built on cobra
// and go.etcd.io/etcd/client/v3.
//
// The output of every command is meant to be byte-identical to etcdctl 3.6
// for the same server data, in every --write-out format and with --hex, and
// errors end the process with etcdctl's exit codes. Golden tests in testdata/
// hold the reference tool's real output and pin that.
//
// Layout: one file per command group (get.go, put.go, del.go, txn.go,
// compaction.go, watch.go, lease.go, lock.go, elect.go, endpoint.go,
// member.go, move_leader.go, version.go), one file per output format
// (printer_*.go), and the shared machinery: global flags and the ETCDCTL_*
// environment (root.go, env.go), the client (client.go), the help screens
// (help.go), exit codes (exit.go), interrupts (interrupt.go) and the txn
// grammar (txn_parse.go, whose word splitting interactive watch shares).
//
// Commands never call os.Exit: they return an error that carries an exit
// code, and Main prints it as "Error: <message>" on stderr and returns the
// code. Tests therefore run the whole command tree in-process and capture
// stdout and stderr through cobra's OutOrStdout and ErrOrStderr; the
// long-running commands (watch, lease keep-alive, lock, elect) are stopped
// through Options.Interrupt instead of a signal.
package ctl
