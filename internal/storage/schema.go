package storage

import "encoding/binary"

// Key prefixes. Each concern lives under its own first byte so that scans
// never cross concerns and Pebble keeps them in separate key ranges.
const (
	// PrefixMeta holds this member's own metadata: raft hard state, log
	// truncation point, identity. It is never part of a state snapshot.
	PrefixMeta byte = 'M'
	// PrefixState holds the replicated state machine's single-valued keys
	// (applied index, revisions, cluster version).
	PrefixState byte = 'S'
	// PrefixRaftLog holds raft entries: PrefixRaftLog + 8-byte big-endian index.
	PrefixRaftLog byte = 'L'
	// PrefixKV holds MVCC versions: PrefixKV + escaped user key + inverted
	// 8-byte main revision (newest first). See package mvcc.
	PrefixKV byte = 'k'
	// PrefixRevLog holds the revision-ordered change log used for watch
	// catch-up and compaction: PrefixRevLog + main + sub (big-endian).
	PrefixRevLog byte = 'e'
	// PrefixMember holds cluster members: PrefixMember + 8-byte member ID.
	PrefixMember byte = 'n'
	// PrefixRemovedMember holds IDs of removed members.
	PrefixRemovedMember byte = 'N'
	// PrefixLease holds leases: PrefixLease + 8-byte lease ID.
	PrefixLease byte = 's'
	// PrefixLeaseKey indexes the keys attached to each lease:
	// PrefixLeaseKey + 8-byte lease ID + user key, with an empty value.
	PrefixLeaseKey byte = 't'
	// PrefixV2 holds the v2 key space (the /v2/keys tree, its index and
	// event history): see package v2store. It is state, so it travels in
	// state snapshots.
	PrefixV2 byte = 'v'
)

// Member-local metadata keys.
var (
	// KeyHardState is the raft HardState (term, vote, commit), synced with
	// every log append.
	KeyHardState = metaKey("raft_hard_state")
	// KeyRaftSnapshot is the metadata of the last raft log truncation point
	// (index, term, conf state): entries at or below it are gone.
	KeyRaftSnapshot = metaKey("raft_snapshot")
	// KeyLocalMember is this member's ID, fixed when the data dir is created.
	KeyLocalMember = metaKey("local_member_id")
	// KeyClusterID is the cluster's ID, fixed when the data dir is created.
	KeyClusterID = metaKey("cluster_id")
	// KeySnapshotPending names a received state snapshot whose installation
	// has not finished; a restart installs it again.
	KeySnapshotPending = metaKey("snapshot_pending")
)

// Replicated state-machine keys.
var (
	// KeyApplied is the applied raft index and term, written in the same batch
	// as the state the entries produced.
	KeyApplied = stateKey("applied_index")
	// KeyConfState is the raft ConfState as of the applied index.
	KeyConfState = stateKey("conf_state")
	// KeyCurrentRev is the MVCC store's current main revision.
	KeyCurrentRev = stateKey("mvcc_current_rev")
	// KeyScheduledCompact is the revision of the last accepted compaction.
	KeyScheduledCompact = stateKey("mvcc_scheduled_compact")
	// KeyFinishedCompact is the revision up to which old versions are gone.
	KeyFinishedCompact = stateKey("mvcc_finished_compact")
	// KeyClusterVersion is the cluster version string agreed through raft.
	KeyClusterVersion = stateKey("cluster_version")
	// KeyKeyCount is the number of live keys in the MVCC store.
	KeyKeyCount = stateKey("mvcc_key_count")
)

func stateKey(name string) []byte { return append([]byte{PrefixState}, name...) }

// IsStateKey reports whether key belongs to the replicated state machine,
// i.e. travels in state snapshots: everything but the raft log and the
// member's own metadata.
func IsStateKey(key []byte) bool {
	return len(key) > 0 && key[0] != PrefixRaftLog && key[0] != PrefixMeta
}

// StateSpans are the key ranges of the state machine, in order.
func StateSpans() [][2][]byte {
	return [][2][]byte{
		{{0}, {PrefixRaftLog}},
		{PrefixEnd(PrefixRaftLog), {PrefixMeta}},
		{PrefixEnd(PrefixMeta), {0xff, 0xff, 0xff, 0xff}},
	}
}

func metaKey(name string) []byte { return append([]byte{PrefixMeta}, name...) }

// RaftLogKey is the key of the raft entry at index.
func RaftLogKey(index uint64) []byte {
	k := make([]byte, 9)
	k[0] = PrefixRaftLog
	binary.BigEndian.PutUint64(k[1:], index)
	return k
}

// RaftLogIndex decodes the index from a RaftLogKey.
func RaftLogIndex(key []byte) uint64 { return binary.BigEndian.Uint64(key[1:]) }

// MemberKey is the key of the member with the given ID.
func MemberKey(id uint64) []byte {
	k := make([]byte, 9)
	k[0] = PrefixMember
	binary.BigEndian.PutUint64(k[1:], id)
	return k
}

// RemovedMemberKey marks a member ID as removed for good.
func RemovedMemberKey(id uint64) []byte {
	k := MemberKey(id)
	k[0] = PrefixRemovedMember
	return k
}

// LeaseKey is the key of a lease record.
func LeaseKey(id int64) []byte {
	k := make([]byte, 9)
	k[0] = PrefixLease
	binary.BigEndian.PutUint64(k[1:], uint64(id))
	return k
}

// LeaseKeyIndex is the index entry attaching key to lease id.
func LeaseKeyIndex(id int64, key []byte) []byte {
	k := make([]byte, 9, 9+len(key))
	k[0] = PrefixLeaseKey
	binary.BigEndian.PutUint64(k[1:], uint64(id))
	return append(k, key...)
}

// PrefixEnd returns the smallest key greater than every key starting with
// the one-byte prefix p.
func PrefixEnd(p byte) []byte { return []byte{p + 1} }

// PutUint64 encodes v as 8 big-endian bytes.
func PutUint64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}
