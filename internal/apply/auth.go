package apply

import (
	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/auth"
	"github.com/cairn-kv/cairn/internal/mvcc"
)

// applyAuth applies an auth management request; it reports false when r is
// not one.
func (a *Applier) applyAuth(b *pebble.Batch, wb *mvcc.Batch, r *pb.InternalRaftRequest) (Result, bool) {
	hdr := func() *pb.ResponseHeader { return &pb.ResponseHeader{Revision: wb.Rev()} }
	done := func(err error, resp proto.Message) (Result, bool) {
		if err != nil {
			return Result{Err: err}, true
		}
		return Result{Resp: resp}, true
	}
	s := a.auth
	switch {
	case r.AuthEnable != nil:
		return done(s.Enable(b), &pb.AuthEnableResponse{Header: hdr()})
	case r.AuthDisable != nil:
		return done(s.Disable(b), &pb.AuthDisableResponse{Header: hdr()})
	case r.Authenticate != nil:
		return done(s.SetSimpleToken(r.Authenticate.SimpleToken, r.Authenticate.Name), &pb.AuthenticateResponse{Header: hdr(), Token: r.Authenticate.SimpleToken})
	case r.AuthUserAdd != nil:
		return done(s.UserAdd(b, r.AuthUserAdd), &pb.AuthUserAddResponse{Header: hdr()})
	case r.AuthUserDelete != nil:
		return done(s.UserDelete(b, r.AuthUserDelete.Name), &pb.AuthUserDeleteResponse{Header: hdr()})
	case r.AuthUserChangePassword != nil:
		return done(s.UserChangePassword(b, r.AuthUserChangePassword.Name, r.AuthUserChangePassword.HashedPassword), &pb.AuthUserChangePasswordResponse{Header: hdr()})
	case r.AuthUserGrantRole != nil:
		return done(s.UserGrantRole(b, r.AuthUserGrantRole.User, r.AuthUserGrantRole.Role), &pb.AuthUserGrantRoleResponse{Header: hdr()})
	case r.AuthUserRevokeRole != nil:
		return done(s.UserRevokeRole(b, r.AuthUserRevokeRole.Name, r.AuthUserRevokeRole.Role), &pb.AuthUserRevokeRoleResponse{Header: hdr()})
	case r.AuthRoleAdd != nil:
		return done(s.RoleAdd(b, r.AuthRoleAdd.Name), &pb.AuthRoleAddResponse{Header: hdr()})
	case r.AuthRoleDelete != nil:
		return done(s.RoleDelete(b, r.AuthRoleDelete.Role), &pb.AuthRoleDeleteResponse{Header: hdr()})
	case r.AuthRoleGrantPermission != nil:
		return done(s.RoleGrantPermission(b, r.AuthRoleGrantPermission.Name, r.AuthRoleGrantPermission.Perm), &pb.AuthRoleGrantPermissionResponse{Header: hdr()})
	case r.AuthRoleRevokePermission != nil:
		rp := r.AuthRoleRevokePermission
		return done(s.RoleRevokePermission(b, rp.Role, rp.Key, rp.RangeEnd), &pb.AuthRoleRevokePermissionResponse{Header: hdr()})
	}
	return Result{}, false
}

// permitted re-checks, at apply, that the requester of r may do it with the
// auth state as it is now: a change of users, roles or permissions between
// the check at the front door and the apply must not let a request through.
// Requests without a requester are the member's own (publishing itself,
// lease expiry, auto-compaction) or were checked while auth was off.
func (a *Applier) permitted(r *pb.InternalRaftRequest) error {
	s := a.auth
	if !s.IsEnabled() {
		return nil
	}
	isAuthMgmt := r.AuthEnable != nil || r.AuthDisable != nil || r.AuthUserAdd != nil || r.AuthUserDelete != nil ||
		r.AuthUserChangePassword != nil || r.AuthUserGrantRole != nil || r.AuthUserRevokeRole != nil ||
		r.AuthRoleAdd != nil || r.AuthRoleDelete != nil || r.AuthRoleGrantPermission != nil || r.AuthRoleRevokePermission != nil
	needsUser := isAuthMgmt || r.Put != nil || r.DeleteRange != nil || r.Txn != nil || r.Compaction != nil
	if !needsUser {
		return nil
	}
	if r.Header == nil || r.Header.Username == "" {
		return nil
	}
	info := &auth.AuthInfo{Username: r.Header.Username, Revision: r.Header.AuthRevision}
	if info.Revision < s.Revision() {
		return auth.ErrAuthOldRevision
	}
	switch {
	case isAuthMgmt, r.Compaction != nil:
		return s.IsAdminPermitted(info)
	case r.Put != nil:
		return s.IsPutPermitted(info, r.Put.Key)
	case r.DeleteRange != nil:
		return s.IsDeleteRangePermitted(info, r.DeleteRange.Key, r.DeleteRange.RangeEnd)
	case r.Txn != nil:
		return a.txnPermitted(info, r.Txn)
	}
	return nil
}

func (a *Applier) txnPermitted(info *auth.AuthInfo, t *pb.TxnRequest) error {
	s := a.auth
	for _, c := range t.Compare {
		if err := s.IsRangePermitted(info, c.Key, c.RangeEnd); err != nil {
			return err
		}
	}
	for _, branch := range [][]*pb.RequestOp{t.Success, t.Failure} {
		for _, op := range branch {
			var err error
			switch {
			case op.GetRequestRange() != nil:
				err = s.IsRangePermitted(info, op.GetRequestRange().Key, op.GetRequestRange().RangeEnd)
			case op.GetRequestPut() != nil:
				err = s.IsPutPermitted(info, op.GetRequestPut().Key)
			case op.GetRequestDeleteRange() != nil:
				err = s.IsDeleteRangePermitted(info, op.GetRequestDeleteRange().Key, op.GetRequestDeleteRange().RangeEnd)
			case op.GetRequestTxn() != nil:
				err = a.txnPermitted(info, op.GetRequestTxn())
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
