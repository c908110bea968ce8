package ctl

import (
	"context"

	"go.etcd.io/etcd/api/v3/authpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// History steps for users, roles and authentication.

func userAdd(name, password string) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.UserAdd(ctx, name, password)
		return err
	}
}

func userAddNoPassword(name string) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.UserAddWithOptions(ctx, name, "", &clientv3.UserAddOptions{NoPassword: true})
		return err
	}
}

func roleAdd(name string) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.RoleAdd(ctx, name)
		return err
	}
}

func grantRole(user, role string) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.UserGrantRole(ctx, user, role)
		return err
	}
}

func grantPerm(role, key, end string, perm authpb.Permission_Type) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.RoleGrantPermission(ctx, role, key, end, clientv3.PermissionType(perm))
		return err
	}
}

func authEnable() step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.AuthEnable(ctx)
		return err
	}
}

// withAuthData adds to base: root (password rootpw, role root); alice
// (alicepw) with roles reader (read [foo, fop)) and writer (readwrite
// [a, b), write from k); bob (bobpw) without roles; carol without a
// password; and the role empty, without permissions.
var withAuthData = append(append([]step{}, base...),
	userAdd("root", "rootpw"), grantRole("root", "root"),
	roleAdd("reader"), grantPerm("reader", "foo", "fop", clientv3.PermRead),
	roleAdd("writer"), grantPerm("writer", "a", "b", clientv3.PermReadWrite), grantPerm("writer", "k", "\x00", clientv3.PermWrite),
	roleAdd("empty"),
	userAdd("alice", "alicepw"), grantRole("alice", "reader"), grantRole("alice", "writer"),
	userAdd("bob", "bobpw"),
	userAddNoPassword("carol"),
)

// withAuth is withAuthData with authentication enabled.
var withAuth = append(append([]step{}, withAuthData...), authEnable())

// sttyPath lets the reference etcdctl find stty, with which it turns off
// echo before a password prompt; given a pipe, stty complains on stderr,
// and normalize drops those lines.
var sttyPath = []string{"PATH=/usr/bin:/bin"}

