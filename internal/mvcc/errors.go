package mvcc

import "errors"

// Errors with etcd's texts; v3rpc maps them to gRPC codes.
var (
	// ErrCompacted: the requested revision was removed by compaction.
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	// ErrFutureRev: the requested revision does not exist yet.
	ErrFutureRev = errors.New("mvcc: required revision is a future revision")
	// ErrKeyNotFound: ignore_value or ignore_lease on a key that does not exist.
	ErrKeyNotFound = errors.New("etcdserver: key not found")
	// ErrLeaseNotFound: a put names a lease that does not exist.
	ErrLeaseNotFound = errors.New("lease not found")
	// ErrInvalidSortOption: sort order or target outside the enum.
	ErrInvalidSortOption = errors.New("etcdserver: invalid sort option")
)
