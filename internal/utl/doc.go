// Package utl is Cairn's etcdutl: the offline commands that work on files
// rather than on a running cluster.
//
//	snapshot status <file>    hash, revision, keys, size and storage version
//	                          of an etcd snapshot file (any -w format)
//	hashkv <file> [--rev N]   the key space hash at a revision, as HashKV
//	snapshot restore <file>   a new Cairn data dir from a snapshot (Cairn's or
//	                          etcd's), with etcd's flags (internal/backup)
//	defrag --data-dir DIR     a full compaction of a stopped member's engine
//	version                   the etcdutl version this one behaves as
//
// Output, error texts and exit codes are etcdutl 3.6's byte for byte (the
// golden files under testdata are its real output), except:
//
//   - where etcdutl crashes, this one answers or fails with an error:
//     hashkv on a snapshot whose live keys have leases (etcdutl panics with
//     "no lessor to attach lease"), status or hashkv on a truncated or
//     damaged file (SIGBUS, or a panic in bbolt);
//   - a file shorter than the hash trailer is refused by restore as missing
//     its hash, where etcdutl fails to seek ("seek: invalid argument");
//   - a bbolt file without etcd's key and meta buckets is not a snapshot;
//   - host names in --initial-cluster and --initial-advertise-peer-urls are
//     compared as written, not resolved (as in internal/config);
//   - there is no migrate command (a Cairn data dir has no etcd schema),
//     defrag works on <data-dir>/member, and log lines on stderr are JSON,
//     like Cairn's other logs.
//
// Like etcdutl, commands report their own failures and exit, while usage
// errors (a missing argument, an unknown flag) are printed by cobra with the
// usage and then again by Main.
//
// The global --timeout flag comes from etcdutl 3.7 and is hidden from the
// help, which stays 3.6's; it bounds the wait for a data directory's lock
// and is passed to Restore (a running member holds the engine's lock).
package utl
