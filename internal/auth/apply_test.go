package auth

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// fixture: users root (role root), alice (r1), nopw (no password); roles
// r1 (READ [a, c), WRITE k) and r2; authentication enabled if asked.
func fixture(t *testing.T, enabled bool) *Store {
	t.Helper()
	s := newTestStore(t, openMemDB(t), testConfig())
	addUser(t, s, RootUser, "rootpw")
	addUser(t, s, "alice", "alicepw")
	mustApply(t, s.db, func(b *pebble.Batch) error {
		return s.UserAdd(b, &pb.AuthUserAddRequest{Name: "nopw", Options: &authpb.UserAddOptions{NoPassword: true}})
	})
	for _, step := range []func(b *pebble.Batch) error{
		func(b *pebble.Batch) error { return s.RoleAdd(b, "r1") },
		func(b *pebble.Batch) error { return s.RoleAdd(b, "r2") },
		func(b *pebble.Batch) error {
			return s.RoleGrantPermission(b, "r1", &authpb.Permission{PermType: authpb.Permission_READ, Key: []byte("a"), RangeEnd: []byte("c")})
		},
		func(b *pebble.Batch) error {
			return s.RoleGrantPermission(b, "r1", &authpb.Permission{PermType: authpb.Permission_WRITE, Key: []byte("k")})
		},
		func(b *pebble.Batch) error { return s.UserGrantRole(b, RootUser, RootRole) },
		func(b *pebble.Batch) error { return s.UserGrantRole(b, "alice", "r1") },
	} {
		mustApply(t, s.db, step)
	}
	if enabled {
		mustApply(t, s.db, s.Enable)
	}
	return s
}

