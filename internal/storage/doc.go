// Package storage owns the member's single Pebble instance and names every key
// prefix in it (schema.go).
//
// One engine holds the raft log, the raft hard state, the MVCC state machine
// and the member's metadata. Because Pebble has one write-ahead log, a synced
// write makes every earlier write durable too: the raft node syncs its log
// appends, and the applier commits its batches without a sync, knowing that
// the raft log is the durable record and that the next synced append (or the
// flush before log truncation) persists the applied state with it.
package storage
