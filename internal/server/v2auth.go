package server

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/auth"
	"github.com/cairn-kv/cairn/internal/v2http"
)

// /v2/auth is the v3 auth store seen through etcd's v2 auth API: v2Backend
// implements v2http.AuthBackend with the v3 methods, run as root (the v2
// handler has already required the root role).

func (b v2Backend) AuthEnabled() bool { return b.s.auth.IsEnabled() }

func (b v2Backend) SetAuth(ctx context.Context, enable bool) error {
	var err error
	if enable {
		_, err = b.s.AuthEnable(b.asRoot(ctx), &pb.AuthEnableRequest{})
	} else {
		_, err = b.s.AuthDisable(b.asRoot(ctx), &pb.AuthDisableRequest{})
	}
	return v2AuthError(err)
}

func (b v2Backend) Users(ctx context.Context) ([]string, error) {
	resp, err := b.s.UserList(b.asRoot(ctx), &pb.AuthUserListRequest{})
	if err != nil {
		return nil, v2AuthError(err)
	}
	return resp.Users, nil
}

func (b v2Backend) UserRoles(ctx context.Context, name string) ([]string, error) {
	resp, err := b.s.UserGet(b.asRoot(ctx), &pb.AuthUserGetRequest{Name: name})
	if err != nil {
		return nil, v2AuthError(err)
	}
	return resp.Roles, nil
}

func (b v2Backend) AddUser(ctx context.Context, name, password string) error {
	_, err := b.s.UserAdd(b.asRoot(ctx), &pb.AuthUserAddRequest{Name: name, Password: password})
	return v2AuthError(err)
}

func (b v2Backend) DeleteUser(ctx context.Context, name string) error {
	_, err := b.s.UserDelete(b.asRoot(ctx), &pb.AuthUserDeleteRequest{Name: name})
	return v2AuthError(err)
}

func (b v2Backend) ChangePassword(ctx context.Context, name, password string) error {
	_, err := b.s.UserChangePassword(b.asRoot(ctx), &pb.AuthUserChangePasswordRequest{Name: name, Password: password})
	return v2AuthError(err)
}

func (b v2Backend) GrantRole(ctx context.Context, user, role string) error {
	_, err := b.s.UserGrantRole(b.asRoot(ctx), &pb.AuthUserGrantRoleRequest{User: user, Role: role})
	return v2AuthError(err)
}

func (b v2Backend) RevokeRole(ctx context.Context, user, role string) error {
	_, err := b.s.UserRevokeRole(b.asRoot(ctx), &pb.AuthUserRevokeRoleRequest{Name: user, Role: role})
	return v2AuthError(err)
}

func (b v2Backend) Roles(ctx context.Context) ([]string, error) {
	resp, err := b.s.RoleList(b.asRoot(ctx), &pb.AuthRoleListRequest{})
	if err != nil {
		return nil, v2AuthError(err)
	}
	return resp.Roles, nil
}

func (b v2Backend) RolePerms(ctx context.Context, name string) ([]*authpb.Permission, error) {
	resp, err := b.s.RoleGet(b.asRoot(ctx), &pb.AuthRoleGetRequest{Role: name})
	if err != nil {
		return nil, v2AuthError(err)
	}
	return resp.Perm, nil
}

func (b v2Backend) AddRole(ctx context.Context, name string) error {
	_, err := b.s.RoleAdd(b.asRoot(ctx), &pb.AuthRoleAddRequest{Name: name})
	return v2AuthError(err)
}

func (b v2Backend) DeleteRole(ctx context.Context, name string) error {
	_, err := b.s.RoleDelete(b.asRoot(ctx), &pb.AuthRoleDeleteRequest{Role: name})
	return v2AuthError(err)
}

func (b v2Backend) GrantPerm(ctx context.Context, role string, p *authpb.Permission) error {
	_, err := b.s.RoleGrantPermission(b.asRoot(ctx), &pb.AuthRoleGrantPermissionRequest{Name: role, Perm: p})
	return v2AuthError(err)
}

func (b v2Backend) RevokePerm(ctx context.Context, role string, key, end []byte) error {
	_, err := b.s.RoleRevokePermission(b.asRoot(ctx), &pb.AuthRoleRevokePermissionRequest{Role: role, Key: key, RangeEnd: end})
	return v2AuthError(err)
}

// v2AuthError turns the auth store's errors into the ones /v2/auth
// answers with its own statuses and texts.
func v2AuthError(err error) error {
	for _, m := range []struct{ from, to error }{
		{auth.ErrUserNotFound, v2http.ErrUserNotFound},
		{auth.ErrRoleNotFound, v2http.ErrRoleNotFound},
		{auth.ErrUserAlreadyExist, v2http.ErrUserExists},
		{auth.ErrRoleAlreadyExist, v2http.ErrRoleExists},
		{auth.ErrRoleNotGranted, v2http.ErrRoleNotGranted},
		{auth.ErrRootUserNotExist, v2http.ErrNoRootUser},
		{auth.ErrRootRoleNotExist, v2http.ErrNoRootUser},
	} {
		if errors.Is(err, m.from) {
			return m.to
		}
	}
	return err
}