func authCases() []goldenCase {
	var cs []goldenCase
	add := func(c ...goldenCase) { cs = append(cs, c...) }
	const root = "--user=root:rootpw "

	// auth
	add(inFormats(goldenCase{name: "auth_status", history: base, args: args("auth status")})...)
	add(inFormats(goldenCase{name: "auth_status_enabled", history: withAuth, args: args(root + "auth status")})...)
	add(inFormats(goldenCase{name: "auth_enable", history: withAuthData, args: args("auth enable")})...)
	add(inFormats(goldenCase{name: "auth_disable", history: withAuth, args: args(root + "auth disable")})...)
	add(
		goldenCase{name: "auth_enable_no_root", history: base, args: args("auth enable")},
		goldenCase{name: "auth_enable_root_without_role", history: []step{userAdd("root", "rootpw")}, args: args("auth enable")},
		goldenCase{name: "auth_enable_already", history: withAuth, args: args("auth enable")},
		goldenCase{name: "auth_enable_as_root", history: withAuth, args: args(root + "auth enable")},
		goldenCase{name: "auth_enable_extra_args", noServer: true, args: args("auth enable x")},
		goldenCase{name: "auth_disable_when_disabled", history: base, args: args("auth disable")},
		goldenCase{name: "auth_disable_not_root", history: withAuth, args: args("--user=alice:alicepw auth disable")},
		goldenCase{name: "auth_disable_extra_args", noServer: true, args: args("auth disable x")},
		goldenCase{name: "auth_status_extra_args", noServer: true, args: args("auth status x")},
		goldenCase{name: "auth_status_no_user", history: withAuth, args: args("auth status")},
		goldenCase{name: "auth_get_no_user", history: withAuth, args: args("get foo")},
		goldenCase{name: "auth_get_root", history: withAuth, args: args(root + "get foo")},
		goldenCase{name: "auth_wrong_password", history: withAuth, args: args("--user=root:bad get foo")},
		goldenCase{name: "auth_unknown_user", history: withAuth, args: args("--user=nobody:x get foo")},
		goldenCase{name: "auth_user_without_password", history: withAuth, args: args("--user=carol:x get foo")},
		goldenCase{name: "auth_password_flag", history: withAuth, args: args("--user=root --password=rootpw get foo")},
		goldenCase{name: "auth_password_flag_wins", history: withAuth, args: args("--user=root:rootpw --password=bad get foo")},
		goldenCase{name: "auth_password_prompt", history: withAuth, args: args("--user=root get foo"), stdin: "rootpw\n", env: sttyPath},
		goldenCase{name: "auth_password_prompt_wrong", history: withAuth, args: args("--user=root get foo"), stdin: "bad\n", env: sttyPath},
		goldenCase{name: "auth_password_prompt_eof", history: withAuth, args: args("--user=root get foo"), env: sttyPath},
		goldenCase{name: "auth_env_user", history: withAuth, args: args("get foo"), env: []string{"ETCDCTL_USER=root:rootpw"}},
		goldenCase{name: "auth_env_password", history: withAuth, args: args("get foo"), env: []string{"ETCDCTL_USER=root", "ETCDCTL_PASSWORD=rootpw"}},
		goldenCase{name: "auth_read_allowed", history: withAuth, args: args("--user=alice:alicepw get foo --prefix")},
		goldenCase{name: "auth_read_denied", history: withAuth, args: args("--user=alice:alicepw get zoo")},
		goldenCase{name: "auth_write_denied", history: withAuth, args: args("--user=alice:alicepw put foo x")},
		goldenCase{name: "auth_write_allowed", history: withAuth, args: args("--user=alice:alicepw put a x")},
		goldenCase{name: "auth_no_roles_denied", history: withAuth, args: args("--user=bob:bobpw get foo")},
		goldenCase{name: "auth_user_list_denied", history: withAuth, args: args("--user=alice:alicepw user list")},
		goldenCase{name: "auth_user_list_root", history: withAuth, args: args(root + "user list")},
		goldenCase{name: "auth_help", noServer: true, args: args("auth --help")},
		goldenCase{name: "auth_enable_help", noServer: true, args: args("auth enable --help")},
		goldenCase{name: "auth_status_help", noServer: true, args: args("auth status --help")},
	)

	// user
	add(inFormats(goldenCase{name: "user_add", history: base, args: args("user add dave --new-user-password=pw")})...)
	add(inFormats(goldenCase{name: "user_get", history: withAuthData, args: args("user get alice")})...)
	add(inFormats(goldenCase{name: "user_get_detail", history: withAuthData, args: args("user get alice --detail")})...)
	add(inFormats(goldenCase{name: "user_list", history: withAuthData, args: args("user list")})...)
	add(inFormats(goldenCase{name: "user_delete", history: withAuthData, args: args("user delete bob")})...)
	add(inFormats(goldenCase{name: "user_passwd", history: withAuthData, args: args("user passwd bob --interactive=false"), stdin: "newpw\n"})...)
	add(inFormats(goldenCase{name: "user_grant_role", history: withAuthData, args: args("user grant-role bob reader")})...)
	add(inFormats(goldenCase{name: "user_revoke_role", history: withAuthData, args: args("user revoke-role alice reader")})...)
	add(
		goldenCase{name: "user_add_colon", history: base, args: args("user add dave:pw")},
		goldenCase{name: "user_add_colon_empty_password", history: base, args: args("user add dave:")},
		goldenCase{name: "user_add_colon_twice", history: base, args: args("user add dave:a:b")},
		goldenCase{name: "user_add_colon_empty_name", noServer: true, args: args("user add :pw")},
		goldenCase{name: "user_add_flag_password_with_colon", history: base, args: args("user add dave:pw --new-user-password=x")},
		goldenCase{name: "user_add_no_password", history: base, args: args("user add dave --no-password")},
		goldenCase{name: "user_add_no_password_and_flag", history: base, args: args("user add dave --no-password --new-user-password=x")},
		goldenCase{name: "user_add_no_password_colon", history: base, args: args("user add dave:pw --no-password")},
		goldenCase{name: "user_add_prompt", history: base, args: args("user add dave"), stdin: "pw\npw\n", env: sttyPath},
		goldenCase{name: "user_add_prompt_mismatch", history: base, args: args("user add dave"), stdin: "pw\npx\n", env: sttyPath},
		goldenCase{name: "user_add_prompt_empty", history: base, args: args("user add dave"), stdin: "\n", env: sttyPath},
		goldenCase{name: "user_add_prompt_eof", history: base, args: args("user add dave"), env: sttyPath},
		goldenCase{name: "user_add_prompt_eof_second", history: base, args: args("user add dave"), stdin: "pw\n", env: sttyPath},
		goldenCase{name: "user_add_prompt_crlf", history: base, args: args("user add dave"), stdin: "pw\r\npw\r\n", env: sttyPath},
		goldenCase{name: "user_add_stdin", history: base, args: args("user add dave --interactive=false"), stdin: "p w\n"},
		goldenCase{name: "user_add_stdin_eof", history: base, args: args("user add dave --interactive=false")},
		goldenCase{name: "user_add_exists", history: withAuthData, args: args("user add alice --new-user-password=x")},
		goldenCase{name: "user_add_empty_name", history: base, args: []string{"user", "add", "", "--new-user-password=x"}},
		goldenCase{name: "user_add_no_args", noServer: true, args: args("user add")},
		goldenCase{name: "user_add_two_args", noServer: true, args: args("user add a b")},
		goldenCase{name: "user_add_prompt_then_auth", history: withAuth, args: args("--user=root user add dave"), stdin: "pw\npw\nrootpw\n", env: sttyPath},
		goldenCase{name: "user_add_as_root", history: withAuth, args: args(root + "user add dave --new-user-password=pw")},
		goldenCase{name: "user_add_denied", history: withAuth, args: args("--user=alice:alicepw user add dave --new-user-password=pw")},
		goldenCase{name: "user_get_no_roles", history: withAuthData, args: args("user get bob")},
		goldenCase{name: "user_get_no_roles_detail", history: withAuthData, args: args("user get bob --detail")},
		goldenCase{name: "user_get_no_roles_json", history: withAuthData, args: args("user get bob -w json")},
		goldenCase{name: "user_get_root_detail", history: withAuthData, args: args("user get root --detail")},
		goldenCase{name: "user_get_detail_hex", history: withAuthData, args: args("user get alice --detail --hex")},
		goldenCase{name: "user_get_detail_hex_json", history: withAuthData, args: args("user get alice --detail --hex -w json")},
		goldenCase{name: "user_get_detail_hex_fields", history: withAuthData, args: args("user get alice --detail --hex -w fields")},
		goldenCase{name: "user_get_missing", history: base, args: args("user get nobody")},
		goldenCase{name: "user_get_missing_detail", history: base, args: args("user get nobody --detail")},
		goldenCase{name: "user_get_no_args", noServer: true, args: args("user get")},
		goldenCase{name: "user_list_empty", history: base, args: args("user list")},
		goldenCase{name: "user_list_empty_json", history: base, args: args("user list -w json")},
		goldenCase{name: "user_list_extra_args", noServer: true, args: args("user list x")},
		goldenCase{name: "user_delete_missing", history: base, args: args("user delete nobody")},
		goldenCase{name: "user_delete_no_args", noServer: true, args: args("user delete")},
		goldenCase{name: "user_delete_two_args", noServer: true, args: args("user delete a b")},
		goldenCase{name: "user_passwd_prompt", history: withAuthData, args: args("user passwd bob"), stdin: "a\na\n", env: sttyPath},
		goldenCase{name: "user_passwd_prompt_mismatch", history: withAuthData, args: args("user passwd bob"), stdin: "a\nb\n", env: sttyPath},
		goldenCase{name: "user_passwd_stdin_eof", history: withAuthData, args: args("user passwd bob --interactive=false")},
		goldenCase{name: "user_passwd_missing", history: base, args: args("user passwd nobody --interactive=false"), stdin: "x\n"},
		goldenCase{name: "user_passwd_no_args", noServer: true, args: args("user passwd")},
		goldenCase{name: "user_passwd_then_login", history: withAuth, args: args(root + "user passwd root --interactive=false"), stdin: "newroot\n"},
		goldenCase{name: "user_grant_role_again", history: withAuthData, args: args("user grant-role alice reader")},
		goldenCase{name: "user_grant_role_missing_role", history: withAuthData, args: args("user grant-role bob nope")},
		goldenCase{name: "user_grant_role_missing_user", history: withAuthData, args: args("user grant-role nobody reader")},
		goldenCase{name: "user_grant_role_one_arg", noServer: true, args: args("user grant-role bob")},
		goldenCase{name: "user_revoke_role_not_granted", history: withAuthData, args: args("user revoke-role bob reader")},
		goldenCase{name: "user_revoke_role_missing_user", history: withAuthData, args: args("user revoke-role nobody reader")},
		goldenCase{name: "user_revoke_role_one_arg", noServer: true, args: args("user revoke-role bob")},
		goldenCase{name: "user_help", noServer: true, args: args("user --help")},
		goldenCase{name: "user_add_help", noServer: true, args: args("user add --help")},
		goldenCase{name: "user_get_help", noServer: true, args: args("user get --help")},
		goldenCase{name: "user_passwd_help", noServer: true, args: args("user passwd --help")},
		goldenCase{name: "user_grant_role_help", noServer: true, args: args("user grant-role --help")},
	)

	// role
	add(inFormats(goldenCase{name: "role_add", history: base, args: args("role add r1")})...)
	add(inFormats(goldenCase{name: "role_get", history: withAuthData, args: args("role get writer")})...)
	add(inFormats(goldenCase{name: "role_list", history: withAuthData, args: args("role list")})...)
	add(inFormats(goldenCase{name: "role_delete", history: withAuthData, args: args("role delete writer")})...)
	add(inFormats(goldenCase{name: "role_grant_permission", history: withAuthData, args: args("role grant-permission reader write bar")})...)
	add(inFormats(goldenCase{name: "role_revoke_permission", history: withAuthData, args: args("role revoke-permission reader foo fop")})...)
	add(
		goldenCase{name: "role_add_exists", history: withAuthData, args: args("role add reader")},
		goldenCase{name: "role_add_empty_name", history: base, args: []string{"role", "add", ""}},
		goldenCase{name: "role_add_no_args", noServer: true, args: args("role add")},
		goldenCase{name: "role_add_two_args", noServer: true, args: args("role add a b")},
		goldenCase{name: "role_get_reader", history: withAuthData, args: args("role get reader")},
		goldenCase{name: "role_get_root", history: withAuthData, args: args("role get root")},
		goldenCase{name: "role_get_root_json", history: withAuthData, args: args("role get root -w json")},
		goldenCase{name: "role_get_empty", history: withAuthData, args: args("role get empty")},
		goldenCase{name: "role_get_empty_json", history: withAuthData, args: args("role get empty -w json")},
		goldenCase{name: "role_get_empty_fields", history: withAuthData, args: args("role get empty -w fields")},
		goldenCase{name: "role_get_hex", history: withAuthData, args: args("role get writer --hex")},
		goldenCase{name: "role_get_hex_json", history: withAuthData, args: args("role get writer --hex -w json")},
		goldenCase{name: "role_get_hex_fields", history: withAuthData, args: args("role get writer --hex -w fields")},
		goldenCase{name: "role_get_missing", history: base, args: args("role get nope")},
		goldenCase{name: "role_get_no_args", noServer: true, args: args("role get")},
		goldenCase{name: "role_list_empty", history: base, args: args("role list")},
		goldenCase{name: "role_list_empty_json", history: base, args: args("role list -w json")},
		goldenCase{name: "role_list_extra_args", noServer: true, args: args("role list x")},
		goldenCase{name: "role_delete_missing", history: base, args: args("role delete nope")},
		goldenCase{name: "role_delete_no_args", noServer: true, args: args("role delete")},
		goldenCase{name: "role_delete_root", history: withAuthData, args: args("role delete root")},
		goldenCase{name: "role_grant_permission_range", history: withAuthData, args: args("role grant-permission empty read a c")},
		goldenCase{name: "role_grant_permission_prefix", history: withAuthData, args: args("role grant-permission empty readwrite p --prefix")},
		goldenCase{name: "role_grant_permission_from_key", history: withAuthData, args: args("role grant-permission empty write k --from-key")},
		goldenCase{name: "role_grant_permission_binary", history: withAuthData, args: []string{"role", "grant-permission", "empty", "read", "\xff", "--prefix"}},
		goldenCase{name: "role_grant_permission_empty_key", history: withAuthData, args: []string{"role", "grant-permission", "empty", "read", ""}},
		goldenCase{name: "role_grant_permission_empty_key_prefix", history: withAuthData, args: []string{"role", "grant-permission", "empty", "read", "", "--prefix"}},
		goldenCase{name: "role_grant_permission_uppercase", history: withAuthData, args: args("role grant-permission empty READ a")},
		goldenCase{name: "role_grant_permission_bad_type", noServer: true, args: args("role grant-permission empty bogus a")},
		goldenCase{name: "role_grant_permission_missing_role", history: base, args: args("role grant-permission nope read a")},
		goldenCase{name: "role_grant_permission_two_args", noServer: true, args: args("role grant-permission r1 read")},
		goldenCase{name: "role_grant_permission_five_args", history: withAuthData, args: args("role grant-permission empty read a b c")},
		goldenCase{name: "role_grant_permission_prefix_and_from_key", noServer: true, args: args("role grant-permission r1 read a --prefix --from-key")},
		goldenCase{name: "role_grant_permission_prefix_endkey", noServer: true, args: args("role grant-permission r1 read a b --prefix")},
		goldenCase{name: "role_grant_permission_from_key_endkey", noServer: true, args: args("role grant-permission r1 read a b --from-key")},
		goldenCase{name: "role_revoke_permission_single", history: withAuthData, args: args("role revoke-permission writer a b")},
		goldenCase{name: "role_revoke_permission_prefix", history: withAuthData, args: args("role revoke-permission reader foo --prefix")},
		goldenCase{name: "role_revoke_permission_from_key", history: withAuthData, args: args("role revoke-permission writer k --from-key")},
		goldenCase{name: "role_revoke_permission_key", history: withAuthData, args: args("role revoke-permission reader foo")},
		goldenCase{name: "role_revoke_permission_not_granted", history: withAuthData, args: args("role revoke-permission empty foo")},
		goldenCase{name: "role_revoke_permission_missing_role", history: base, args: args("role revoke-permission nope foo")},
		goldenCase{name: "role_revoke_permission_one_arg", noServer: true, args: args("role revoke-permission r1")},
		goldenCase{name: "role_revoke_permission_four_args", history: withAuthData, args: args("role revoke-permission writer a b c")},
		goldenCase{name: "role_revoke_permission_prefix_and_from_key", noServer: true, args: args("role revoke-permission r1 a --prefix --from-key")},
		goldenCase{name: "role_revoke_permission_prefix_endkey", noServer: true, args: args("role revoke-permission r1 a b --prefix")},
		goldenCase{name: "role_help", noServer: true, args: args("role --help")},
		goldenCase{name: "role_grant_permission_help", noServer: true, args: args("role grant-permission --help")},
		goldenCase{name: "role_revoke_permission_help", noServer: true, args: args("role revoke-permission --help")},
	)
	return cs
}
