package server

import (
	"context"
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/auth"
)

// proposeAuth proposes an auth management request after checking that the
// caller may manage auth (root, once auth is enabled).
func proposeAuth[T proto.Message](s *Server, ctx context.Context, r *pb.InternalRaftRequest) (T, error) {
	var zero T
	info, err := s.requireAdmin(ctx)
	if err != nil {
		return zero, err
	}
	resp, err := s.propose(ctx, withAuthHeader(r, info))
	if err != nil {
		return zero, err
	}
	return resp.(T), nil
}

// AuthEnable implements v3rpc.AuthBackend.
func (s *Server) AuthEnable(ctx context.Context, r *pb.AuthEnableRequest) (*pb.AuthEnableResponse, error) {
	return proposeAuth[*pb.AuthEnableResponse](s, ctx, &pb.InternalRaftRequest{AuthEnable: r})
}

// AuthDisable implements v3rpc.AuthBackend.
func (s *Server) AuthDisable(ctx context.Context, r *pb.AuthDisableRequest) (*pb.AuthDisableResponse, error) {
	return proposeAuth[*pb.AuthDisableResponse](s, ctx, &pb.InternalRaftRequest{AuthDisable: r})
}

// AuthStatus implements v3rpc.AuthBackend. Like the other auth management
// requests it needs root once authentication is enabled, as in etcd 3.6.
func (s *Server) AuthStatus(ctx context.Context, r *pb.AuthStatusRequest) (*pb.AuthStatusResponse, error) {
	if _, err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := s.linearizableWait(ctx); err != nil {
		return nil, err
	}
	return &pb.AuthStatusResponse{Header: &pb.ResponseHeader{}, Enabled: s.auth.IsEnabled(), AuthRevision: s.auth.Revision()}, nil
}

// Authenticate implements v3rpc.AuthBackend: the password is checked here
// (bcrypt, on a bounded pool); a simple token is then replicated through
// raft so every member knows it, while a JWT needs nothing more.
func (s *Server) Authenticate(ctx context.Context, r *pb.AuthenticateRequest) (*pb.AuthenticateResponse, error) {
	for {
		rev, err := s.auth.CheckPassword(ctx, r.Name, r.Password)
		if err != nil {
			return nil, err
		}
		token, err := s.auth.AssignToken(ctx, r.Name, rev)
		if err != nil {
			return nil, err
		}
		if s.tokenKind != auth.TokenSimple {
			return &pb.AuthenticateResponse{Header: &pb.ResponseHeader{}, Token: token}, nil
		}
		resp, err := s.propose(ctx, &pb.InternalRaftRequest{Authenticate: &pb.InternalAuthenticateRequest{Name: r.Name, SimpleToken: token}})
		if err != nil {
			return nil, err
		}
		if s.auth.Revision() != rev {
			continue // the auth state changed meanwhile: check again
		}
		return resp.(*pb.AuthenticateResponse), nil
	}
}

// UserAdd implements v3rpc.AuthBackend. The password is hashed here: only
// the hash travels through raft.
func (s *Server) UserAdd(ctx context.Context, r *pb.AuthUserAddRequest) (*pb.AuthUserAddResponse, error) {
	if _, err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	r = proto.CloneOf(r)
	if r.Name == "" {
		return nil, auth.ErrUserEmpty
	}
	if r.Options == nil || !r.Options.NoPassword {
		hashed, err := s.auth.HashPassword(r.Password)
		if err != nil {
			return nil, err
		}
		r.HashedPassword = hashed
	} else {
		r.HashedPassword = ""
	}
	r.Password = ""
	return proposeAuth[*pb.AuthUserAddResponse](s, ctx, &pb.InternalRaftRequest{AuthUserAdd: r})
}

// UserGet implements v3rpc.AuthBackend. Besides root, a user may get
// itself, as in etcd.
func (s *Server) UserGet(ctx context.Context, r *pb.AuthUserGetRequest) (*pb.AuthUserGetResponse, error) {
	if err := s.adminReadUnless(ctx, func(user string) bool { return user == r.Name }); err != nil {
		return nil, err
	}
	u, err := s.auth.UserGet(r.Name)
	if err != nil {
		return nil, err
	}
	return &pb.AuthUserGetResponse{Header: &pb.ResponseHeader{}, Roles: u.Roles}, nil
}

// UserList implements v3rpc.AuthBackend.
func (s *Server) UserList(ctx context.Context, r *pb.AuthUserListRequest) (*pb.AuthUserListResponse, error) {
	if err := s.adminRead(ctx); err != nil {
		return nil, err
	}
	return &pb.AuthUserListResponse{Header: &pb.ResponseHeader{}, Users: s.auth.UserList()}, nil
}

// UserDelete implements v3rpc.AuthBackend.
func (s *Server) UserDelete(ctx context.Context, r *pb.AuthUserDeleteRequest) (*pb.AuthUserDeleteResponse, error) {
	return proposeAuth[*pb.AuthUserDeleteResponse](s, ctx, &pb.InternalRaftRequest{AuthUserDelete: r})
}

