package ctlv2

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
)

var authCommand = &command{
	name: "auth", usage: "overall auth controls",
	subs: []*command{
		{name: "enable", usage: "enable auth access controls", argsUsage: " ", action: func(c *cmdContext) int { return authEnableAction(c, true) }},
		{name: "disable", usage: "disable auth access controls", argsUsage: " ", action: func(c *cmdContext) int { return authEnableAction(c, false) }},
	},
}

var rolesFlag = &flagSpec{names: []string{"roles"}, kind: stringSliceFlag, usage: "List of roles to grant or revoke"}

var userCommand = &command{
	name: "user", usage: "user add, grant and revoke subcommands",
	subs: []*command{
		{name: "add", usage: "add a new user for the etcd cluster", argsUsage: "<user>", action: userAddAction},
		{name: "get", usage: "get details for a user", argsUsage: "<user>", action: userGetAction},
		{name: "list", usage: "list all current users", argsUsage: "<user>", action: userListAction},
		{name: "remove", usage: "remove a user for the etcd cluster", argsUsage: "<user>", action: userRemoveAction},
		{name: "grant", usage: "grant roles to an etcd user", argsUsage: "<user>", flags: []*flagSpec{rolesFlag},
			action: func(c *cmdContext) int { return userGrantAction(c, true) }},
		{name: "revoke", usage: "revoke roles for an etcd user", argsUsage: "<user>", flags: []*flagSpec{rolesFlag},
			action: func(c *cmdContext) int { return userGrantAction(c, false) }},
		{name: "passwd", usage: "change password for a user", argsUsage: "<user>", action: userPasswdAction},
	},
}

func permFlags(verb string) []*flagSpec {
	return []*flagSpec{
		{names: []string{"path"}, kind: stringFlag, usage: "Path " + verb + " for the role to access"},
		{names: []string{"read"}, kind: boolFlag},
		{names: []string{"write"}, kind: boolFlag},
		{names: []string{"readwrite", "rw"}, kind: boolFlag},
	}
}

var roleCommand = &command{
	name: "role", usage: "role add, grant and revoke subcommands",
	subs: []*command{
		{name: "add", usage: "add a new role for the etcd cluster", argsUsage: "<role> ", action: roleAddAction},
		{name: "get", usage: "get details for a role", argsUsage: "<role>", action: roleGetAction},
		{name: "list", usage: "list all roles", argsUsage: " ", action: roleListAction},
		{name: "remove", usage: "remove a role from the etcd cluster", argsUsage: "<role>", action: roleRemoveAction},
		{name: "grant", usage: "grant path matches to an etcd role", argsUsage: "<role>", flags: permFlags("granted"),
			action: func(c *cmdContext) int { return roleGrantAction(c, true) }},
		{name: "revoke", usage: "revoke path matches for an etcd role", argsUsage: "<role>", flags: permFlags("revoked"),
			action: func(c *cmdContext) int { return roleGrantAction(c, false) }},
	},
}

func init() {
	grant, revoke := roleCommand.subs[4].flags, roleCommand.subs[5].flags
	grant[1].usage, grant[2].usage, grant[3].usage = "Grant read-only access", "Grant write-only access", "Grant read-write access"
	revoke[1].usage, revoke[2].usage, revoke[3].usage = "Revoke read access", "Revoke write access", "Revoke read-write access"
}

// The /v2/auth wire types.

type authUser struct {
	User     string   `json:"user"`
	Password string   `json:"password,omitempty"`
	Roles    []string `json:"roles"`
	Grant    []string `json:"grant,omitempty"`
	Revoke   []string `json:"revoke,omitempty"`
}

// authUserDetail is a user as GET answers it: its roles in full.
type authUserDetail struct {
	User  string     `json:"user"`
	Roles []authRole `json:"roles"`
}

type rwPermission struct {
	Read  []string `json:"read"`
	Write []string `json:"write"`
}

type permissions struct {
	KV rwPermission `json:"kv"`
}

type authRole struct {
	Role        string       `json:"role"`
	Permissions permissions  `json:"permissions"`
	Grant       *permissions `json:"grant,omitempty"`
	Revoke      *permissions `json:"revoke,omitempty"`
}

