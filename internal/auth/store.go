package auth

// Store has about thirty methods because it is the one face of the auth
// domain that the applier, the gRPC services and the server share; each
// concern (apply, permissions, passwords, tokens) lives in its own file.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/authpb"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/protobuf/proto"
)

// Key layout. Everything the auth store persists lives under Prefix, in the
// replicated state machine (so it travels in state snapshots):
//
//	'a' "m/enabled"   1 byte: 1 when authentication is enabled
//	'a' "m/revision"  8 bytes big-endian: the auth revision
//	'a' "u/" <name>   authpb.User (Password is the bcrypt hash)
//	'a' "r/" <name>   authpb.Role
//
// A missing revision key means revision 1, the revision of a fresh store.
const Prefix byte = 'a'

var (
	keyEnabled    = []byte{Prefix, 'm', '/', 'e', 'n', 'a', 'b', 'l', 'e', 'd'}
	keyRevision   = []byte{Prefix, 'm', '/', 'r', 'e', 'v', 'i', 's', 'i', 'o', 'n'}
	userKeyPrefix = []byte{Prefix, 'u', '/'}
	roleKeyPrefix = []byte{Prefix, 'r', '/'}
)

func userKey(name string) []byte { return append(slices.Clip(userKeyPrefix), name...) }
func roleKey(name string) []byte { return append(slices.Clip(roleKeyPrefix), name...) }

// RootUser and RootRole are the names with special powers: role root may do
// everything, and authentication can only be enabled once user root holds it.
const (
	RootUser = "root"
	RootRole = "root"
)

// Defaults of the configuration.
const (
	// DefaultBcryptCost is --bcrypt-cost's default.
	DefaultBcryptCost = bcrypt.DefaultCost
	// DefaultSimpleTokenTTL is --auth-token-ttl's default.
	DefaultSimpleTokenTTL = 300 * time.Second
	// DefaultJWTTTL is the lifetime of a JWT when the ttl option is absent.
	DefaultJWTTTL = 5 * time.Minute
)

// Config configures a Store.
type Config struct {
	// BcryptCost is the cost HashPassword uses (--bcrypt-cost); 0 means
	// DefaultBcryptCost. It must lie in [bcrypt.MinCost, bcrypt.MaxCost].
	BcryptCost int
	// Token is the parsed --auth-token; the zero value is simple tokens
	// with DefaultSimpleTokenTTL.
	Token TokenConfig
	// PasswordWorkers bounds how many bcrypt operations run at once, so a
	// flood of logins cannot take every core from raft and the applier;
	// 0 means GOMAXPROCS/2, at least 1.
	PasswordWorkers int
	// Clock returns the time used for token expiry; nil means time.Now.
	Clock func() time.Time
	// Rand is the source of simple tokens' randomness; nil means
	// crypto/rand.
	Rand io.Reader
}

// AuthInfo is who a request runs as, and at which auth revision its
// credentials were checked.
type AuthInfo struct {
	Username string
	Revision uint64
}

// Store is the auth state machine (users, roles, the enabled flag and the
// auth revision) with its permission cache, password checking and tokens.
//
// The replicated state changes only through the apply-side methods, which
// the applier calls in log order with its batch. They are deterministic:
// their outcome depends only on the replicated state and their arguments
// (passwords arrive hashed; no clock, no randomness). They update memory at
// once; the batch carries the change to disk with the applied index.
//
// Read-side methods may be called concurrently with each other and with
// apply.
type Store struct {
	db        *pebble.DB
	lg        *slog.Logger
	cost      int
	now       func() time.Time
	passwords chan struct{} // semaphore of bcrypt workers
	dummyOnce sync.Once
	dummyHash []byte
	tokens    tokenProvider

	// Mirrors of mu's enabled and revision for the request hot path.
	enabled  atomic.Bool
	revision atomic.Uint64
	// perms caches each user's merged permissions; it is replaced, empty,
	// by every change of users or roles (under mu).
	perms atomic.Pointer[permCache]

	mu struct {
		sync.RWMutex
		enabled  bool
		revision uint64
		users    map[string]*authpb.User
		roles    map[string]*authpb.Role
	}
}

