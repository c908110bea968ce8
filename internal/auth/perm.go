package auth

import (
	"bytes"
	"slices"
	"sync"

	"go.etcd.io/etcd/api/v3/authpb"
)

// Permission checks run on every request, so each user's permissions are
// merged once per auth revision into sorted, disjoint key spans (one list
// for reading, one for writing) and a check is a binary search: no lock
// and no allocation once the user's entry is cached.

// span is the key range [start, end); a nil end is the open end (every key
// from start on).
type span struct {
	start, end []byte
}

// spans is a sorted list of disjoint, non-adjacent spans.
type spans []span

// userPerms is one user's merged permissions.
type userPerms struct {
	root        bool
	read, write spans
}

// permCache maps user name to *userPerms for one state of the store; a
// change of users or roles replaces the whole cache.
type permCache struct {
	users sync.Map
}

func newPermCache() *permCache { return &permCache{} }

// noUser stands for a name that is not a user: it may do nothing. It is not
// cached, so names from certificates or stale JWTs cannot grow the cache.
var noUser = &userPerms{}

// IsRangePermitted checks that info may read [key, rangeEnd), with etcd's
// range conventions: an empty rangeEnd is the single key, "\x00" means
// every key from key on, and a rangeEnd at or before key (an empty range)
// needs only key itself. The user's roles must together cover the whole
// range with READ or READWRITE permissions.
//
// With authentication disabled everything is permitted. Otherwise: no user
// is ErrUserEmpty; a revision older than the store's is ErrAuthOldRevision
// (whatever the user's rights: the client must authenticate again); role
// root may do everything; anything else not covered is ErrPermissionDenied.
func (s *Store) IsRangePermitted(info *AuthInfo, key, rangeEnd []byte) error {
	return s.check(info, key, rangeEnd, false)
}

// IsPutPermitted checks that info may write key (see IsRangePermitted).
func (s *Store) IsPutPermitted(info *AuthInfo, key []byte) error {
	return s.check(info, key, nil, true)
}

// IsDeleteRangePermitted checks that info may write every key of
// [key, rangeEnd) (see IsRangePermitted).
func (s *Store) IsDeleteRangePermitted(info *AuthInfo, key, rangeEnd []byte) error {
	return s.check(info, key, rangeEnd, true)
}

// IsAdminPermitted checks that info holds role root, as administrative
// requests (auth management, compaction, defragmentation, member changes,
// ...) need. Unlike the key checks it ignores the revision, as etcd does; a
// name that is not a user is ErrUserNotFound.
func (s *Store) IsAdminPermitted(info *AuthInfo) error {
	if !s.enabled.Load() {
		return nil
	}
	if info == nil || info.Username == "" {
		return ErrUserEmpty
	}
	p := s.userPerms(info.Username)
	if p == noUser {
		return ErrUserNotFound
	}
	if !p.root {
		return ErrPermissionDenied
	}
	return nil
}

// UserFromCommonName is the identity of a client that presented a verified
// certificate with common name cn, for when the request has no token. As in
// etcd the user need not exist: a name that is not a user is simply denied
// by the permission checks.
func (s *Store) UserFromCommonName(cn string) (*AuthInfo, error) {
	if cn == "" {
		return nil, ErrUserEmpty
	}
	return &AuthInfo{Username: cn, Revision: s.Revision()}, nil
}

func (s *Store) check(info *AuthInfo, key, rangeEnd []byte, write bool) error {
	if !s.enabled.Load() {
		return nil
	}
	if info == nil || info.Username == "" {
		return ErrUserEmpty
	}
	if info.Revision < s.revision.Load() {
		return ErrAuthOldRevision
	}
	p := s.userPerms(info.Username)
	if p.root {
		return nil
	}
	set := p.read
	if write {
		set = p.write
	}
	if !set.covers(key, rangeEnd) {
		return ErrPermissionDenied
	}
	return nil
}

// userPerms returns name's merged permissions from the cache, computing
// them on a miss.
func (s *Store) userPerms(name string) *userPerms {
	if v, ok := s.perms.Load().users.Load(name); ok {
		return v.(*userPerms)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.mu.users[name]
	if u == nil {
		return noUser
	}
	p := mergePerms(u, s.mu.roles)
	// Under the read lock the cache belongs to the state p was computed
	// from: a change takes the write lock before replacing it.
	s.perms.Load().users.Store(name, p)
	return p
}

// mergePerms merges the permissions of u's roles. Holding role root, even
// one that does not exist as a role, permits everything; roles that do not
// exist grant nothing.
func mergePerms(u *authpb.User, roles map[string]*authpb.Role) *userPerms {
	p := &userPerms{}
	var read, write spans
	for _, rn := range u.Roles {
		if rn == RootRole {
			p.root = true
		}
		r := roles[rn]
		if r == nil {
			continue
		}
		for _, perm := range r.KeyPermission {
			sp, ok := permSpan(perm.Key, perm.RangeEnd)
			if !ok {
				continue
			}
			switch perm.PermType {
			case authpb.Permission_READ:
				read = append(read, sp)
			case authpb.Permission_WRITE:
				write = append(write, sp)
			case authpb.Permission_READWRITE:
				read = append(read, sp)
				write = append(write, sp)
			}
		}
	}
	p.read = mergeSpans(read)
	p.write = mergeSpans(write)
	return p
}

// permSpan is the span a permission grants: a single key k is
// [k, k+"\x00"), the smallest span holding only k.
func permSpan(key, end []byte) (span, bool) {
	switch {
	case len(key) == 0:
		return span{}, false
	case len(end) == 0:
		return span{start: key, end: append(bytes.Clone(key), 0)}, true
	case isOpenEnd(end):
		return span{start: key}, true
	case bytes.Compare(key, end) < 0:
		return span{start: key, end: end}, true
	}
	return span{}, false
}

// mergeSpans sorts ss and merges overlapping and adjacent spans.
func mergeSpans(ss spans) spans {
	if len(ss) == 0 {
		return nil
	}
	slices.SortFunc(ss, func(a, b span) int { return bytes.Compare(a.start, b.start) })
	out := spans{ss[0]}
	for _, sp := range ss[1:] {
		last := &out[len(out)-1]
		if last.end == nil {
			break // the open span swallows everything after it
		}
		if bytes.Compare(sp.start, last.end) > 0 {
			out = append(out, sp)
			continue
		}
		if sp.end == nil || bytes.Compare(sp.end, last.end) > 0 {
			last.end = sp.end
		}
	}
	return slices.Clip(out)
}

// covers reports whether ss holds every key of the request range
// [key, rangeEnd) (see IsRangePermitted for the conventions).
func (ss spans) covers(key, rangeEnd []byte) bool {
	// The last span starting at or before key is the only one that can
	// hold key.
	i, found := slices.BinarySearchFunc(ss, key, func(sp span, k []byte) int { return bytes.Compare(sp.start, k) })
	if !found {
		i--
	}
	if i < 0 {
		return false
	}
	sp := ss[i]
	if sp.end != nil && bytes.Compare(key, sp.end) >= 0 {
		return false // key itself is not held
	}
	switch {
	case len(rangeEnd) == 0:
		return true
	case isOpenEnd(rangeEnd):
		return sp.end == nil
	case bytes.Compare(rangeEnd, key) <= 0:
		return true // an empty range needs only its key
	}
	// Spans are disjoint and non-adjacent, so the one holding key must
	// reach rangeEnd by itself.
	return sp.end == nil || bytes.Compare(rangeEnd, sp.end) <= 0
}
