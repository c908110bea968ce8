// Package v3lock serves the Lock and Election gRPC services (and their JSON
// gateway routes) that etcd members offer beside the KV API.
//
// Both are thin: each call builds a client of the member's own KV, Lease
// and Watch services over an in-process connection and runs the recipes of
// go.etcd.io/etcd/client/v3/concurrency with it, as etcd's server does. The
// calls therefore go through the same validation, raft proposals and
// permission checks as any client's: the caller's token (gRPC metadata
// "token" or "authorization") is passed on to every inner call.
//
// Lock(name, lease) creates the key name/<lease id in hex> owned by the
// lease and returns once every key of the same name created before it is
// gone; Unlock deletes the key. Campaign does the same under the election's
// name with the candidate's value, Proclaim rewrites the leader's value
// when its key still has the creation revision the leader key names,
// Leader reads the oldest key of the election, Observe streams it as it
// changes and Resign deletes the leader's key.
//
// The message types live in v3lockpb and v3electionpb, generated from the
// .proto files under proto/ (run proto/gen.sh, or go generate).
package v3lock

//go:generate sh proto/gen.sh
