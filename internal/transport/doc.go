// Package transport carries raft traffic between members over gRPC on the
// peer URLs: one long-lived stream per peer for raft messages (batched into
// frames), a separate stream per state snapshot, and a few unary calls that
// members make to each other (cluster info for joining members, lease
// keepalives and TTL queries forwarded to the leader).
//
// Messages are framed by a raw codec (codec.go) rather than generated
// protobuf services: a frame is a byte slice, and raft messages inside a
// frame are length-prefixed raftpb encodings. Every stream and call carries
// the cluster ID and the sender's member ID in its metadata; the receiver
// refuses other clusters and removed members.
//
// Sending never blocks the raft loop: each peer has a bounded queue, and a
// message that does not fit is dropped and reported unreachable, which raft
// tolerates by retrying.
package transport
