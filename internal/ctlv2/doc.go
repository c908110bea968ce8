// Package ctlv2 is etcdctl's v2 command set, what ETCDCTL_API=2 selects:
// set, get, ls, mk, mkdir, setdir, rm, rmdir, update, updatedir, watch,
// exec-watch, member, cluster-health, user, role and auth, over etcd's v2
// HTTP API (/v2/keys, /v2/members, /v2/auth, /health).
//
// Output is byte-identical to etcdctl 3.5's v2 commands (the last release
// that had them), errors and exit codes included, because scripts parse
// it: the simple, extended and json formats; "Error:  <code>: <message>
// (<cause>) [<index>]"; the old v2 client's failover across endpoints and
// its "etcd cluster is unavailable or misconfigured" listing; the help
// screens and the flag syntax of the urfave/cli framework etcdctl v2 was
// built on (see cli.go). Golden tests hold the reference tool's real output
// (testdata/*.golden) and run every command through Main against the real
// v2 handlers.
//
// The client (client.go, keys.go) is our own small HTTP/JSON client; etcd's
// client/v2 is not used.
//
// Differences from etcdctl 3.5: backup refuses (Cairn's data directory is
// not etcd's; take a snapshot with the v3 commands instead), and the
// version printed is the etcd version Cairn implements.
package ctlv2
