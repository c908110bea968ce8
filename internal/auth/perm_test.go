package auth

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/authpb"
)

func TestSpansCover(t *testing.T) {
	// READ [a, c), [c, e) (adjacent: merged), g, [g\x00, h) (a single key
	// and the range right after it: merged), [p, q), [w, ...).
	perms := []*authpb.Permission{
		{Key: []byte("a"), RangeEnd: []byte("c")},
		{Key: []byte("c"), RangeEnd: []byte("e")},
		{Key: []byte("g")},
		{Key: []byte("g\x00"), RangeEnd: []byte("h")},
		{Key: []byte("p"), RangeEnd: []byte("q")},
		{Key: []byte("w"), RangeEnd: []byte{0}},
	}
	ss := mergePerms(&authpb.User{Roles: []string{"r"}}, map[string]*authpb.Role{"r": {KeyPermission: perms}}).read
	if got, want := fmt.Sprintf("%q", ss), `[{"a" "e"} {"g" "h"} {"p" "q"} {"w" ""}]`; got != want {
		t.Fatalf("merged spans %s, want %s", got, want)
	}
	tests := []struct {
		key, end string
		want     bool
	}{
		{"a", "", true},
		{"d", "", true},
		{"e", "", false},
		{"\x00", "", false},
		{"a", "e", true},                   // across the adjacent pair
		{"a", "e\x00", false},              // one key past
		{"b", "d", true},                   //
		{"g", "h", true},                   // single key + following range
		{"g", "g\x00", true},               // the single key as a range
		{"p", "q\x00", false},              //
		{"p1", "p2", true},                 //
		{"w", "\x00", true},                // from key, inside from-key permission
		{"z", "\x00", true},                //
		{"v", "\x00", false},               //
		{"\x00", "\x00", false},            // everything
		{"c", "a", true},                   // inverted: only the key counts
		{"e", "a", false},                  //
		{"a", "a", true},                   // empty: only the key counts
		{"\xff\xff", "", true},             //
		{"", "", false},                    // no key
		{"x", "y", true},                   //
		{"h", "p", false},                  // a gap
		{"p1", string([]byte{0, 0}), true}, // inverted again (end < key)
	}
	for _, tt := range tests {
		if got := ss.covers([]byte(tt.key), []byte(tt.end)); got != tt.want {
			t.Errorf("covers(%q, %q) = %v, want %v", tt.key, tt.end, got, tt.want)
		}
	}
}

func TestMergeSpansOpenEnd(t *testing.T) {
	ss := mergeSpans(spans{
		{start: []byte("m"), end: nil},
		{start: []byte("a"), end: []byte("b")},
		{start: []byte("n"), end: []byte("z")},
		{start: []byte("b"), end: []byte("c")},
	})
	if got, want := fmt.Sprintf("%q", ss), `[{"a" "c"} {"m" ""}]`; got != want {
		t.Fatalf("merged %s, want %s", got, want)
	}
}

// permStore: auth enabled; users "reader" (READ [a, m) and the prefix
// "p/"), "writer" (WRITE from "w" on), "both" (READWRITE k), "nobody" (no
// roles) and root.
func permStore(t testing.TB) *Store {
	t.Helper()
	s := newTestStore(t, openMemDB(t), testConfig())
	grant := func(role string, typ authpb.Permission_Type, key, end string) {
		mustApply(t, s.db, func(b *pebble.Batch) error {
			p := &authpb.Permission{PermType: typ, Key: []byte(key)}
			if end != "" {
				p.RangeEnd = []byte(end)
			}
			return s.RoleGrantPermission(b, role, p)
		})
	}
	for _, r := range []string{"rr", "rw", "rb"} {
		mustApply(t, s.db, func(b *pebble.Batch) error { return s.RoleAdd(b, r) })
	}
	grant("rr", authpb.Permission_READ, "a", "m")
	grant("rr", authpb.Permission_READ, "p/", "p0")
	grant("rw", authpb.Permission_WRITE, "w", "\x00")
	grant("rb", authpb.Permission_READWRITE, "k", "")
	for user, role := range map[string]string{"reader": "rr", "writer": "rw", "both": "rb", "nobody": ""} {
		addUser(t, s, user, "pw")
		if role != "" {
			mustApply(t, s.db, func(b *pebble.Batch) error { return s.UserGrantRole(b, user, role) })
		}
	}
	enableWithRoot(t, s)
	return s
}

