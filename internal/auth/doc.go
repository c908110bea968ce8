// Package auth is etcd's authentication and role-based access control:
// users, roles, key-range permissions, password checking and tokens.
//
// # State and determinism
//
// The replicated state is small: the users (name, bcrypt hash, roles,
// options), the roles (name, key permissions), whether authentication is
// enabled, and the auth revision. It lives in the member's Pebble instance
// under Prefix ('a', layout in store.go), so it travels with state
// snapshots, and changes only through the apply-side methods of Store
// (Enable, UserAdd, RoleGrantPermission, ...), which the applier calls in
// log order with its batch. They never look at a clock or a random source
// and never hash a password: the proposer hashes (HashPassword) and puts
// the hash in the request, so every member stores the same bytes.
//
// The auth revision starts at 1. Every successful change of users, roles or
// permissions adds one, and so does disabling; enabling does not, and
// neither do no-op requests (enabling twice, granting a role the user
// already holds). Validation order and error choice follow etcd 3.6,
// recorded from the reference in testdata/transcripts.
//
// # Permissions
//
// A permission grants READ, WRITE or READWRITE on a key range with etcd's
// conventions: an empty range end is one key, "\x00" is every key from the
// key on, anything else is [key, end). A request may touch a range only if
// the union of its user's permissions of the right kind covers all of it;
// a range whose end is at or before its key needs only the key itself.
// Role root may do everything. Each user's permissions are merged into
// sorted disjoint spans once per auth revision and cached, so a check is
// a binary search without locks or allocation.
//
// Credentials carry the auth revision they were checked at. A request whose
// revision is older than the store's is refused with ErrAuthOldRevision and
// the client authenticates again (clientv3 does so by itself). Simple tokens
// always resolve to the current revision; JWTs carry the one they were
// issued at.
//
// # Passwords and tokens
//
// CheckPassword runs bcrypt on a bounded pool of workers, spends the same
// time on unknown users as on known ones, and never logs what it is given.
// Tokens are "simple" (random strings replicated through raft, each member
// remembering them for a TTL of disuse) or JWTs signed with the key files
// named by --auth-token (checked by signature alone). Neither passwords nor
// tokens are ever logged.
package auth
