// Package raftnode drives go.etcd.io/raft for one member: it ticks the
// clock, runs the Ready loop (persist, send, hand committed entries to the
// applier), keeps the raft log and hard state in Pebble (LogStore) and
// truncates the log once the applied state covers it.
//
// It drives raft's RawNode under a mutex instead of using raft.Node:
// callers step proposals, read index requests and peer messages
// themselves, and one loop goroutine takes each Ready, so that no request
// waits for a goroutine hand-off inside raft.
//
// Durability: entries and hard state of each Ready are written in one Pebble
// batch, synced when raft asks for it (new entries, term or vote), before
// the entries are handed to the applier or acknowledged to anyone. Because
// the engine has one write-ahead log, that sync also persists every applier
// batch committed before it.
package raftnode
