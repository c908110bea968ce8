// Package utl is Cairn's etcdutl: the offline commands that work on files
// rather than on a running cluster.
//
//	snapshot status <file>    hash, revision, keys, size and storage version
//	                          of an etcd snapshot file (any -w format)
//	hashkv <file> [--rev N]   the key space hash at a revision, as HashKV
//	snapshot restore <file>   a new data dir from a snapshot, with etcd's
//	                          flags; the data dir is written by the function
//	                          installed in Restore
//	defrag --data-dir DIR     nothing to do: Cairn's storage (an LSM tree)
//	                          reclaims space by compaction as it runs, so
//	                          defrag checks the directory and says so
//	version                   the etcdutl version Cairn's behaves as
//
// Output, error texts and exit codes are etcdutl 3.6's byte for byte, with
// two kinds of exceptions: where etcdutl crashes (hashkv on a snapshot whose
// live keys have leases, status on a truncated file) this one answers or
// fails cleanly, and etcdutl's log lines on stderr are Cairn's (JSON).
// Like etcdutl, commands report their own failures and exit, while usage
// errors (a missing argument, an unknown flag) are printed by cobra with the
// usage and then again by Main.
//
// The global --timeout flag comes from etcdutl 3.7 and is hidden from the
// help, which stays 3.6's; it bounds the wait for a data directory's lock
// and is passed to Restore.
package utl
