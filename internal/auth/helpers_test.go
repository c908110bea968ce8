package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"golang.org/x/crypto/bcrypt"
)

// openMemDB opens a Pebble instance on an in-memory filesystem, closed at
// the end of the test.
func openMemDB(t testing.TB) *pebble.DB {
	t.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Logger: quietLogger{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// quietLogger keeps Pebble's chatter out of test output, failing the test
// on Pebble's fatal messages.
type quietLogger struct{ t testing.TB }

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (l quietLogger) Fatalf(format string, args ...any) {
	l.t.Helper()
	l.t.Fatalf(format, args...)
}

// testConfig is a Config with the cheapest bcrypt cost, so tests that hash
// many passwords stay fast.
func testConfig() Config { return Config{BcryptCost: bcrypt.MinCost} }

func newTestStore(t testing.TB, db *pebble.DB, cfg Config) *Store {
	t.Helper()
	s, err := New(db, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// apply runs one apply-side call in its own batch and commits it on
// success, as the applier does.
func apply(t testing.TB, db *pebble.DB, fn func(b *pebble.Batch) error) error {
	t.Helper()
	b := db.NewBatch()
	defer b.Close()
	if err := fn(b); err != nil {
		if !b.Empty() {
			t.Fatalf("failed apply left %d bytes in the batch", b.Len())
		}
		return err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	return nil
}

// mustApply is apply that fails the test on error.
func mustApply(t testing.TB, db *pebble.DB, fn func(b *pebble.Batch) error) {
	t.Helper()
	if err := apply(t, db, fn); err != nil {
		t.Fatal(err)
	}
}

// addUser adds a user with a password hashed by s.
func addUser(t testing.TB, s *Store, name, password string) {
	t.Helper()
	h, err := s.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s.db, func(b *pebble.Batch) error {
		return s.UserAdd(b, &pb.AuthUserAddRequest{Name: name, HashedPassword: h})
	})
}

// enableWithRoot creates user root with role root and enables auth.
func enableWithRoot(t testing.TB, s *Store) {
	t.Helper()
	addUser(t, s, RootUser, "rootpw")
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.UserGrantRole(b, RootUser, RootRole) })
	mustApply(t, s.db, s.Enable)
}

// fakeClock is a settable clock for token expiry.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// writePEM writes one PEM block to dir/name and returns the path.
func writePEM(t testing.TB, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rsaKeyFiles generates an RSA key pair into dir: (private, public) paths.
func rsaKeyFiles(t testing.TB, dir, name string) (string, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name+".key", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k)),
		writePEM(t, dir, name+".pub", "PUBLIC KEY", pub)
}

// ecKeyFiles generates an ECDSA key pair on curve into dir.
func ecKeyFiles(t testing.TB, dir, name string, curve elliptic.Curve) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name+".key", "EC PRIVATE KEY", der), writePEM(t, dir, name+".pub", "PUBLIC KEY", pub)
}