// UserChangePassword implements v3rpc.AuthBackend.
func (s *Server) UserChangePassword(ctx context.Context, r *pb.AuthUserChangePasswordRequest) (*pb.AuthUserChangePasswordResponse, error) {
	if _, err := s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	hashed, err := s.auth.HashPassword(r.Password)
	if err != nil {
		return nil, err
	}
	r = &pb.AuthUserChangePasswordRequest{Name: r.Name, HashedPassword: hashed}
	return proposeAuth[*pb.AuthUserChangePasswordResponse](s, ctx, &pb.InternalRaftRequest{AuthUserChangePassword: r})
}

// UserGrantRole implements v3rpc.AuthBackend.
func (s *Server) UserGrantRole(ctx context.Context, r *pb.AuthUserGrantRoleRequest) (*pb.AuthUserGrantRoleResponse, error) {
	return proposeAuth[*pb.AuthUserGrantRoleResponse](s, ctx, &pb.InternalRaftRequest{AuthUserGrantRole: r})
}

// UserRevokeRole implements v3rpc.AuthBackend.
func (s *Server) UserRevokeRole(ctx context.Context, r *pb.AuthUserRevokeRoleRequest) (*pb.AuthUserRevokeRoleResponse, error) {
	return proposeAuth[*pb.AuthUserRevokeRoleResponse](s, ctx, &pb.InternalRaftRequest{AuthUserRevokeRole: r})
}

// RoleAdd implements v3rpc.AuthBackend.
func (s *Server) RoleAdd(ctx context.Context, r *pb.AuthRoleAddRequest) (*pb.AuthRoleAddResponse, error) {
	return proposeAuth[*pb.AuthRoleAddResponse](s, ctx, &pb.InternalRaftRequest{AuthRoleAdd: r})
}

// RoleGet implements v3rpc.AuthBackend. Besides root, a user may get a
// role it holds, as in etcd.
func (s *Server) RoleGet(ctx context.Context, r *pb.AuthRoleGetRequest) (*pb.AuthRoleGetResponse, error) {
	if err := s.adminReadUnless(ctx, func(user string) bool { return s.auth.HasRole(user, r.Role) }); err != nil {
		return nil, err
	}
	role, err := s.auth.RoleGet(r.Role)
	if err != nil {
		return nil, err
	}
	return &pb.AuthRoleGetResponse{Header: &pb.ResponseHeader{}, Perm: role.KeyPermission}, nil
}

// RoleList implements v3rpc.AuthBackend.
func (s *Server) RoleList(ctx context.Context, r *pb.AuthRoleListRequest) (*pb.AuthRoleListResponse, error) {
	if err := s.adminRead(ctx); err != nil {
		return nil, err
	}
	return &pb.AuthRoleListResponse{Header: &pb.ResponseHeader{}, Roles: s.auth.RoleList()}, nil
}

// RoleDelete implements v3rpc.AuthBackend.
func (s *Server) RoleDelete(ctx context.Context, r *pb.AuthRoleDeleteRequest) (*pb.AuthRoleDeleteResponse, error) {
	return proposeAuth[*pb.AuthRoleDeleteResponse](s, ctx, &pb.InternalRaftRequest{AuthRoleDelete: r})
}

// RoleGrantPermission implements v3rpc.AuthBackend.
func (s *Server) RoleGrantPermission(ctx context.Context, r *pb.AuthRoleGrantPermissionRequest) (*pb.AuthRoleGrantPermissionResponse, error) {
	return proposeAuth[*pb.AuthRoleGrantPermissionResponse](s, ctx, &pb.InternalRaftRequest{AuthRoleGrantPermission: r})
}

// RoleRevokePermission implements v3rpc.AuthBackend.
func (s *Server) RoleRevokePermission(ctx context.Context, r *pb.AuthRoleRevokePermissionRequest) (*pb.AuthRoleRevokePermissionResponse, error) {
	return proposeAuth[*pb.AuthRoleRevokePermissionResponse](s, ctx, &pb.InternalRaftRequest{AuthRoleRevokePermission: r})
}

// adminRead checks the caller may read auth state (root, once enabled) and
// makes the read linearizable.
func (s *Server) adminRead(ctx context.Context) error {
	return s.adminReadUnless(ctx, func(string) bool { return false })
}

// adminReadUnless is adminRead that also lets through a caller who is not
// root but for whom self says the read is about itself. A bad token is
// refused all the same, and so is an anonymous caller (with etcd's
// "user name is empty") unless self accepts the empty name.
func (s *Server) adminReadUnless(ctx context.Context, self func(user string) bool) error {
	info, err := s.authInfo(ctx)
	if err != nil && !errors.Is(err, auth.ErrUserEmpty) {
		return err
	}
	if err := s.auth.IsAdminPermitted(info); err != nil {
		user := ""
		if info != nil {
			user = info.Username
		}
		if !self(user) {
			return err
		}
	}
	return s.linearizableWait(ctx)
}
