package v2http

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"

	"go.etcd.io/etcd/api/v3/authpb"
)

// AuthBackend manages users and roles for /v2/auth. Cairn has one auth
// system, v3's: /v2/auth shows and changes the v3 users and roles, with v2
// permission paths mapped to v3 key permissions ("/foo" is the key /foo,
// "/foo/*" the keys with prefix /foo/). A Backend that also implements
// AuthBackend gets /v2/auth.
type AuthBackend interface {
	AuthEnabled() bool
	SetAuth(ctx context.Context, enable bool) error
	Users(ctx context.Context) ([]string, error)
	UserRoles(ctx context.Context, name string) ([]string, error)
	AddUser(ctx context.Context, name, password string) error
	DeleteUser(ctx context.Context, name string) error
	ChangePassword(ctx context.Context, name, password string) error
	GrantRole(ctx context.Context, user, role string) error
	RevokeRole(ctx context.Context, user, role string) error
	Roles(ctx context.Context) ([]string, error)
	RolePerms(ctx context.Context, name string) ([]*authpb.Permission, error)
	AddRole(ctx context.Context, name string) error
	DeleteRole(ctx context.Context, name string) error
	GrantPerm(ctx context.Context, role string, p *authpb.Permission) error
	RevokePerm(ctx context.Context, role string, key, end []byte) error
}

// Errors an AuthBackend reports for the cases /v2/auth names.
var (
	ErrUserNotFound   = errors.New("v2http: user not found")
	ErrRoleNotFound   = errors.New("v2http: role not found")
	ErrUserExists     = errors.New("v2http: user exists")
	ErrRoleExists     = errors.New("v2http: role exists")
	ErrRoleNotGranted = errors.New("v2http: role not granted")
	ErrNoRootUser     = errors.New("v2http: no root user")
)

const rootRole = "root"

type authHandler struct {
	b  Backend
	ab AuthBackend
}

type v2Perms struct {
	KV struct {
		Read  []string `json:"read"`
		Write []string `json:"write"`
	} `json:"kv"`
}

type v2Role struct {
	Role        string   `json:"role"`
	Permissions v2Perms  `json:"permissions"`
	Grant       *v2Perms `json:"grant,omitempty"`
	Revoke      *v2Perms `json:"revoke,omitempty"`
}

type v2User struct {
	User     string   `json:"user"`
	Password string   `json:"password,omitempty"`
	Roles    []string `json:"roles"`
	Grant    []string `json:"grant,omitempty"`
	Revoke   []string `json:"revoke,omitempty"`
}

type v2UserOut struct {
	User  string   `json:"user"`
	Roles []v2Role `json:"roles,omitempty"`
}

func registerAuth(mux *http.ServeMux, b Backend) {
	ab, ok := b.(AuthBackend)
	if !ok {
		return
	}
	h := &authHandler{b: b, ab: ab}
	mux.HandleFunc("/v2/auth/enable", h.enable)
	mux.HandleFunc("/v2/auth/users", h.users)
	mux.HandleFunc("/v2/auth/users/", h.users)
	mux.HandleFunc("/v2/auth/roles", h.roles)
	mux.HandleFunc("/v2/auth/roles/", h.roles)
}

// rootOnly lets a request through while auth is off, or for root.
func (h *authHandler) rootOnly(w http.ResponseWriter, r *http.Request) bool {
	if !h.ab.AuthEnabled() {
		return true
	}
	user, err := h.b.Authenticate(r)
	if err != nil || !h.b.IsAdmin(user) {
		httpError(w, http.StatusUnauthorized, "Insufficient credentials")
		return false
	}
	return true
}

func (h *authHandler) enable(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r.Method, "GET", "PUT", "DELETE") {
		return
	}
	if r.Method == "GET" {
		writeJSON(w, http.StatusOK, struct {
			Enabled bool `json:"enabled"`
		}{h.ab.AuthEnabled()})
		return
	}
	if !h.rootOnly(w, r) {
		return
	}
	err := h.ab.SetAuth(r.Context(), r.Method == "PUT")
	switch {
	case errors.Is(err, ErrNoRootUser):
		httpError(w, http.StatusBadRequest, "auth: No root user available, please create one")
	case err != nil:
		httpError(w, http.StatusInternalServerError, "Internal Server Error")
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		httpError(w, http.StatusBadRequest, "Bad Request")
		return false
	}
	return true
}

func (h *authHandler) roleOut(ctx context.Context, name string) (v2Role, error) {
	out := v2Role{Role: name}
	if name == rootRole {
		out.Permissions.KV.Read, out.Permissions.KV.Write = []string{"/*"}, []string{"/*"}
		return out, nil
	}
	perms, err := h.ab.RolePerms(ctx, name)
	if err != nil {
		return out, err
	}
	out.Permissions = toV2Perms(perms)
	return out, nil
}

func (h *authHandler) userOut(ctx context.Context, name string) (v2UserOut, error) {
	roles, err := h.ab.UserRoles(ctx, name)
	if err != nil {
		return v2UserOut{}, err
	}
	out := v2UserOut{User: name}
	for _, r := range roles {
		ro, err := h.roleOut(ctx, r)
		if err != nil {
			continue
		}
		out.Roles = append(out.Roles, ro)
	}
	return out, nil
}

