// Package v2store is the v2 key space: etcd 3.5's hierarchical store of
// keys and directories behind /v2/keys, kept apart from the MVCC store (v3
// never sees it and it never sees v3).
//
// The store is a replicated state machine of its own. Every change arrives
// as a Request decoded from a raft entry and is applied by Store.Apply,
// which is deterministic: it reads no clock (expiration times come inside
// the request, computed by the proposing member, and expiry happens only
// when the leader proposes a SYNC request carrying its time) and it writes
// every change to the engine batch it is given, in the same batch as the
// applied index, so a restart resumes exactly where the engine left off.
//
// Indexes follow etcd's v2 store: one counter of its own (the "etcd index")
// that every successful change, including the cluster's own membership
// records that etcd keeps under the hidden /0 directory, advances by one.
// User keys live under /1 (the /v2/keys handler adds and strips that
// prefix), exactly as in etcd, so indexes match etcd 3.5's for the same
// sequence of requests.
//
// The last 1000 events are kept (and persisted) for waitIndex watches; an
// older index answers error 401.
//
// Layout under storage.PrefixV2 ('v'):
//
//	'v' 'i'                 current etcd index (8 bytes big-endian)
//	'v' 'n' <path>          one node: see encodeNode
//	'v' 'h' <8-byte index>  one history event, JSON
package v2store