func TestPermissionMatrix(t *testing.T) {
	s := permStore(t)
	type op int
	const (
		get op = iota
		put
		del
	)
	check := func(user string, o op, key, end string) error {
		info := &AuthInfo{Username: user, Revision: s.Revision()}
		switch o {
		case get:
			return s.IsRangePermitted(info, []byte(key), []byte(end))
		case put:
			return s.IsPutPermitted(info, []byte(key))
		}
		return s.IsDeleteRangePermitted(info, []byte(key), []byte(end))
	}
	tests := []struct {
		user     string
		op       op
		key, end string
		want     error
	}{
		{"reader", get, "a", "", nil},
		{"reader", get, "a", "m", nil},
		{"reader", get, "a", "m\x00", ErrPermissionDenied},
		{"reader", get, "p/", "p0", nil}, // the prefix
		{"reader", get, "p/x", "", nil},
		{"reader", get, "p", "", ErrPermissionDenied},
		{"reader", put, "a", "", ErrPermissionDenied},
		{"reader", del, "a", "b", ErrPermissionDenied},
		{"writer", put, "w", "", nil},
		{"writer", put, "zzz", "", nil},
		{"writer", del, "x", "\x00", nil}, // from key
		{"writer", del, "v", "\x00", ErrPermissionDenied},
		{"writer", get, "w", "", ErrPermissionDenied},
		{"both", get, "k", "", nil},
		{"both", put, "k", "", nil},
		{"both", del, "k", "k\x00", nil},
		{"both", del, "k", "l", ErrPermissionDenied},
		{"nobody", get, "a", "", ErrPermissionDenied},
		{"stranger", get, "a", "", ErrPermissionDenied}, // not a user (e.g. a certificate CN)
		{RootUser, del, "\x00", "\x00", nil},
		{RootUser, get, "anything", "", nil},
		{"", get, "a", "", ErrUserEmpty},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%d/%q-%q", tt.user, tt.op, tt.key, tt.end)
		if err := check(tt.user, tt.op, tt.key, tt.end); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", name, err, tt.want)
		}
	}
	if err := s.IsRangePermitted(nil, []byte("a"), nil); !errors.Is(err, ErrUserEmpty) {
		t.Errorf("nil info: %v", err)
	}
}

func TestPermissionsDisabled(t *testing.T) {
	s := permStore(t)
	mustApply(t, s.db, s.Disable)
	for _, info := range []*AuthInfo{nil, {}, {Username: "nobody", Revision: 1}} {
		if err := s.IsPutPermitted(info, []byte("a")); err != nil {
			t.Errorf("put as %v with auth disabled: %v", info, err)
		}
		if err := s.IsAdminPermitted(info); err != nil {
			t.Errorf("admin as %v with auth disabled: %v", info, err)
		}
	}
}

func TestAdminPermitted(t *testing.T) {
	s := permStore(t)
	tests := []struct {
		info *AuthInfo
		want error
	}{
		{&AuthInfo{Username: RootUser, Revision: s.Revision()}, nil},
		{&AuthInfo{Username: RootUser, Revision: 1}, nil}, // admin checks ignore the revision
		{&AuthInfo{Username: "reader", Revision: s.Revision()}, ErrPermissionDenied},
		{&AuthInfo{Username: "stranger", Revision: s.Revision()}, ErrUserNotFound},
		{&AuthInfo{}, ErrUserEmpty},
		{nil, ErrUserEmpty},
	}
	for _, tt := range tests {
		if err := s.IsAdminPermitted(tt.info); !errors.Is(err, tt.want) {
			t.Errorf("IsAdminPermitted(%v) = %v, want %v", tt.info, err, tt.want)
		}
	}
}