func (h *authHandler) users(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r.Method, "GET", "PUT", "DELETE") {
		return
	}
	if !h.rootOnly(w, r) {
		return
	}
	ctx := r.Context()
	name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/v2/auth/users"), "/")
	if name == "" {
		if r.Method != "GET" {
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		names, err := h.ab.Users(ctx)
		if err != nil {
			authError(w, err, "", "")
			return
		}
		sort.Strings(names)
		var out struct {
			Users []v2UserOut `json:"users"`
		}
		for _, n := range names {
			u, err := h.userOut(ctx, n)
			if err == nil {
				out.Users = append(out.Users, u)
			}
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	switch r.Method {
	case "GET":
		u, err := h.userOut(ctx, name)
		if err != nil {
			authError(w, err, name, "")
			return
		}
		writeJSON(w, http.StatusOK, u)
	case "DELETE":
		if err := h.ab.DeleteUser(ctx, name); err != nil {
			if errors.Is(err, ErrUserNotFound) {
				httpError(w, http.StatusNotFound, "auth: User "+name+" does not exist")
				return
			}
			authError(w, err, name, "")
			return
		}
		w.WriteHeader(http.StatusOK)
	case "PUT":
		var in v2User
		if !readJSON(w, r, &in) {
			return
		}
		h.putUser(w, r, name, &in)
	}
}

func (h *authHandler) putUser(w http.ResponseWriter, r *http.Request, name string, in *v2User) {
	ctx := r.Context()
	if len(in.Grant) > 0 && len(in.Revoke) > 0 {
		httpError(w, http.StatusBadRequest, "auth: Can't grant and revoke in the same request")
		return
	}
	roles, err := h.ab.UserRoles(ctx, name)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		authError(w, err, name, "")
		return
	}
	status := http.StatusOK
	if !exists {
		if len(in.Grant) > 0 || len(in.Revoke) > 0 {
			httpError(w, http.StatusNotFound, "auth: User "+name+" does not exist.")
			return
		}
		if in.Password == "" {
			httpError(w, http.StatusBadRequest, "auth: Cannot create user "+name+" with an empty password")
			return
		}
		if err := h.ab.AddUser(ctx, name, in.Password); err != nil {
			authError(w, err, name, "")
			return
		}
		grant := in.Roles
		if name == "root" {
			grant = append(grant, rootRole)
		}
		for _, role := range grant {
			if err := h.ab.GrantRole(ctx, name, role); err != nil {
				authError(w, err, name, role)
				return
			}
		}
		if in.Roles == nil {
			status = http.StatusCreated
		}
		out := v2User{User: name, Roles: grant}
		writeJSON(w, status, struct {
			User  string   `json:"user"`
			Roles []string `json:"roles"`
		}{out.User, out.Roles})
		return
	}
	if in.Password != "" {
		if err := h.ab.ChangePassword(ctx, name, in.Password); err != nil {
			authError(w, err, name, "")
			return
		}
	}
	for _, role := range in.Grant {
		if err := h.ab.GrantRole(ctx, name, role); err != nil {
			authError(w, err, name, role)
			return
		}
	}
	for _, role := range in.Revoke {
		if err := h.ab.RevokeRole(ctx, name, role); err != nil {
			if errors.Is(err, ErrRoleNotGranted) {
				httpError(w, http.StatusConflict, "auth: Revoking ungranted role "+role+" for user "+name)
				return
			}
			authError(w, err, name, role)
			return
		}
	}
	if roles, err = h.ab.UserRoles(ctx, name); err != nil {
		authError(w, err, name, "")
		return
	}
	sort.Strings(roles)
	if roles == nil {
		roles = []string{}
	}
	writeJSON(w, status, struct {
		User  string   `json:"user"`
		Roles []string `json:"roles"`
	}{name, roles})
}

func (h *authHandler) roles(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r.Method, "GET", "PUT", "DELETE") {
		return
	}
	if !h.rootOnly(w, r) {
		return
	}
	ctx := r.Context()
	name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/v2/auth/roles"), "/")
	if name == "" {
		if r.Method != "GET" {
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		names, err := h.ab.Roles(ctx)
		if err != nil {
			authError(w, err, "", "")
			return
		}
		if !contains(names, rootRole) {
			names = append(names, rootRole)
		}
		sort.Strings(names)
		var out struct {
			Roles []v2Role `json:"roles"`
		}
		for _, n := range names {
			if ro, err := h.roleOut(ctx, n); err == nil {
				out.Roles = append(out.Roles, ro)
			}
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	if name == rootRole && r.Method != "GET" {
		httpError(w, http.StatusForbidden, "auth: Cannot modify role root: is root role.")
		return
	}
	switch r.Method {
	case "GET":
		ro, err := h.roleOut(ctx, name)
		if err != nil {
			authError(w, err, "", name)
			return
		}
		writeJSON(w, http.StatusOK, ro)
	case "DELETE":
		if err := h.ab.DeleteRole(ctx, name); err != nil {
			if errors.Is(err, ErrRoleNotFound) {
				httpError(w, http.StatusNotFound, "auth: Role "+name+" doesn't exist.")
				return
			}
			authError(w, err, "", name)
			return
		}
		w.WriteHeader(http.StatusOK)
	case "PUT":
		var in v2Role
		if !readJSON(w, r, &in) {
			return
		}
		h.putRole(w, r, name, &in)
	}
}

func (h *authHandler) putRole(w http.ResponseWriter, r *http.Request, name string, in *v2Role) {
	ctx := r.Context()
	perms, err := h.ab.RolePerms(ctx, name)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrRoleNotFound) {
		authError(w, err, "", name)
		return
	}
	if in.Grant == nil && in.Revoke == nil {
		if exists {
			httpError(w, http.StatusConflict, "auth: Role "+name+" already exists.")
			return
		}
		if err := h.ab.AddRole(ctx, name); err != nil {
			authError(w, err, "", name)
			return
		}
		writeJSON(w, http.StatusCreated, v2Role{Role: name})
		return
	}
	if !exists {
		httpError(w, http.StatusNotFound, "auth: Role "+name+" does not exist.")
		return
	}
	want := permTypes(perms)
	before := clonePermTypes(want)
	if in.Grant != nil {
		for _, p := range in.Grant.KV.Read {
			want[p] |= 1
		}
		for _, p := range in.Grant.KV.Write {
			want[p] |= 2
		}
	}
	if in.Revoke != nil {
		for _, p := range in.Revoke.KV.Read {
			want[p] &^= 1
		}
		for _, p := range in.Revoke.KV.Write {
			want[p] &^= 2
		}
	}
	changed := false
	paths := make([]string, 0, len(want))
	for p := range want {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		t := want[p]
		if t == before[p] {
			continue
		}
		changed = true
		key, end := v3Range(p)
		if t == 0 {
			err = h.ab.RevokePerm(ctx, name, key, end)
		} else {
			err = h.ab.GrantPerm(ctx, name, &authpb.Permission{PermType: authpb.Permission_Type(t - 1), Key: key, RangeEnd: end})
		}
		if err != nil {
			authError(w, err, "", name)
			return
		}
	}
	if !changed {
		httpError(w, http.StatusBadRequest, "auth: Role not updated. Use grant/revoke to update the role.")
		return
	}
	ro, err := h.roleOut(ctx, name)
	if err != nil {
		authError(w, err, "", name)
		return
	}
	if ro.Permissions.KV.Read == nil {
		ro.Permissions.KV.Read = []string{}
	}
	if ro.Permissions.KV.Write == nil {
		ro.Permissions.KV.Write = []string{}
	}
	writeJSON(w, http.StatusOK, ro)
}

// permTypes maps each v2 path of perms to a bit set: 1 read, 2 write
// (so bits-1 is the v3 permission type: READ 0, WRITE 1, READWRITE 2).
func permTypes(perms []*authpb.Permission) map[string]int {
	out := map[string]int{}
	for _, p := range perms {
		path := v2Path(p.Key, p.RangeEnd)
		out[path] |= int(p.PermType) + 1
	}
	return out
}

func clonePermTypes(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func toV2Perms(perms []*authpb.Permission) v2Perms {
	var out v2Perms
	types := permTypes(perms)
	for p, t := range types {
		if t&1 != 0 {
			out.KV.Read = append(out.KV.Read, p)
		}
		if t&2 != 0 {
			out.KV.Write = append(out.KV.Write, p)
		}
	}
	sort.Strings(out.KV.Read)
	sort.Strings(out.KV.Write)
	return out
}

// v3Range maps a v2 permission path to a v3 key range: "p*" is the prefix
// p, anything else the key itself.
func v3Range(p string) (key, end []byte) {
	if prefix, ok := strings.CutSuffix(p, "*"); ok {
		if prefix == "" {
			return []byte{0}, []byte{0}
		}
		return []byte(prefix), prefixEnd([]byte(prefix))
	}
	return []byte(p), nil
}

// v2Path is v3Range's inverse; other ranges show as their start with "*".
func v2Path(key, end []byte) string {
	switch {
	case len(end) == 0:
		return string(key)
	case string(key) == "\x00" && string(end) == "\x00":
		return "*"
	}
	return string(key) + "*"
}

// authError answers a failure with etcd's v2 message.
func authError(w http.ResponseWriter, err error, user, role string) {
	switch {
	case errors.Is(err, ErrUserNotFound):
		httpError(w, http.StatusNotFound, "auth: User "+user+" does not exist.")
	case errors.Is(err, ErrRoleNotFound):
		httpError(w, http.StatusNotFound, "auth: Role "+role+" does not exist.")
	case errors.Is(err, ErrUserExists):
		httpError(w, http.StatusConflict, "auth: User "+user+" already exists.")
	case errors.Is(err, ErrRoleExists):
		httpError(w, http.StatusConflict, "auth: Role "+role+" already exists.")
	case errors.Is(err, ErrRoleNotGranted):
		httpError(w, http.StatusConflict, "auth: Revoking ungranted role "+role+" for user "+user)
	default:
		httpError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
