package snapshot

import (
	"go.etcd.io/etcd/api/v3/authpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// Version is one entry of the key space's history: the key-value pair
// written at revision {Main, Sub}, or, when Tombstone is set, the deletion of
// KV.Key at that revision (KV then carries the key alone, as etcd stores it).
type Version struct {
	Main, Sub int64
	Tombstone bool
	KV        *mvccpb.KeyValue
}

// Lease is a granted lease. RemainingTTL is the TTL left at the last
// checkpoint, zero when none was taken.
type Lease struct {
	ID, TTL, RemainingTTL int64
}

// Member is a cluster member as the members bucket records it.
type Member struct {
	ID         uint64
	Name       string
	PeerURLs   []string
	ClientURLs []string
	IsLearner  bool
}

// Meta is the backend's bookkeeping: the raft position the data reflects,
// the compaction marks, and versions.
type Meta struct {
	ConsistentIndex, Term uint64
	// ScheduledCompact and FinishedCompact are main revisions; zero means no
	// compaction was ever scheduled (finished). A scheduled compaction ahead
	// of the finished one was interrupted and is redone on load.
	ScheduledCompact, FinishedCompact int64
	// ConfState is raft's ConfState as JSON, as etcd stores it, or nil.
	ConfState []byte
	// StorageVersion is the backend schema version ("3.6.0"); empty before 3.6.
	StorageVersion string
	// ClusterVersion is the cluster's version ("3.6.0"), from the cluster bucket.
	ClusterVersion string
}

// Auth is the authentication state. Users and roles are in name order when
// read.
type Auth struct {
	Enabled  bool
	Revision uint64
	Users    []*authpb.User
	Roles    []*authpb.Role
}

// Source is what a snapshot is written from: a consistent view of a store.
// Each method is called once.
type Source interface {
	// Versions calls fn for every version, in any order, and stops at the
	// first error fn returns, returning it.
	Versions(fn func(Version) error) error
	Leases() ([]Lease, error)
	// Members returns the current members and the IDs of removed ones.
	Members() (members []Member, removed []uint64, err error)
	// Auth returns the auth state; nil leaves the auth buckets empty.
	Auth() (*Auth, error)
	Meta() (*Meta, error)
}