func TestOldRevision(t *testing.T) {
	s := permStore(t)
	old := &AuthInfo{Username: "reader", Revision: s.Revision()}
	if err := s.IsRangePermitted(old, []byte("a"), nil); err != nil {
		t.Fatal(err)
	}
	// Any auth change leaves old credentials stale, whatever they would
	// be allowed: the client must authenticate again.
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.RoleAdd(b, "unrelated") })
	for _, key := range []string{"a", "z"} {
		if err := s.IsRangePermitted(old, []byte(key), nil); !errors.Is(err, ErrAuthOldRevision) {
			t.Errorf("stale read of %q: %v, want ErrAuthOldRevision", key, err)
		}
	}
	if err := s.IsPutPermitted(&AuthInfo{Username: RootUser, Revision: old.Revision}, []byte("a")); !errors.Is(err, ErrAuthOldRevision) {
		t.Errorf("stale root put: %v", err)
	}
	fresh := &AuthInfo{Username: "reader", Revision: s.Revision()}
	if err := s.IsRangePermitted(fresh, []byte("a"), nil); err != nil {
		t.Errorf("fresh read: %v", err)
	}
	// A revision from the future (a member that applied further) passes.
	if err := s.IsRangePermitted(&AuthInfo{Username: "reader", Revision: s.Revision() + 5}, []byte("a"), nil); err != nil {
		t.Errorf("newer revision: %v", err)
	}
}

func TestPermissionCacheFollowsChanges(t *testing.T) {
	s := permStore(t)
	at := func() *AuthInfo { return &AuthInfo{Username: "reader", Revision: s.Revision()} }
	if err := s.IsRangePermitted(at(), []byte("x"), nil); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("before grant: %v", err)
	}
	mustApply(t, s.db, func(b *pebble.Batch) error {
		return s.RoleGrantPermission(b, "rr", &authpb.Permission{Key: []byte("x")})
	})
	if err := s.IsRangePermitted(at(), []byte("x"), nil); err != nil {
		t.Fatalf("after grant: %v", err)
	}
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.UserRevokeRole(b, "reader", "rr") })
	if err := s.IsRangePermitted(at(), []byte("a"), nil); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("after revoking the role: %v", err)
	}
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.UserGrantRole(b, "reader", RootRole) })
	if err := s.IsAdminPermitted(at()); err != nil {
		t.Fatalf("after granting root: %v", err)
	}
}

func TestUserFromCommonName(t *testing.T) {
	s := permStore(t)
	info, err := s.UserFromCommonName("reader")
	if err != nil || info.Username != "reader" || info.Revision != s.Revision() {
		t.Fatalf("UserFromCommonName(reader) = %v, %v", info, err)
	}
	if err := s.IsRangePermitted(info, []byte("a"), nil); err != nil {
		t.Fatalf("reader by certificate: %v", err)
	}
	info, err = s.UserFromCommonName("stranger")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.IsRangePermitted(info, []byte("a"), nil); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("unknown CN: %v", err)
	}
	if _, err := s.UserFromCommonName(""); !errors.Is(err, ErrUserEmpty) {
		t.Fatalf("empty CN: %v", err)
	}
}

func TestPermissionCheckDoesNotAllocate(t *testing.T) {
	s := permStore(t)
	info := &AuthInfo{Username: "reader", Revision: s.Revision()}
	key, end := []byte("b"), []byte("c")
	_ = s.IsRangePermitted(info, key, end) // fill the cache
	if n := testing.AllocsPerRun(100, func() { _ = s.IsRangePermitted(info, key, end) }); n != 0 {
		t.Fatalf("%v allocations per check", n)
	}
}

func BenchmarkIsRangePermitted(b *testing.B) {
	s := newTestStore(b, openMemDB(b), testConfig())
	// 4 roles of 64 prefix permissions each.
	for r := range 4 {
		role := fmt.Sprintf("r%d", r)
		mustApply(b, s.db, func(bt *pebble.Batch) error { return s.RoleAdd(bt, role) })
		for i := range 64 {
			key := fmt.Appendf(nil, "/registry/%02d/%03d/", r, i)
			end := bytes.Clone(key)
			end[len(end)-1]++
			mustApply(b, s.db, func(bt *pebble.Batch) error {
				return s.RoleGrantPermission(bt, role, &authpb.Permission{PermType: authpb.Permission_READWRITE, Key: key, RangeEnd: end})
			})
		}
	}
	addUser(b, s, "u", "pw")
	for r := range 4 {
		mustApply(b, s.db, func(bt *pebble.Batch) error { return s.UserGrantRole(bt, "u", fmt.Sprintf("r%d", r)) })
	}
	enableWithRoot(b, s)
	info := &AuthInfo{Username: "u", Revision: s.Revision()}
	key, end := []byte("/registry/02/031/a"), []byte("/registry/02/031/b")
	if err := s.IsRangePermitted(info, key, end); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.IsRangePermitted(info, key, end)
	}
}