func TestApply(t *testing.T) {
	perm := func(typ authpb.Permission_Type, key, end string) *authpb.Permission {
		p := &authpb.Permission{PermType: typ, Key: []byte(key)}
		if end != "" {
			p.RangeEnd = []byte(end)
		}
		return p
	}
	tests := []struct {
		name    string
		enabled bool
		op      func(s *Store, b *pebble.Batch) error
		wantErr error
		// bumps is how much the revision moves on success.
		bumps uint64
	}{
		{"enable", false, (*Store).Enable, nil, 0},
		{"enable again", true, (*Store).Enable, nil, 0},
		{"disable", true, (*Store).Disable, nil, 1},
		{"disable again", false, (*Store).Disable, nil, 0},

		{"user add", false, func(s *Store, b *pebble.Batch) error {
			return s.UserAdd(b, &pb.AuthUserAddRequest{Name: "bob", HashedPassword: "h"})
		}, nil, 1},
		{"user add empty name", false, func(s *Store, b *pebble.Batch) error {
			return s.UserAdd(b, &pb.AuthUserAddRequest{})
		}, ErrUserEmpty, 0},
		{"user add existing", true, func(s *Store, b *pebble.Batch) error {
			return s.UserAdd(b, &pb.AuthUserAddRequest{Name: "alice"})
		}, ErrUserAlreadyExist, 0},

		{"user delete", true, func(s *Store, b *pebble.Batch) error { return s.UserDelete(b, "alice") }, nil, 1},
		{"user delete missing", false, func(s *Store, b *pebble.Batch) error { return s.UserDelete(b, "bob") }, ErrUserNotFound, 0},
		{"user delete empty", false, func(s *Store, b *pebble.Batch) error { return s.UserDelete(b, "") }, ErrUserNotFound, 0},
		{"user delete root disabled", false, func(s *Store, b *pebble.Batch) error { return s.UserDelete(b, RootUser) }, nil, 1},
		{"user delete root enabled", true, func(s *Store, b *pebble.Batch) error { return s.UserDelete(b, RootUser) }, ErrInvalidAuthMgmt, 0},

		{"change password", true, func(s *Store, b *pebble.Batch) error { return s.UserChangePassword(b, "alice", "h2") }, nil, 1},
		{"change password missing", true, func(s *Store, b *pebble.Batch) error { return s.UserChangePassword(b, "bob", "h2") }, ErrUserNotFound, 0},

		{"grant role", true, func(s *Store, b *pebble.Batch) error { return s.UserGrantRole(b, "alice", "r2") }, nil, 1},
		{"grant role held", true, func(s *Store, b *pebble.Batch) error { return s.UserGrantRole(b, "alice", "r1") }, nil, 0},
		{"grant root role without the role", true, func(s *Store, b *pebble.Batch) error { return s.UserGrantRole(b, "alice", RootRole) }, nil, 1},
		{"grant missing role", true, func(s *Store, b *pebble.Batch) error { return s.UserGrantRole(b, "alice", "r9") }, ErrRoleNotFound, 0},
		{"grant to missing user first", true, func(s *Store, b *pebble.Batch) error { return s.UserGrantRole(b, "bob", "r9") }, ErrUserNotFound, 0},

		{"revoke role", true, func(s *Store, b *pebble.Batch) error { return s.UserRevokeRole(b, "alice", "r1") }, nil, 1},
		{"revoke role not held", true, func(s *Store, b *pebble.Batch) error { return s.UserRevokeRole(b, "alice", "r2") }, ErrRoleNotGranted, 0},
		{"revoke role that does not exist", true, func(s *Store, b *pebble.Batch) error { return s.UserRevokeRole(b, "alice", "r9") }, ErrRoleNotGranted, 0},
		{"revoke from missing user", true, func(s *Store, b *pebble.Batch) error { return s.UserRevokeRole(b, "bob", "r1") }, ErrUserNotFound, 0},
		{"revoke root from root enabled", true, func(s *Store, b *pebble.Batch) error { return s.UserRevokeRole(b, RootUser, RootRole) }, ErrInvalidAuthMgmt, 0},
		{"revoke root from root disabled", false, func(s *Store, b *pebble.Batch) error { return s.UserRevokeRole(b, RootUser, RootRole) }, nil, 1},

		{"role add", true, func(s *Store, b *pebble.Batch) error { return s.RoleAdd(b, "r3") }, nil, 1},
		{"role add root", true, func(s *Store, b *pebble.Batch) error { return s.RoleAdd(b, RootRole) }, nil, 1},
		{"role add empty", true, func(s *Store, b *pebble.Batch) error { return s.RoleAdd(b, "") }, ErrRoleEmpty, 0},
		{"role add existing", true, func(s *Store, b *pebble.Batch) error { return s.RoleAdd(b, "r1") }, ErrRoleAlreadyExist, 0},

		{"role delete", true, func(s *Store, b *pebble.Batch) error { return s.RoleDelete(b, "r1") }, nil, 1},
		{"role delete missing", true, func(s *Store, b *pebble.Batch) error { return s.RoleDelete(b, "r9") }, ErrRoleNotFound, 0},
		{"role delete root enabled", true, func(s *Store, b *pebble.Batch) error { return s.RoleDelete(b, RootRole) }, ErrInvalidAuthMgmt, 0},
		{"role delete root disabled, missing", false, func(s *Store, b *pebble.Batch) error { return s.RoleDelete(b, RootRole) }, ErrRoleNotFound, 0},

		{"grant permission", true, func(s *Store, b *pebble.Batch) error {
			return s.RoleGrantPermission(b, "r2", perm(authpb.Permission_READ, "x", "y"))
		}, nil, 1},
		{"grant same permission again", true, func(s *Store, b *pebble.Batch) error {
			return s.RoleGrantPermission(b, "r1", perm(authpb.Permission_READ, "a", "c"))
		}, nil, 1},
		{"grant from-key permission", true, func(s *Store, b *pebble.Batch) error {
			return s.RoleGrantPermission(b, "r2", perm(authpb.Permission_READ, "x", "\x00"))
		}, nil, 1},
		{"grant permission nil", true, func(s *Store, b *pebble.Batch) error { return s.RoleGrantPermission(b, "r9", nil) }, ErrPermissionNotGiven, 0},
		{"grant permission empty key", true, func(s *Store, b *pebble.Batch) error {
			return s.RoleGrantPermission(b, "r1", perm(authpb.Permission_READ, "", "\x00"))
		}, ErrInvalidAuthMgmt, 0},
		{"grant permission inverted", true, func(s *Store, b *pebble.Batch) error {
			return s.RoleGrantPermission(b, "r9", perm(authpb.Permission_READ, "b", "a"))
		}, ErrInvalidAuthMgmt, 0},
		{"grant permission empty range", true, func(s *Store, b *pebble.Batch) error {
			return s.RoleGrantPermission(b, "r1", perm(authpb.Permission_READ, "b", "b"))
		}, ErrInvalidAuthMgmt, 0},
		{"grant permission missing role", true, func(s *Store, b *pebble.Batch) error {
			return s.RoleGrantPermission(b, "r9", perm(authpb.Permission_READ, "a", ""))
		}, ErrRoleNotFound, 0},

		{"revoke permission", true, func(s *Store, b *pebble.Batch) error {
			return s.RoleRevokePermission(b, "r1", []byte("a"), []byte("c"))
		}, nil, 1},
		{"revoke permission other end", true, func(s *Store, b *pebble.Batch) error {
			return s.RoleRevokePermission(b, "r1", []byte("a"), []byte("b"))
		}, ErrPermissionNotGranted, 0},
		{"revoke permission missing role", true, func(s *Store, b *pebble.Batch) error {
			return s.RoleRevokePermission(b, "r9", []byte("a"), nil)
		}, ErrRoleNotFound, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fixture(t, tt.enabled)
			before := s.Revision()
			err := apply(t, s.db, func(b *pebble.Batch) error { return tt.op(s, b) })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := s.Revision() - before; got != tt.bumps {
				t.Fatalf("revision moved by %d, want %d", got, tt.bumps)
			}
			assertPersisted(t, s)
		})
	}
}