// New loads the auth state from db and sets up the token provider (reading
// JWT key files).
func New(db *pebble.DB, cfg Config, lg *slog.Logger) (*Store, error) {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	cost := cfg.BcryptCost
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("auth: bcrypt cost %d out of range [%d, %d]", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	workers := cfg.PasswordWorkers
	if workers <= 0 {
		workers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	now := cfg.Clock
	if now == nil {
		now = time.Now
	}
	s := &Store{
		db:        db,
		lg:        lg,
		cost:      cost,
		now:       now,
		passwords: make(chan struct{}, workers),
	}
	tp, err := newTokenProvider(cfg.Token, now, cfg.Rand)
	if err != nil {
		return nil, err
	}
	s.tokens = tp
	if len(cfg.Token.Ignored) > 0 {
		lg.Warn("ignored unknown --auth-token options", "options", cfg.Token.Ignored)
	}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	lg.Info("auth store loaded", "enabled", s.IsEnabled(), "auth-revision", s.Revision(),
		"token", cfg.Token.Kind.String(), "bcrypt-cost", cost, "password-workers", workers)
	return s, nil
}

// Reload rereads the state from db, after a state snapshot replaced it.
// Simple tokens of users that no longer exist are dropped, and all of them
// if authentication is now disabled.
func (s *Store) Reload() error {
	enabled, revision, users, roles, err := load(s.db)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.enabled = enabled
	s.mu.revision = revision
	s.mu.users = users
	s.mu.roles = roles
	s.publishLocked()
	if !enabled {
		s.tokens.invalidateAll()
	} else {
		s.tokens.retainUsers(func(name string) bool { return users[name] != nil })
	}
	return nil
}

func load(db pebble.Reader) (enabled bool, revision uint64, users map[string]*authpb.User, roles map[string]*authpb.Role, err error) {
	v, ok, err := get(db, keyEnabled)
	if err != nil {
		return false, 0, nil, nil, err
	}
	enabled = ok && len(v) == 1 && v[0] == 1
	revision = 1
	v, ok, err = get(db, keyRevision)
	if err != nil {
		return false, 0, nil, nil, err
	}
	if ok {
		if len(v) != 8 {
			return false, 0, nil, nil, fmt.Errorf("auth: corrupt revision value (%d bytes)", len(v))
		}
		revision = binary.BigEndian.Uint64(v)
	}
	users = map[string]*authpb.User{}
	err = scan(db, userKeyPrefix, func(name string, v []byte) error {
		u := &authpb.User{}
		if err := proto.Unmarshal(v, u); err != nil {
			return fmt.Errorf("auth: decoding user %q: %w", name, err)
		}
		users[name] = u
		return nil
	})
	if err != nil {
		return false, 0, nil, nil, err
	}
	roles = map[string]*authpb.Role{}
	err = scan(db, roleKeyPrefix, func(name string, v []byte) error {
		r := &authpb.Role{}
		if err := proto.Unmarshal(v, r); err != nil {
			return fmt.Errorf("auth: decoding role %q: %w", name, err)
		}
		roles[name] = r
		return nil
	})
	if err != nil {
		return false, 0, nil, nil, err
	}
	return enabled, revision, users, roles, nil
}

func get(db pebble.Reader, key []byte) ([]byte, bool, error) {
	v, closer, err := db.Get(key)
	if err == pebble.ErrNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

func scan(db pebble.Reader, prefix []byte, fn func(name string, v []byte) error) error {
	upper := slices.Clone(prefix)
	upper[len(upper)-1]++
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		if err := fn(string(it.Key()[len(prefix):]), v); err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}

// publishLocked makes the hot-path mirrors and the permission cache agree
// with mu after a change.
func (s *Store) publishLocked() {
	s.enabled.Store(s.mu.enabled)
	s.revision.Store(s.mu.revision)
	s.perms.Store(newPermCache())
}

// IsEnabled reports whether authentication is enabled.
func (s *Store) IsEnabled() bool { return s.enabled.Load() }

// Revision is the auth revision: it starts at 1 and every change of users,
// roles or permissions, and every disabling, adds one.
func (s *Store) Revision() uint64 { return s.revision.Load() }

// UserGet returns the user with its roles and options, without its
// password hash.
func (s *Store) UserGet(name string) (*authpb.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.mu.users[name]
	if u == nil {
		return nil, ErrUserNotFound
	}
	c := proto.CloneOf(u)
	c.Password = nil
	return c, nil
}

// HasRole reports whether user exists and holds role.
func (s *Store) HasRole(user, role string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.mu.users[user]
	return u != nil && slices.Contains(u.Roles, role)
}

// UserList returns the user names in byte order.
func (s *Store) UserList() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return sortedKeys(s.mu.users)
}

// RoleGet returns the role. Role root is shown with the one permission it
// stands for, read-write on every key, whatever permissions were granted to
// it (as etcd shows it).
func (s *Store) RoleGet(name string) (*authpb.Role, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.mu.roles[name]
	if r == nil {
		return nil, ErrRoleNotFound
	}
	if name == RootRole {
		return &authpb.Role{
			Name:          []byte(name),
			KeyPermission: []*authpb.Permission{{PermType: authpb.Permission_READWRITE, Key: []byte{}, RangeEnd: []byte{0}}},
		}, nil
	}
	return proto.CloneOf(r), nil
}

// RoleList returns the role names in byte order.
func (s *Store) RoleList() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return sortedKeys(s.mu.roles)
}

func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.SortFunc(names, strings.Compare)
	return names
}
