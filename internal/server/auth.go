package server

import (
	"context"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/cairn-kv/cairn/internal/auth"
	"github.com/cairn-kv/cairn/internal/lease"
	"github.com/cairn-kv/cairn/internal/tlsutil"
	"github.com/cairn-kv/cairn/internal/v3lock"
)

// authInfo returns who the request runs as, or nil while authentication is
// disabled. The credentials are the token in the request's metadata, or,
// without a token, the common name of the verified client certificate.
func (s *Server) authInfo(ctx context.Context) (*auth.AuthInfo, error) {
	if !s.auth.IsEnabled() {
		return nil, nil
	}
	if user, ok := ctx.Value(internalUserKey{}).(string); ok {
		return &auth.AuthInfo{Username: user, Revision: s.auth.Revision()}, nil
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		for _, k := range []string{rpctypes.TokenFieldNameGRPC, "authorization"} {
			if v := md.Get(k); len(v) > 0 && v[0] != "" {
				return s.auth.AuthInfoFromToken(ctx, strings.TrimPrefix(v[0], "Bearer "))
			}
		}
		if cn := lockCallerCN(ctx, md); cn != "" {
			return s.auth.UserFromCommonName(cn)
		}
	}
	if cn := tlsutil.PeerCommonName(ctx); cn != "" {
		return s.auth.UserFromCommonName(cn)
	}
	return nil, auth.ErrUserEmpty
}

// lockCallerCN is the certificate name the lock and election services
// pass on for their caller, honoured only on their own connection: over
// any other (the network, the JSON gateway, which turns HTTP headers into
// metadata) the key is ignored.
func lockCallerCN(ctx context.Context, md metadata.MD) string {
	v := md.Get(v3lock.CallerCNKey)
	if len(v) == 0 {
		return ""
	}
	if p, ok := peer.FromContext(ctx); !ok || p.Addr != (innerAddr{}) {
		return ""
	}
	return v[0]
}

// internalUserKey marks a context whose caller the server authenticated
// itself (the v2 API's basic auth); gRPC requests cannot carry it.
type internalUserKey struct{}

func withInternalUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, internalUserKey{}, user)
}

// authenticated requires some identity while auth is enabled.
func (s *Server) authenticated(ctx context.Context) (*auth.AuthInfo, error) {
	return s.authInfo(ctx)
}

// requireAdmin requires the root role while auth is enabled.
func (s *Server) requireAdmin(ctx context.Context) (*auth.AuthInfo, error) {
	info, err := s.authInfo(ctx)
	if err != nil || info == nil {
		return info, err
	}
	return info, s.auth.IsAdminPermitted(info)
}

// withAuthHeader carries the requester and its auth revision into the raft
// request, so apply checks the permissions again against the auth state of
// that moment.
func withAuthHeader(r *pb.InternalRaftRequest, info *auth.AuthInfo) *pb.InternalRaftRequest {
	if info != nil {
		r.Header = &pb.RequestHeader{Username: info.Username, AuthRevision: info.Revision}
	}
	return r
}

// checkRange requires read permission on a range.
func (s *Server) checkRange(info *auth.AuthInfo, key, end []byte) error {
	if info == nil {
		return nil
	}
	return s.auth.IsRangePermitted(info, key, end)
}

// checkTxn requires, along every branch, read permission for compares and
// reads and write permission for writes, as etcd checks every operation of
// a transaction whichever branch runs.
func (s *Server) checkTxn(info *auth.AuthInfo, r *pb.TxnRequest) error {
	if info == nil {
		return nil
	}
	for _, c := range r.Compare {
		if err := s.auth.IsRangePermitted(info, c.Key, c.RangeEnd); err != nil {
			return err
		}
	}
	for _, branch := range [][]*pb.RequestOp{r.Success, r.Failure} {
		for _, op := range branch {
			if err := s.checkOp(info, op); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Server) checkOp(info *auth.AuthInfo, op *pb.RequestOp) error {
	switch v := op.Request.(type) {
	case *pb.RequestOp_RequestRange:
		if v.RequestRange != nil {
			return s.auth.IsRangePermitted(info, v.RequestRange.Key, v.RequestRange.RangeEnd)
		}
	case *pb.RequestOp_RequestPut:
		if v.RequestPut != nil {
			return s.checkPut(info, v.RequestPut)
		}
	case *pb.RequestOp_RequestDeleteRange:
		if v.RequestDeleteRange != nil {
			return s.checkDelete(info, v.RequestDeleteRange)
		}
	case *pb.RequestOp_RequestTxn:
		if v.RequestTxn != nil {
			return s.checkTxn(info, v.RequestTxn)
		}
	}
	return nil
}

// checkPut requires write permission on the key, and read permission too
// when the previous value is returned.
func (s *Server) checkPut(info *auth.AuthInfo, r *pb.PutRequest) error {
	if info == nil {
		return nil
	}
	if err := s.auth.IsPutPermitted(info, r.Key); err != nil {
		return err
	}
	if r.PrevKv {
		return s.auth.IsRangePermitted(info, r.Key, nil)
	}
	return nil
}

// checkDelete requires write permission on the range, and read permission
// when previous values are returned.
func (s *Server) checkDelete(info *auth.AuthInfo, r *pb.DeleteRangeRequest) error {
	if info == nil {
		return nil
	}
	if err := s.auth.IsDeleteRangePermitted(info, r.Key, r.RangeEnd); err != nil {
		return err
	}
	if r.PrevKv {
		return s.auth.IsRangePermitted(info, r.Key, r.RangeEnd)
	}
	return nil
}

// checkLeaseKeys requires write permission on every key attached to a lease
// (revoking it deletes them).
func (s *Server) checkLeaseKeys(info *auth.AuthInfo, id int64, write bool) error {
	if info == nil {
		return nil
	}
	keys, err := lease.Keys(s.eng.DB(), id)
	if err != nil {
		return err
	}
	for _, k := range keys {
		var err error
		if write {
			err = s.auth.IsPutPermitted(info, k)
		} else {
			err = s.auth.IsRangePermitted(info, k, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
