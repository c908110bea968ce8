package auth

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/authpb"
)

// replaceAuthState replaces dst's auth keys with src's, as installing a
// state snapshot does.
func replaceAuthState(t *testing.T, dst, src *pebble.DB) {
	t.Helper()
	b := dst.NewBatch()
	defer b.Close()
	if err := b.DeleteRange([]byte{Prefix}, []byte{Prefix + 1}, nil); err != nil {
		t.Fatal(err)
	}
	it, err := src.NewIter(&pebble.IterOptions{LowerBound: []byte{Prefix}, UpperBound: []byte{Prefix + 1}})
	if err != nil {
		t.Fatal(err)
	}
	for it.First(); it.Valid(); it.Next() {
		if err := b.Set(it.Key(), it.Value(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
}

func TestFreshStore(t *testing.T) {
	s := newTestStore(t, openMemDB(t), testConfig())
	if s.IsEnabled() || s.Revision() != 1 || len(s.UserList()) != 0 || len(s.RoleList()) != 0 {
		t.Fatalf("fresh store: enabled=%v rev=%d users=%q roles=%q", s.IsEnabled(), s.Revision(), s.UserList(), s.RoleList())
	}
}

func TestPersistence(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{t}})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestStore(t, db, testConfig())
	addUser(t, s, "alice", "pw")
	mustApply(t, db, func(b *pebble.Batch) error { return s.RoleAdd(b, "r") })
	mustApply(t, db, func(b *pebble.Batch) error {
		return s.RoleGrantPermission(b, "r", &authpb.Permission{PermType: authpb.Permission_READWRITE, Key: []byte("a"), RangeEnd: []byte{0}})
	})
	mustApply(t, db, func(b *pebble.Batch) error { return s.UserGrantRole(b, "alice", "r") })
	enableWithRoot(t, s)
	want := dumpState(s)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = pebble.Open(dir, &pebble.Options{Logger: quietLogger{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s = newTestStore(t, db, testConfig())
	if got := dumpState(s); got != want {
		t.Fatalf("after reopening:\n got: %s\nwant: %s", got, want)
	}
	if err := s.IsRangePermitted(&AuthInfo{Username: "alice", Revision: s.Revision()}, []byte("zz"), []byte{0}); err != nil {
		t.Fatalf("permissions after reopening: %v", err)
	}
}

func TestReload(t *testing.T) {
	s := fixture(t, true)
	other := newTestStore(t, openMemDB(t), testConfig())
	addUser(t, other, "carol", "pw")
	mustApply(t, other.db, func(b *pebble.Batch) error { return other.RoleAdd(b, "rc") })
	mustApply(t, other.db, func(b *pebble.Batch) error {
		return other.RoleGrantPermission(b, "rc", &authpb.Permission{Key: []byte("c")})
	})
	mustApply(t, other.db, func(b *pebble.Batch) error { return other.UserGrantRole(b, "carol", "rc") })
	enableWithRoot(t, other)
	// Warm the permission cache with state about to vanish.
	if err := s.IsRangePermitted(&AuthInfo{Username: "alice", Revision: s.Revision()}, []byte("a"), nil); err != nil {
		t.Fatal(err)
	}

	replaceAuthState(t, s.db, other.db)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, want := dumpState(s), dumpState(other); got != want {
		t.Fatalf("after reload:\n got: %s\nwant: %s", got, want)
	}
	if err := s.IsRangePermitted(&AuthInfo{Username: "alice", Revision: s.Revision()}, []byte("a"), nil); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("alice after reload: %v", err)
	}
	if err := s.IsRangePermitted(&AuthInfo{Username: "carol", Revision: s.Revision()}, []byte("c"), nil); err != nil {
		t.Fatalf("carol after reload: %v", err)
	}

	// An empty keyspace is a fresh store.
	replaceAuthState(t, s.db, openMemDB(t))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if s.IsEnabled() || s.Revision() != 1 || len(s.UserList()) != 0 {
		t.Fatalf("after reloading nothing: enabled=%v rev=%d users=%q", s.IsEnabled(), s.Revision(), s.UserList())
	}
}

func TestLoadRejectsCorruption(t *testing.T) {
	for name, kv := range map[string][2][]byte{
		"user":     {userKey("x"), []byte{0xff, 0xff}},
		"role":     {roleKey("x"), []byte{0xff, 0xff}},
		"revision": {keyRevision, []byte{1, 2, 3}},
	} {
		t.Run(name, func(t *testing.T) {
			db := openMemDB(t)
			if err := db.Set(kv[0], kv[1], pebble.NoSync); err != nil {
				t.Fatal(err)
			}
			if _, err := New(db, testConfig(), nil); err == nil {
				t.Fatal("corrupt state loaded")
			}
		})
	}
}
