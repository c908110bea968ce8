package auth

import "errors"

// Errors of the auth domain. Each of the first group has one counterpart in
// go.etcd.io/etcd/api/v3/v3rpc/rpctypes (ErrGRPC<Name>), whose text is the
// one clients see and match on; the texts here are the domain's own, in
// etcd's "auth: ..." style. The v3rpc error table maps one to the other.
var (
	ErrRootUserNotExist     = errors.New("auth: root user does not exist")
	ErrRootRoleNotExist     = errors.New("auth: root user does not have root role")
	ErrUserAlreadyExist     = errors.New("auth: user name already exists")
	ErrUserEmpty            = errors.New("auth: user name is empty")
	ErrUserNotFound         = errors.New("auth: user name not found")
	ErrRoleAlreadyExist     = errors.New("auth: role name already exists")
	ErrRoleNotFound         = errors.New("auth: role name not found")
	ErrRoleEmpty            = errors.New("auth: role name is empty")
	ErrAuthFailed           = errors.New("auth: authentication failed, invalid user ID or password")
	ErrPermissionNotGiven   = errors.New("auth: permission not given")
	ErrPermissionDenied     = errors.New("auth: permission denied")
	ErrRoleNotGranted       = errors.New("auth: role is not granted to the user")
	ErrPermissionNotGranted = errors.New("auth: permission is not granted to the role")
	ErrAuthNotEnabled       = errors.New("auth: authentication is not enabled")
	ErrInvalidAuthToken     = errors.New("auth: invalid auth token")
	ErrInvalidAuthMgmt      = errors.New("auth: invalid auth management")
	ErrAuthOldRevision      = errors.New("auth: revision of auth store is old")
)

// Errors etcd does not translate for clients: they reach them verbatim
// (gRPC code Unknown), so their texts are etcd's, byte for byte.
var (
	// ErrNoPasswordUser is returned by CheckPassword for a user created
	// with the no-password option (such users authenticate by certificate).
	ErrNoPasswordUser = errors.New("auth: authentication failed, password was given for no password user")
	// ErrVerifyOnly is returned by AssignToken when the JWT key pair has no
	// private key: the member can check tokens but not issue them.
	ErrVerifyOnly = errors.New("auth: token signing attempted with verify-only key")
)

// Configuration errors (--auth-token), reported at startup.
var (
	ErrInvalidAuthOpts   = errors.New("auth: invalid auth options")
	ErrInvalidAuthMethod = errors.New("auth: invalid auth signature method")
	ErrMissingKey        = errors.New("auth: missing key data")
)
