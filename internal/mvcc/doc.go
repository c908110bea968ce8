// Package mvcc is Cairn's multi-version key-value store, kept entirely in
// Pebble so that memory does not grow with the number of keys.
//
// # Revisions
//
// The store has one global main revision. It starts at 1; every write
// transaction that changes something takes the next main revision, and the
// changes inside it are numbered by a sub revision 0, 1, 2... A key's
// create_revision is the main revision that (re)created it, mod_revision the
// one that last changed it and version counts puts since creation (0 after a
// delete). These are etcd's rules exactly; clients depend on them.
//
// # Layout
//
// Every version of every key is one Pebble entry:
//
//	'k' + escaped(user key) + ^main (8 bytes, big-endian)  ->  version record
//
// The escaping (key.go) keeps the byte order of user keys and makes the
// encoding prefix-free, so one user key's versions are contiguous, newest
// first, and a range of user keys is a contiguous scan. Reading at revision R
// seeks to escaped(key)+^R and lands on the newest version at or below R.
// A delete writes a tombstone version.
//
// A second, revision-ordered log records which key changed at each (main,
// sub) revision:
//
//	'e' + main + sub  ->  flags + user key
//
// Watchers catch up from it and compaction walks it to find the versions a
// compaction makes obsolete, so compaction work is proportional to the writes
// since the last compaction, never to the size of the store.
//
// # Concurrency
//
// A single applier goroutine writes, through Batch and WriteTxn, into one
// Pebble batch per group of raft entries; readers use the engine directly at
// the published current revision. Pebble iterators are point-in-time views,
// and the compaction revision is published before any version is deleted,
// so a reader that passed the compaction check never sees a half-compacted
// key.
package mvcc