// modelCovers is the permission rule stated directly: every key of the
// request must lie in some permission. The keys that can be the first
// uncovered one are the request's key and the ends of permissions, so
// checking those suffices.
func modelCovers(perms []*authpb.Permission, key, end []byte) bool {
	holds := func(p *authpb.Permission, k []byte) bool {
		switch {
		case len(p.RangeEnd) == 0:
			return bytes.Equal(k, p.Key)
		case isOpenEnd(p.RangeEnd):
			return bytes.Compare(k, p.Key) >= 0
		}
		return bytes.Compare(k, p.Key) >= 0 && bytes.Compare(k, p.RangeEnd) < 0
	}
	held := func(k []byte) bool {
		for _, p := range perms {
			if holds(p, k) {
				return true
			}
		}
		return false
	}
	if len(key) == 0 {
		return false
	}
	open := isOpenEnd(end)
	if len(end) == 0 || (!open && bytes.Compare(end, key) <= 0) {
		return held(key)
	}
	inRequest := func(k []byte) bool {
		return bytes.Compare(k, key) >= 0 && (open || bytes.Compare(k, end) < 0)
	}
	if !held(key) {
		return false
	}
	for _, p := range perms {
		var after []byte // the first key after p
		switch {
		case len(p.RangeEnd) == 0:
			after = append(bytes.Clone(p.Key), 0)
		case isOpenEnd(p.RangeEnd):
			continue
		default:
			after = p.RangeEnd
		}
		if inRequest(after) && !held(after) {
			return false
		}
	}
	return true
}

// smallKey maps fuzz bytes onto a four-letter alphabet that includes 0x00,
// so that ranges collide, nest and touch often.
func smallKey(b []byte) []byte {
	const alphabet = "\x00abc"
	out := make([]byte, 0, 4)
	for _, c := range b[:min(len(b), 4)] {
		out = append(out, alphabet[c%4])
	}
	return out
}

func FuzzPermissionCheck(f *testing.F) {
	f.Add(uint64(1), uint8(3), []byte("a"), []byte("c"))
	f.Add(uint64(2), uint8(6), []byte{1}, []byte{0})
	f.Add(uint64(3), uint8(0), []byte("ab"), []byte(""))
	f.Add(uint64(4), uint8(9), []byte{2, 0}, []byte{1})
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, rawKey, rawEnd []byte) {
		rng := rand.New(rand.NewPCG(seed, 7))
		roles := map[string]*authpb.Role{"r0": {}, "r1": {}}
		var readPerms, writePerms []*authpb.Permission
		for range n % 12 {
			k := smallKey([]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}[:1+rng.IntN(3)])
			var e []byte
			switch rng.IntN(3) {
			case 1:
				e = []byte{0}
			case 2:
				e = smallKey([]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}[:1+rng.IntN(3)])
			}
			if !validPermissionRange(k, e) {
				continue
			}
			p := &authpb.Permission{PermType: authpb.Permission_Type(rng.IntN(3)), Key: k, RangeEnd: e}
			role := roles[fmt.Sprintf("r%d", rng.IntN(2))]
			role.KeyPermission = append(role.KeyPermission, p)
			if p.PermType != authpb.Permission_WRITE {
				readPerms = append(readPerms, p)
			}
			if p.PermType != authpb.Permission_READ {
				writePerms = append(writePerms, p)
			}
		}
		up := mergePerms(&authpb.User{Roles: []string{"r0", "r1", "gone"}}, roles)
		key := smallKey(rawKey)
		end := smallKey(rawEnd)
		if got, want := up.read.covers(key, end), modelCovers(readPerms, key, end); got != want {
			t.Fatalf("read covers(%q, %q) = %v, model %v; spans %q", key, end, got, want, up.read)
		}
		if got, want := up.write.covers(key, end), modelCovers(writePerms, key, end); got != want {
			t.Fatalf("write covers(%q, %q) = %v, model %v; spans %q", key, end, got, want, up.write)
		}
	})
}