// assertPersisted checks that what s holds in memory is what a Store
// loading its database would hold.
func assertPersisted(t *testing.T, s *Store) {
	t.Helper()
	fresh := newTestStore(t, s.db, testConfig())
	if got, want := dumpState(fresh), dumpState(s); got != want {
		t.Fatalf("loaded state differs from memory:\nloaded: %s\nmemory: %s", got, want)
	}
}

// dumpState renders the whole replicated state, password hashes included.
func dumpState(s *Store) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "enabled=%v rev=%d\n", s.mu.enabled, s.mu.revision)
	for _, n := range sortedKeys(s.mu.users) {
		u := s.mu.users[n]
		fmt.Fprintf(&buf, "user %q pw=%q roles=%q nopw=%v\n", u.Name, u.Password, u.Roles, noPassword(u))
	}
	for _, n := range sortedKeys(s.mu.roles) {
		fmt.Fprintf(&buf, "role %q %s\n", n, formatPerms(s.mu.roles[n].KeyPermission))
	}
	return buf.String()
}

func TestRoleDeleteRevokesFromUsers(t *testing.T) {
	s := fixture(t, true)
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.UserGrantRole(b, RootUser, "r1") })
	rev := s.Revision()
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.RoleDelete(b, "r1") })
	if s.Revision() != rev+1 {
		t.Fatalf("revision %d, want one bump from %d", s.Revision(), rev)
	}
	for _, name := range []string{"alice", RootUser} {
		u, err := s.UserGet(name)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(u.Roles, "r1") {
			t.Errorf("%s still holds r1: %q", name, u.Roles)
		}
	}
	assertPersisted(t, s)
}

func TestReadSide(t *testing.T) {
	s := fixture(t, true)
	u, err := s.UserGet("alice")
	if err != nil {
		t.Fatal(err)
	}
	if u.Password != nil || string(u.Name) != "alice" || !slices.Equal(u.Roles, []string{"r1"}) {
		t.Fatalf("UserGet = %v", u)
	}
	u.Roles[0] = "mutated"
	if again, _ := s.UserGet("alice"); again.Roles[0] != "r1" {
		t.Fatal("UserGet returned the store's own user")
	}
	if _, err := s.UserGet("bob"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("UserGet(bob) = %v", err)
	}
	if got, want := s.UserList(), []string{"alice", "nopw", "root"}; !slices.Equal(got, want) {
		t.Fatalf("UserList = %q, want %q", got, want)
	}
	if got, want := s.RoleList(), []string{"r1", "r2"}; !slices.Equal(got, want) {
		t.Fatalf("RoleList = %q, want %q", got, want)
	}
	r, err := s.RoleGet("r1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := formatPerms(r.KeyPermission), `perms=READ["a","c"] WRITE["k",""]`; got != want {
		t.Fatalf("RoleGet(r1) = %s, want %s", got, want)
	}
	if _, err := s.RoleGet(RootRole); !errors.Is(err, ErrRoleNotFound) {
		t.Fatalf("RoleGet(root) before it exists = %v", err)
	}
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.RoleAdd(b, RootRole) })
	r, err = s.RoleGet(RootRole)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := formatPerms(r.KeyPermission), `perms=READWRITE["","\x00"]`; got != want {
		t.Fatalf("RoleGet(root) = %s, want %s", got, want)
	}
}

func TestGrantPermissionOrder(t *testing.T) {
	s := newTestStore(t, openMemDB(t), testConfig())
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.RoleAdd(b, "r") })
	grant := func(typ authpb.Permission_Type, key, end string) {
		t.Helper()
		p := &authpb.Permission{PermType: typ, Key: []byte(key)}
		if end != "-" {
			p.RangeEnd = []byte(end)
		}
		mustApply(t, s.db, func(b *pebble.Batch) error { return s.RoleGrantPermission(b, "r", p) })
	}
	grant(authpb.Permission_READ, "\x00", "\x00")
	grant(authpb.Permission_READ, "b", "c")
	grant(authpb.Permission_WRITE, "a", "-")
	grant(authpb.Permission_READWRITE, "c", "\x00")
	grant(authpb.Permission_READ, "a", "b")
	grant(authpb.Permission_READ, "a", "-")    // first with key a: replaced
	grant(authpb.Permission_WRITE, "a", "b")   // not first with key a: added again
	grant(authpb.Permission_READ, "a", "\x00") // after the other a's
	r, _ := s.RoleGet("r")
	want := `perms=READ["\x00","\x00"] READ["a",""] READ["a","b"] WRITE["a","b"] READ["a","\x00"] READ["b","c"] READWRITE["c","\x00"]`
	if got := formatPerms(r.KeyPermission); got != want {
		t.Fatalf("permissions\n got: %s\nwant: %s", got, want)
	}
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.RoleRevokePermission(b, "r", []byte("a"), []byte("b")) })
	r, _ = s.RoleGet("r")
	want = `perms=READ["\x00","\x00"] READ["a",""] READ["a","\x00"] READ["b","c"] READWRITE["c","\x00"]`
	if got := formatPerms(r.KeyPermission); got != want {
		t.Fatalf("after revoking both [a, b)\n got: %s\nwant: %s", got, want)
	}
}

