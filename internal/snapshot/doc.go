// Package snapshot reads and writes etcd's snapshot files, the format in
// which data moves between etcd and Cairn.
//
// # The file
//
// A snapshot file is a bbolt database holding etcd's backend, byte for byte
// what etcd's Maintenance.Snapshot RPC streams, followed by the 32-byte
// sha256 of those database bytes. A copy of a member's member/snap/db has no
// trailer; the two are told apart by size, since a bbolt file is a whole
// number of pages: a file whose size is 32 more than a multiple of 512 ends
// with a hash.
//
// The database has one bucket per concern. Every integer is big-endian.
//
//	key              revision -> mvccpb.KeyValue. A revision key is 17 bytes:
//	                 8-byte main revision, '_', 8-byte sub revision; a
//	                 deletion (tombstone) appends 't' and its value holds
//	                 only the key. Byte order is revision order.
//	meta             consistent_index, term (uint64); scheduledCompactRev,
//	                 finishedCompactRev (revision keys, sub 0); confState
//	                 (raft ConfState as JSON); storageVersion ("3.6.0").
//	lease            8-byte lease ID -> leasepb.Lease {ID=1, TTL=2,
//	                 RemainingTTL=3}, encoded here with protowire.
//	alarm            marshalled etcdserverpb.AlarmMember -> empty.
//	cluster          clusterVersion ("3.6.0"); downgrade (JSON), when set.
//	members          member ID in lower-case hex, unpadded -> JSON
//	                 {"id","peerURLs","name","clientURLs","isLearner"}.
//	members_removed  member ID in hex -> "removed".
//	auth             authEnabled (1 byte, absent until auth is first
//	                 enabled), authRevision (uint64, 1 on a new cluster).
//	authUsers        user name -> authpb.User.
//	authRoles        role name -> authpb.Role (the root role is implicit).
//
// # Reading
//
// [Open] checks the trailer and the database's meta pages and returns a
// [File]. Reading does not use bbolt: snapshot files come from elsewhere, and
// bbolt trusts its file (it maps it into memory and panics, sometimes on
// goroutines of its own, on a damaged one). The reader here reads pages with
// ReadAt and checks every offset, page number and key order it follows, so
// a truncated or corrupt file is an error, never a crash. [File.Status] and
// [File.HashKV] compute what `etcdutl snapshot status` and `etcdutl hashkv`
// print.
//
// # Writing
//
// [Writer] builds the database with bbolt in a temporary file, because bbolt
// needs one, from a [Source], and streams it followed by its sha256, as etcd's
// Snapshot RPC does. Versions may come in any order; memory stays bounded by
// sorting them in runs spilled to disk and merging the runs.
package snapshot