// authCall sends one /v2/auth request; an answer other than want is the
// error its {"message"} body holds.
func (cl *client) authCall(ctx context.Context, method, p string, body any, out any, want int) error {
	resp, b, err := cl.do(ctx, plainRequest(method, "/v2/auth"+p, body), false)
	if err != nil {
		return err
	}
	if err := unexpectedStatus(resp.StatusCode, want); err != nil {
		var merr membersError
		if jerr := json.Unmarshal(b, &merr); jerr != nil {
			return jerr
		}
		return merr
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func escapeName(name string) string { return "/" + url.PathEscape(name) }

// authFail prints a failure of the auth commands, which print errors bare
// and exit 1.
func (c *cmdContext) authFail(err error) int {
	fmt.Fprintln(c.stderr, err.Error())
	return exitUsage
}

func authEnableAction(c *cmdContext, enable bool) int {
	if len(c.args) != 0 {
		return c.memberFail("No arguments accepted")
	}
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	method, msg := "PUT", "Authentication Enabled"
	if !enable {
		method, msg = "DELETE", "Authentication Disabled"
	}
	if err := cl.authCall(ctx, method, "/enable", nil, nil, http.StatusOK); err != nil {
		return c.authFail(err)
	}
	fmt.Fprintln(c.stdout, msg)
	return exitSuccess
}

// userClient checks for the single user name argument and builds the
// client.
func (c *cmdContext) nameAndClient(what string) (string, *client, int) {
	if len(c.args) != 1 {
		fmt.Fprintln(c.stderr, "Please provide a "+what)
		return "", nil, exitUsage
	}
	cl, code := c.newClient()
	return c.args[0], cl, code
}

func userListAction(c *cmdContext) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	var out struct {
		Users []authUserDetail `json:"users"`
	}
	if err := cl.authCall(ctx, "GET", "/users", nil, &out, http.StatusOK); err != nil {
		return c.authFail(err)
	}
	for _, u := range out.Users {
		fmt.Fprintf(c.stdout, "%s\n", u.User)
	}
	return exitSuccess
}

func userAddAction(c *cmdContext) int {
	arg, cl, code := c.nameAndClient("username")
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	user, pass := c.userPassword(arg, "New password: ")
	if err := cl.authCall(ctx, "PUT", "/users"+escapeName(user), &authUser{User: user, Password: pass}, nil, http.StatusCreated); err != nil {
		return c.authFail(err)
	}
	fmt.Fprintf(c.stdout, "User %s created\n", user)
	return exitSuccess
}

func userGetAction(c *cmdContext) int {
	name, cl, code := c.nameAndClient("username")
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	var u authUserDetail
	if err := cl.authCall(ctx, "GET", "/users"+escapeName(name), nil, &u, http.StatusOK); err != nil {
		return c.authFail(err)
	}
	var roles []string
	for _, r := range u.Roles {
		roles = append(roles, r.Role)
	}
	fmt.Fprintf(c.stdout, "User: %s\n", u.User)
	fmt.Fprintf(c.stdout, "Roles: %s\n", strings.Join(roles, " "))
	return exitSuccess
}

func userRemoveAction(c *cmdContext) int {
	name, cl, code := c.nameAndClient("username")
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	if err := cl.authCall(ctx, "DELETE", "/users"+escapeName(name), nil, nil, http.StatusOK); err != nil {
		return c.authFail(err)
	}
	fmt.Fprintf(c.stdout, "User %s removed\n", name)
	return exitSuccess
}

func userGrantAction(c *cmdContext, grant bool) int {
	roles := c.flags.strings("roles")
	if len(roles) == 0 {
		fmt.Fprintln(c.stderr, "No roles specified; please use `--roles`")
		return exitUsage
	}
	name, cl, code := c.nameAndClient("username")
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	body := &authUser{User: name}
	if grant {
		body.Grant = roles
	} else {
		body.Revoke = roles
	}
	if err := cl.authCall(ctx, "PUT", "/users"+escapeName(name), body, nil, http.StatusOK); err != nil {
		return c.authFail(err)
	}
	fmt.Fprintf(c.stdout, "User %s updated\n", name)
	return exitSuccess
}

func userPasswdAction(c *cmdContext) int {
	name, cl, code := c.nameAndClient("username")
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	pass := c.readPassword("New password: ")
	if err := cl.authCall(ctx, "PUT", "/users"+escapeName(name), &authUser{User: name, Password: pass}, nil, http.StatusOK); err != nil {
		return c.authFail(err)
	}
	fmt.Fprintln(c.stdout, "Password updated")
	return exitSuccess
}

func roleListAction(c *cmdContext) int {
	if len(c.args) != 0 {
		return c.memberFail("No arguments accepted")
	}
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	var out struct {
		Roles []authRole `json:"roles"`
	}
	if err := cl.authCall(ctx, "GET", "/roles", nil, &out, http.StatusOK); err != nil {
		return c.authFail(err)
	}
	for _, r := range out.Roles {
		fmt.Fprintf(c.stdout, "%s\n", r.Role)
	}
	return exitSuccess
}

func getRole(ctx context.Context, cl *client, name string) (*authRole, error) {
	var r authRole
	if err := cl.authCall(ctx, "GET", "/roles"+escapeName(name), nil, &r, http.StatusOK); err != nil {
		return nil, err
	}
	return &r, nil
}

func roleAddAction(c *cmdContext) int {
	name, cl, code := c.nameAndClient("role name")
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	if r, _ := getRole(ctx, cl, name); r != nil {
		fmt.Fprintf(c.stderr, "Role %s already exists\n", name)
		return exitUsage
	}
	if err := cl.authCall(ctx, "PUT", "/roles"+escapeName(name), &authRole{Role: name}, nil, http.StatusCreated); err != nil {
		return c.authFail(err)
	}
	fmt.Fprintf(c.stdout, "Role %s created\n", name)
	return exitSuccess
}

func roleGetAction(c *cmdContext) int {
	name, cl, code := c.nameAndClient("role name")
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	r, err := getRole(ctx, cl, name)
	if err != nil {
		return c.authFail(err)
	}
	fmt.Fprintf(c.stdout, "Role: %s\n", r.Role)
	fmt.Fprintf(c.stdout, "KV Read:\n")
	for _, p := range r.Permissions.KV.Read {
		fmt.Fprintf(c.stdout, "\t%s\n", p)
	}
	fmt.Fprintf(c.stdout, "KV Write:\n")
	for _, p := range r.Permissions.KV.Write {
		fmt.Fprintf(c.stdout, "\t%s\n", p)
	}
	return exitSuccess
}

func roleRemoveAction(c *cmdContext) int {
	name, cl, code := c.nameAndClient("role name")
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	if err := cl.authCall(ctx, "DELETE", "/roles"+escapeName(name), nil, nil, http.StatusOK); err != nil {
		return c.authFail(err)
	}
	fmt.Fprintf(c.stdout, "Role %s removed\n", name)
	return exitSuccess
}

func roleGrantAction(c *cmdContext, grant bool) int {
	p := c.flags.string("path")
	if p == "" {
		fmt.Fprintln(c.stderr, "No path specified; please use `--path`")
		return exitUsage
	}
	if cp := canonicalPath(p); cp != p {
		fmt.Fprintf(c.stderr, "Not canonical path; please use `--path=%s`\n", cp)
		return exitUsage
	}
	read, write, rw := c.flags.bool("read"), c.flags.bool("write"), c.flags.bool("readwrite")
	n := 0
	for _, v := range []bool{read, write, rw} {
		if v {
			n++
		}
	}
	if n != 1 {
		fmt.Fprintln(c.stderr, "Please specify exactly one of --read, --write or --readwrite")
		return exitUsage
	}
	var perm rwPermission
	if read || rw {
		perm.Read = []string{p}
	}
	if write || rw {
		perm.Write = []string{p}
	}
	name, cl, code := c.nameAndClient("role name")
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	current, err := getRole(ctx, cl, name)
	if err != nil {
		return c.authFail(err)
	}
	body := &authRole{Role: name}
	if grant {
		body.Grant = &permissions{KV: perm}
	} else {
		body.Revoke = &permissions{KV: perm}
	}
	var updated authRole
	if err := cl.authCall(ctx, "PUT", "/roles"+escapeName(name), body, &updated, http.StatusOK); err != nil {
		return c.authFail(err)
	}
	if reflect.DeepEqual(&updated, current) {
		fmt.Fprintln(c.stdout, "Role unchanged")
		return exitSuccess
	}
	fmt.Fprintf(c.stdout, "Role %s updated\n", name)
	return exitSuccess
}
