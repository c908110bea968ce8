package v3rpc

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// AuthBackend serves the Auth service; its methods are etcd's.
type AuthBackend interface {
	AuthEnable(context.Context, *pb.AuthEnableRequest) (*pb.AuthEnableResponse, error)
	AuthDisable(context.Context, *pb.AuthDisableRequest) (*pb.AuthDisableResponse, error)
	AuthStatus(context.Context, *pb.AuthStatusRequest) (*pb.AuthStatusResponse, error)
	Authenticate(context.Context, *pb.AuthenticateRequest) (*pb.AuthenticateResponse, error)
	UserAdd(context.Context, *pb.AuthUserAddRequest) (*pb.AuthUserAddResponse, error)
	UserGet(context.Context, *pb.AuthUserGetRequest) (*pb.AuthUserGetResponse, error)
	UserList(context.Context, *pb.AuthUserListRequest) (*pb.AuthUserListResponse, error)
	UserDelete(context.Context, *pb.AuthUserDeleteRequest) (*pb.AuthUserDeleteResponse, error)
	UserChangePassword(context.Context, *pb.AuthUserChangePasswordRequest) (*pb.AuthUserChangePasswordResponse, error)
	UserGrantRole(context.Context, *pb.AuthUserGrantRoleRequest) (*pb.AuthUserGrantRoleResponse, error)
	UserRevokeRole(context.Context, *pb.AuthUserRevokeRoleRequest) (*pb.AuthUserRevokeRoleResponse, error)
	RoleAdd(context.Context, *pb.AuthRoleAddRequest) (*pb.AuthRoleAddResponse, error)
	RoleGet(context.Context, *pb.AuthRoleGetRequest) (*pb.AuthRoleGetResponse, error)
	RoleList(context.Context, *pb.AuthRoleListRequest) (*pb.AuthRoleListResponse, error)
	RoleDelete(context.Context, *pb.AuthRoleDeleteRequest) (*pb.AuthRoleDeleteResponse, error)
	RoleGrantPermission(context.Context, *pb.AuthRoleGrantPermissionRequest) (*pb.AuthRoleGrantPermissionResponse, error)
	RoleRevokePermission(context.Context, *pb.AuthRoleRevokePermissionRequest) (*pb.AuthRoleRevokePermissionResponse, error)
}

// AuthServer is the etcdserverpb.Auth service.
type AuthServer struct {
	pb.UnimplementedAuthServer
	be  AuthBackend
	hdr Header
}

// NewAuthServer serves be.
func NewAuthServer(be AuthBackend, hdr Header) *AuthServer { return &AuthServer{be: be, hdr: hdr} }

type headered interface{ GetHeader() *pb.ResponseHeader }

// call runs one RPC: maps the error, fills the header.
func call[Req any, Resp headered](s *AuthServer, ctx context.Context, r Req, f func(context.Context, Req) (Resp, error)) (Resp, error) {
	resp, err := f(ctx, r)
	if err != nil {
		var zero Resp
		return zero, togRPCError(err)
	}
	if h := resp.GetHeader(); h != nil {
		s.hdr.FillHeader(h)
	}
	return resp, nil
}

func (s *AuthServer) AuthEnable(ctx context.Context, r *pb.AuthEnableRequest) (*pb.AuthEnableResponse, error) {
	return call(s, ctx, r, s.be.AuthEnable)
}

func (s *AuthServer) AuthDisable(ctx context.Context, r *pb.AuthDisableRequest) (*pb.AuthDisableResponse, error) {
	return call(s, ctx, r, s.be.AuthDisable)
}

func (s *AuthServer) AuthStatus(ctx context.Context, r *pb.AuthStatusRequest) (*pb.AuthStatusResponse, error) {
	return call(s, ctx, r, s.be.AuthStatus)
}

func (s *AuthServer) Authenticate(ctx context.Context, r *pb.AuthenticateRequest) (*pb.AuthenticateResponse, error) {
	return call(s, ctx, r, s.be.Authenticate)
}

func (s *AuthServer) UserAdd(ctx context.Context, r *pb.AuthUserAddRequest) (*pb.AuthUserAddResponse, error) {
	return call(s, ctx, r, s.be.UserAdd)
}

func (s *AuthServer) UserGet(ctx context.Context, r *pb.AuthUserGetRequest) (*pb.AuthUserGetResponse, error) {
	return call(s, ctx, r, s.be.UserGet)
}

func (s *AuthServer) UserList(ctx context.Context, r *pb.AuthUserListRequest) (*pb.AuthUserListResponse, error) {
	return call(s, ctx, r, s.be.UserList)
}

func (s *AuthServer) UserDelete(ctx context.Context, r *pb.AuthUserDeleteRequest) (*pb.AuthUserDeleteResponse, error) {
	return call(s, ctx, r, s.be.UserDelete)
}

func (s *AuthServer) UserChangePassword(ctx context.Context, r *pb.AuthUserChangePasswordRequest) (*pb.AuthUserChangePasswordResponse, error) {
	return call(s, ctx, r, s.be.UserChangePassword)
}

func (s *AuthServer) UserGrantRole(ctx context.Context, r *pb.AuthUserGrantRoleRequest) (*pb.AuthUserGrantRoleResponse, error) {
	return call(s, ctx, r, s.be.UserGrantRole)
}

func (s *AuthServer) UserRevokeRole(ctx context.Context, r *pb.AuthUserRevokeRoleRequest) (*pb.AuthUserRevokeRoleResponse, error) {
	return call(s, ctx, r, s.be.UserRevokeRole)
}

func (s *AuthServer) RoleAdd(ctx context.Context, r *pb.AuthRoleAddRequest) (*pb.AuthRoleAddResponse, error) {
	return call(s, ctx, r, s.be.RoleAdd)
}

func (s *AuthServer) RoleGet(ctx context.Context, r *pb.AuthRoleGetRequest) (*pb.AuthRoleGetResponse, error) {
	return call(s, ctx, r, s.be.RoleGet)
}

func (s *AuthServer) RoleList(ctx context.Context, r *pb.AuthRoleListRequest) (*pb.AuthRoleListResponse, error) {
	return call(s, ctx, r, s.be.RoleList)
}

func (s *AuthServer) RoleDelete(ctx context.Context, r *pb.AuthRoleDeleteRequest) (*pb.AuthRoleDeleteResponse, error) {
	return call(s, ctx, r, s.be.RoleDelete)
}

func (s *AuthServer) RoleGrantPermission(ctx context.Context, r *pb.AuthRoleGrantPermissionRequest) (*pb.AuthRoleGrantPermissionResponse, error) {
	return call(s, ctx, r, s.be.RoleGrantPermission)
}

func (s *AuthServer) RoleRevokePermission(ctx context.Context, r *pb.AuthRoleRevokePermissionRequest) (*pb.AuthRoleRevokePermissionResponse, error) {
	return call(s, ctx, r, s.be.RoleRevokePermission)
}
