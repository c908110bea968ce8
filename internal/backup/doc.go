// Package backup moves a member's state machine to and from snapshot files
// in etcd's format (internal/snapshot): Source reads a consistent view of
// the engine for Maintenance.Snapshot, and Restore builds the data
// directory of a new member from a file, for `etcdutl snapshot restore`.
// Files written by etcd restore into Cairn and files written by Cairn
// restore into etcd.
package backup