// TestApplyDeterministic applies one random sequence of requests to two
// stores and expects byte-identical batches and outcomes, as every member
// must produce.
func TestApplyDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := newTestStore(t, openMemDB(t), testConfig())
	b := newTestStore(t, openMemDB(t), testConfig())
	names := []string{"root", "u1", "u2", "r1", "r2", ""}
	keys := []string{"", "a", "b", "c", "\x00"}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	for i := range 2000 {
		var op func(s *Store, bt *pebble.Batch) error
		n1, n2, k1, k2 := pick(names), pick(names), pick(keys), pick(keys)
		typ := authpb.Permission_Type(rng.IntN(3))
		switch rng.IntN(12) {
		case 0:
			op = (*Store).Enable
		case 1:
			op = (*Store).Disable
		case 2:
			nopw := rng.IntN(4) == 0
			op = func(s *Store, bt *pebble.Batch) error {
				return s.UserAdd(bt, &pb.AuthUserAddRequest{Name: n1, HashedPassword: "h" + n2, Options: &authpb.UserAddOptions{NoPassword: nopw}})
			}
		case 3:
			op = func(s *Store, bt *pebble.Batch) error { return s.UserDelete(bt, n1) }
		case 4:
			op = func(s *Store, bt *pebble.Batch) error { return s.UserChangePassword(bt, n1, "p"+n2) }
		case 5, 6:
			op = func(s *Store, bt *pebble.Batch) error { return s.UserGrantRole(bt, n1, n2) }
		case 7:
			op = func(s *Store, bt *pebble.Batch) error { return s.UserRevokeRole(bt, n1, n2) }
		case 8:
			op = func(s *Store, bt *pebble.Batch) error { return s.RoleAdd(bt, n1) }
		case 9:
			op = func(s *Store, bt *pebble.Batch) error { return s.RoleDelete(bt, n1) }
		case 10:
			op = func(s *Store, bt *pebble.Batch) error {
				return s.RoleGrantPermission(bt, n1, &authpb.Permission{PermType: typ, Key: []byte(k1), RangeEnd: []byte(k2)})
			}
		case 11:
			op = func(s *Store, bt *pebble.Batch) error { return s.RoleRevokePermission(bt, n1, []byte(k1), []byte(k2)) }
		}
		ba, bb := a.db.NewBatch(), b.db.NewBatch()
		errA, errB := op(a, ba), op(b, bb)
		if errA != errB {
			t.Fatalf("step %d: errors differ: %v vs %v", i, errA, errB)
		}
		if !bytes.Equal(ba.Repr(), bb.Repr()) {
			t.Fatalf("step %d: batches differ", i)
		}
		for _, bt := range []*pebble.Batch{ba, bb} {
			if err := bt.Commit(pebble.NoSync); err != nil {
				t.Fatal(err)
			}
			bt.Close()
		}
	}
	if dumpState(a) != dumpState(b) {
		t.Fatal("states differ")
	}
	assertPersisted(t, a)
}

func TestUserAddStoresHashAndOptions(t *testing.T) {
	s := newTestStore(t, openMemDB(t), testConfig())
	opts := &authpb.UserAddOptions{NoPassword: true}
	mustApply(t, s.db, func(b *pebble.Batch) error {
		return s.UserAdd(b, &pb.AuthUserAddRequest{Name: "cert", HashedPassword: "ignored", Options: opts})
	})
	mustApply(t, s.db, func(b *pebble.Batch) error {
		return s.UserAdd(b, &pb.AuthUserAddRequest{Name: "pw", HashedPassword: "$2a$04$hash"})
	})
	opts.NoPassword = false // the store keeps its own copy
	s.mu.RLock()
	cert, pw := proto.CloneOf(s.mu.users["cert"]), proto.CloneOf(s.mu.users["pw"])
	s.mu.RUnlock()
	if cert.Password != nil || !noPassword(cert) {
		t.Errorf("no-password user stored as %v", cert)
	}
	if string(pw.Password) != "$2a$04$hash" || noPassword(pw) {
		t.Errorf("password user stored as %v", pw)
	}
}
