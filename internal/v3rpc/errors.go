package v3rpc

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-kv/cairn/internal/alarm"
	"github.com/cairn-kv/cairn/internal/auth"
	"github.com/cairn-kv/cairn/internal/lease"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/mvcc"
)

// Errors the member returns to handlers. They carry etcd's texts.
var (
	ErrStopped          = errors.New("etcdserver: server stopped")
	ErrTimeout          = errors.New("etcdserver: request timed out")
	ErrNoLeader         = errors.New("etcdserver: no leader")
	ErrLeaderChanged    = errors.New("etcdserver: leader changed")
	ErrRequestTooLarge  = errors.New("etcdserver: request is too large")
	ErrTooManyRequests  = errors.New("etcdserver: too many requests")
	ErrNotLeader        = errors.New("etcdserver: not leader")
	ErrBadTransferee    = errors.New("etcdserver: bad leader transferee")
	ErrLearnerNotReady  = errors.New("etcdserver: can only promote a learner member which is in sync with leader")
	ErrNotEnoughStarted = errors.New("etcdserver: re-configuration failed due to not enough started members")
	ErrBadPeerURLs      = errors.New("etcdserver: given member URLs are invalid")
	ErrLearnerRPC       = errors.New("etcdserver: rpc not supported for learner")
	ErrUnhealthy        = errors.New("etcdserver: unhealthy cluster")
)

// errorTable maps each domain error to the gRPC error etcd returns for it.
// Clients rebuild typed errors from the message text, so the texts are
// pinned by a golden test.
var errorTable = []struct {
	domain error
	grpc   error
}{
	{alarm.ErrNoSpace, rpctypes.ErrGRPCNoSpace},
	{alarm.ErrCorrupt, rpctypes.ErrGRPCCorrupt},
	{mvcc.ErrCompacted, rpctypes.ErrGRPCCompacted},
	{mvcc.ErrFutureRev, rpctypes.ErrGRPCFutureRev},
	{mvcc.ErrKeyNotFound, rpctypes.ErrGRPCKeyNotFound},
	{mvcc.ErrLeaseNotFound, rpctypes.ErrGRPCLeaseNotFound},
	{mvcc.ErrInvalidSortOption, rpctypes.ErrGRPCInvalidSortOption},
	{lease.ErrLeaseNotFound, rpctypes.ErrGRPCLeaseNotFound},
	{lease.ErrLeaseExists, rpctypes.ErrGRPCLeaseExist},
	{lease.ErrLeaseTTLTooLarge, rpctypes.ErrGRPCLeaseTTLTooLarge},
	{lease.ErrNotPrimary, rpctypes.ErrGRPCNotLeader},
	{membership.ErrIDRemoved, rpctypes.ErrGRPCMemberNotFound},
	{membership.ErrIDNotFound, rpctypes.ErrGRPCMemberNotFound},
	{membership.ErrIDExists, rpctypes.ErrGRPCMemberExist},
	{membership.ErrPeerURLExists, rpctypes.ErrGRPCPeerURLExist},
	{membership.ErrMemberNotLearner, rpctypes.ErrGRPCMemberNotLearner},
	{membership.ErrTooManyLearners, rpctypes.ErrGRPCTooManyLearners},
	{ErrNotLeader, rpctypes.ErrGRPCNotLeader},
	{ErrBadTransferee, rpctypes.ErrGRPCBadLeaderTransferee},
	{ErrLearnerNotReady, rpctypes.ErrGRPCLearnerNotReady},
	{ErrNotEnoughStarted, rpctypes.ErrGRPCMemberNotEnoughStarted},
	{ErrBadPeerURLs, rpctypes.ErrGRPCMemberBadURLs},
	{ErrLearnerRPC, rpctypes.ErrGRPCNotSupportedForLearner},
	{ErrUnhealthy, rpctypes.ErrGRPCUnhealthy},
	{auth.ErrRootUserNotExist, rpctypes.ErrGRPCRootUserNotExist},
	{auth.ErrRootRoleNotExist, rpctypes.ErrGRPCRootRoleNotExist},
	{auth.ErrUserAlreadyExist, rpctypes.ErrGRPCUserAlreadyExist},
	{auth.ErrUserEmpty, rpctypes.ErrGRPCUserEmpty},
	{auth.ErrUserNotFound, rpctypes.ErrGRPCUserNotFound},
	{auth.ErrRoleAlreadyExist, rpctypes.ErrGRPCRoleAlreadyExist},
	{auth.ErrRoleNotFound, rpctypes.ErrGRPCRoleNotFound},
	{auth.ErrRoleEmpty, rpctypes.ErrGRPCRoleEmpty},
	{auth.ErrAuthFailed, rpctypes.ErrGRPCAuthFailed},
	{auth.ErrPermissionNotGiven, rpctypes.ErrGRPCPermissionNotGiven},
	{auth.ErrPermissionDenied, rpctypes.ErrGRPCPermissionDenied},
	{auth.ErrRoleNotGranted, rpctypes.ErrGRPCRoleNotGranted},
	{auth.ErrPermissionNotGranted, rpctypes.ErrGRPCPermissionNotGranted},
	{auth.ErrAuthNotEnabled, rpctypes.ErrGRPCAuthNotEnabled},
	{auth.ErrInvalidAuthToken, rpctypes.ErrGRPCInvalidAuthToken},
	{auth.ErrInvalidAuthMgmt, rpctypes.ErrGRPCInvalidAuthMgmt},
	{auth.ErrAuthOldRevision, rpctypes.ErrGRPCAuthOldRevision},
	{ErrStopped, rpctypes.ErrGRPCStopped},
	{ErrTimeout, rpctypes.ErrGRPCTimeout},
	{ErrNoLeader, rpctypes.ErrGRPCNoLeader},
	{ErrLeaderChanged, rpctypes.ErrGRPCLeaderChanged},
	{ErrRequestTooLarge, rpctypes.ErrGRPCRequestTooLarge},
	{ErrTooManyRequests, rpctypes.ErrGRPCRequestTooManyRequests},
	{context.Canceled, rpctypes.ErrGRPCCanceled},
	{context.DeadlineExceeded, rpctypes.ErrGRPCDeadlineExceeded},
}

// togRPCError converts an error from the member into the gRPC error etcd
// would send. Errors that already are gRPC statuses pass through.
func togRPCError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, e := range errorTable {
		if errors.Is(err, e.domain) {
			return e.grpc
		}
	}
	return status.Error(codes.Unknown, err.Error())
}
