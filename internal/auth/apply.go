package auth

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sort"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// The apply-side methods below change the replicated state. Each validates
// everything before it changes anything, so an error leaves both memory
// and the batch untouched; on success the change is in memory at once and
// in b, and the auth revision has moved on where etcd moves it. The rules
// and error precedence are etcd 3.6's, recorded in testdata/transcripts.

// Enable turns authentication on. User root must exist and hold role root
// (the role itself need not exist). Enabling an enabled store does
// nothing; enabling does not bump the revision (etcd's behaviour: tokens
// issued just before stay current).
func (s *Store) Enable(b *pebble.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.enabled {
		return nil
	}
	root := s.mu.users[RootUser]
	if root == nil {
		return ErrRootUserNotExist
	}
	if !slices.Contains(root.Roles, RootRole) {
		return ErrRootRoleNotExist
	}
	s.mu.enabled = true
	s.putEnabled(b)
	s.publishLocked()
	return nil
}

// Disable turns authentication off and forgets every simple token.
// Disabling a disabled store does nothing.
func (s *Store) Disable(b *pebble.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mu.enabled {
		return nil
	}
	s.mu.enabled = false
	s.putEnabled(b)
	s.bumpLocked(b)
	s.tokens.invalidateAll()
	return nil
}

// UserAdd adds a user. r.HashedPassword is the bcrypt hash the proposer
// computed (HashPassword); users with r.Options.NoPassword get no password
// and can only authenticate by certificate. An empty hash on a password
// user means nobody can log in as it.
func (s *Store) UserAdd(b *pebble.Batch, r *pb.AuthUserAddRequest) error {
	if r.Name == "" {
		return ErrUserEmpty
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.users[r.Name] != nil {
		return ErrUserAlreadyExist
	}
	u := &authpb.User{Name: []byte(r.Name)}
	if r.Options != nil {
		u.Options = proto.CloneOf(r.Options)
	}
	if !noPassword(u) {
		u.Password = []byte(r.HashedPassword)
	}
	s.putUserLocked(b, u)
	s.bumpLocked(b)
	return nil
}

// UserDelete deletes a user and its simple tokens. User root cannot be
// deleted while authentication is enabled.
func (s *Store) UserDelete(b *pebble.Batch, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.enabled && name == RootUser {
		return ErrInvalidAuthMgmt
	}
	if s.mu.users[name] == nil {
		return ErrUserNotFound
	}
	delete(s.mu.users, name)
	mustBatch(b.Delete(userKey(name), nil))
	s.bumpLocked(b)
	s.tokens.invalidateUser(name)
	return nil
}

// UserChangePassword sets a user's password hash and drops its simple
// tokens. A no-password user stays one: the hash is stored but never
// checked.
func (s *Store) UserChangePassword(b *pebble.Batch, name, hashed string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.mu.users[name]
	if old == nil {
		return ErrUserNotFound
	}
	u := proto.CloneOf(old)
	u.Password = []byte(hashed)
	s.putUserLocked(b, u)
	s.bumpLocked(b)
	s.tokens.invalidateUser(name)
	return nil
}

// UserGrantRole grants role to user. Role root may be granted without
// existing as a role; any other role must exist. Granting a role the user
// already holds does nothing (and does not bump the revision).
func (s *Store) UserGrantRole(b *pebble.Batch, user, role string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.mu.users[user]
	if old == nil {
		return ErrUserNotFound
	}
	if role != RootRole && s.mu.roles[role] == nil {
		return ErrRoleNotFound
	}
	i, found := slices.BinarySearch(old.Roles, role)
	if found {
		return nil
	}
	u := proto.CloneOf(old)
	u.Roles = slices.Insert(u.Roles, i, role)
	s.putUserLocked(b, u)
	s.bumpLocked(b)
	return nil
}

// UserRevokeRole revokes role from user. While authentication is enabled,
// root cannot lose role root.
func (s *Store) UserRevokeRole(b *pebble.Batch, user, role string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.enabled && user == RootUser && role == RootRole {
		return ErrInvalidAuthMgmt
	}
	old := s.mu.users[user]
	if old == nil {
		return ErrUserNotFound
	}
	i := slices.Index(old.Roles, role)
	if i < 0 {
		return ErrRoleNotGranted
	}
	u := proto.CloneOf(old)
	u.Roles = slices.Delete(u.Roles, i, i+1)
	s.putUserLocked(b, u)
	s.bumpLocked(b)
	return nil
}

// RoleAdd adds a role without permissions.
func (s *Store) RoleAdd(b *pebble.Batch, name string) error {
	if name == "" {
		return ErrRoleEmpty
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.roles[name] != nil {
		return ErrRoleAlreadyExist
	}
	s.putRoleLocked(b, &authpb.Role{Name: []byte(name)})
	s.bumpLocked(b)
	return nil
}

// RoleDelete deletes a role and revokes it from every user that holds it,
// in the same batch and under one revision. Role root cannot be deleted
// while authentication is enabled.
func (s *Store) RoleDelete(b *pebble.Batch, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.enabled && name == RootRole {
		return ErrInvalidAuthMgmt
	}
	if s.mu.roles[name] == nil {
		return ErrRoleNotFound
	}
	delete(s.mu.roles, name)
	mustBatch(b.Delete(roleKey(name), nil))
	// Visit users in name order so the batch's content is the same on
	// every member.
	for _, un := range sortedKeys(s.mu.users) {
		old := s.mu.users[un]
		i := slices.Index(old.Roles, name)
		if i < 0 {
			continue
		}
		u := proto.CloneOf(old)
		u.Roles = slices.Delete(u.Roles, i, i+1)
		s.putUserLocked(b, u)
	}
	s.bumpLocked(b)
	return nil
}

// RoleGrantPermission grants perm to role. The key must be non-empty and
// the range end empty (one key), "\x00" (every key from Key on) or greater
// than the key; otherwise ErrInvalidAuthMgmt.
//
// As in etcd, permissions stay sorted by key (equal keys in grant order),
// and a grant replaces the type of an existing permission only if that
// permission is the first one with this key and has the same range end;
// otherwise it is added, so a role can hold the same range twice. Every
// successful grant bumps the revision, even one that changes nothing.
func (s *Store) RoleGrantPermission(b *pebble.Batch, role string, perm *authpb.Permission) error {
	if perm == nil {
		return ErrPermissionNotGiven
	}
	if !validPermissionRange(perm.Key, perm.RangeEnd) {
		return ErrInvalidAuthMgmt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.mu.roles[role]
	if old == nil {
		return ErrRoleNotFound
	}
	r := proto.CloneOf(old)
	ps := r.KeyPermission
	first := sort.Search(len(ps), func(i int) bool { return bytes.Compare(ps[i].Key, perm.Key) >= 0 })
	if first < len(ps) && bytes.Equal(ps[first].Key, perm.Key) && bytes.Equal(ps[first].RangeEnd, perm.RangeEnd) {
		ps[first].PermType = perm.PermType
	} else {
		after := sort.Search(len(ps), func(i int) bool { return bytes.Compare(ps[i].Key, perm.Key) > 0 })
		r.KeyPermission = slices.Insert(ps, after, &authpb.Permission{
			PermType: perm.PermType,
			Key:      bytes.Clone(perm.Key),
			RangeEnd: bytes.Clone(perm.RangeEnd),
		})
	}
	s.putRoleLocked(b, r)
	s.bumpLocked(b)
	return nil
}

// RoleRevokePermission removes every permission of role on exactly
// [key, rangeEnd).
func (s *Store) RoleRevokePermission(b *pebble.Batch, role string, key, rangeEnd []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.mu.roles[role]
	if old == nil {
		return ErrRoleNotFound
	}
	r := proto.CloneOf(old)
	r.KeyPermission = slices.DeleteFunc(r.KeyPermission, func(p *authpb.Permission) bool {
		return bytes.Equal(p.Key, key) && bytes.Equal(p.RangeEnd, rangeEnd)
	})
	if len(r.KeyPermission) == len(old.KeyPermission) {
		return ErrPermissionNotGranted
	}
	s.putRoleLocked(b, r)
	s.bumpLocked(b)
	return nil
}

// validPermissionRange: a non-empty key, and a range end that is empty,
// "\x00", or after the key.
func validPermissionRange(key, end []byte) bool {
	if len(key) == 0 {
		return false
	}
	return len(end) == 0 || isOpenEnd(end) || bytes.Compare(key, end) < 0
}

func isOpenEnd(end []byte) bool { return len(end) == 1 && end[0] == 0 }

func noPassword(u *authpb.User) bool { return u.Options != nil && u.Options.NoPassword }

func (s *Store) putUserLocked(b *pebble.Batch, u *authpb.User) {
	s.mu.users[string(u.Name)] = u
	mustBatch(b.Set(userKey(string(u.Name)), marshal(u), nil))
}

func (s *Store) putRoleLocked(b *pebble.Batch, r *authpb.Role) {
	s.mu.roles[string(r.Name)] = r
	mustBatch(b.Set(roleKey(string(r.Name)), marshal(r), nil))
}

func (s *Store) putEnabled(b *pebble.Batch) {
	v := []byte{0}
	if s.mu.enabled {
		v[0] = 1
	}
	mustBatch(b.Set(keyEnabled, v, nil))
}

// bumpLocked adds one to the revision, persists it, and publishes the new
// state to the hot path (which also drops cached permissions).
func (s *Store) bumpLocked(b *pebble.Batch) {
	s.mu.revision++
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], s.mu.revision)
	mustBatch(b.Set(keyRevision, v[:], nil))
	s.publishLocked()
}

func marshal(m proto.Message) []byte {
	v, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		// Users and roles are plain messages that always marshal.
		panic("auth: marshal: " + err.Error())
	}
	return v
}

// mustBatch: writing to an in-memory batch fails only if the batch was
// already committed or closed, which is a bug in the caller.
func mustBatch(err error) {
	if err != nil {
		panic("auth: batch write: " + err.Error())
	}
}
