package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TokenKind is the kind of token --auth-token selects.
type TokenKind int

const (
	// TokenSimple tokens are random strings the members remember: they
	// are replicated through raft when issued, expire after a TTL of
	// disuse, and die with their user, its password, or a disabling.
	TokenSimple TokenKind = iota
	// TokenJWT tokens are signed JSON Web Tokens carrying the user name,
	// the auth revision and an expiry; any member with the public key can
	// check them, and nothing is replicated.
	TokenJWT
)

func (k TokenKind) String() string {
	if k == TokenJWT {
		return "jwt"
	}
	return "simple"
}

// TokenConfig is a parsed --auth-token.
type TokenConfig struct {
	Kind TokenKind
	// TTL is how long a token lives: for simple tokens since last use
	// (--auth-token-ttl), for JWTs since issue (the ttl option).
	TTL time.Duration
	// SignMethod is the JWT algorithm: RS256/384/512, PS256/384/512,
	// ES256/384/512, EdDSA or HS256/384/512.
	SignMethod string
	// PublicKeyFile and PrivateKeyFile are PEM files (pub-key, priv-key).
	// With only a public key the member checks tokens but cannot issue
	// them; with only a private key the public key is derived from it. For
	// HS* the private key file's bytes are the shared secret.
	PublicKeyFile, PrivateKeyFile string
	// Ignored lists unknown JWT options, which etcd ignores with a
	// warning (New logs it).
	Ignored []string
}

// ParseTokenConfig parses --auth-token ("simple", the default, or
// "jwt,pub-key=<path>,priv-key=<path>,sign-method=<alg>[,ttl=<duration>]")
// with --auth-token-ttl (simple tokens' TTL; 0 means the default). Options
// after "simple" are ignored, as etcd ignores them. Key files are read by
// New.
func ParseTokenConfig(flag string, ttl time.Duration) (TokenConfig, error) {
	if ttl < 0 {
		return TokenConfig{}, fmt.Errorf("%w: negative token TTL %v", ErrInvalidAuthOpts, ttl)
	}
	kind, opts, _ := strings.Cut(flag, ",")
	switch kind {
	case "", "simple":
		if ttl == 0 {
			ttl = DefaultSimpleTokenTTL
		}
		return TokenConfig{Kind: TokenSimple, TTL: ttl}, nil
	case "jwt":
	default:
		return TokenConfig{}, fmt.Errorf("%w: unknown token type %q (want simple or jwt)", ErrInvalidAuthOpts, kind)
	}
	c := TokenConfig{Kind: TokenJWT, TTL: DefaultJWTTTL}
	if opts != "" {
		for _, opt := range strings.Split(opts, ",") {
			k, v, ok := strings.Cut(opt, "=")
			if !ok {
				return TokenConfig{}, fmt.Errorf("%w: JWT option %q is not key=value", ErrInvalidAuthOpts, opt)
			}
			switch k {
			case "pub-key":
				c.PublicKeyFile = v
			case "priv-key":
				c.PrivateKeyFile = v
			case "sign-method":
				c.SignMethod = v
			case "ttl":
				d, err := time.ParseDuration(v)
				if err != nil {
					return TokenConfig{}, fmt.Errorf("%w: JWT ttl: %v", ErrInvalidAuthOpts, err)
				}
				if d <= 0 {
					return TokenConfig{}, fmt.Errorf("%w: JWT ttl %v is not positive", ErrInvalidAuthOpts, d)
				}
				c.TTL = d
			default:
				c.Ignored = append(c.Ignored, k)
			}
		}
	}
	if _, ok := jwtMethods[c.SignMethod]; !ok {
		return TokenConfig{}, fmt.Errorf("%w %q (want one of %s)", ErrInvalidAuthMethod, c.SignMethod, strings.Join(jwtMethodNames(), ", "))
	}
	if c.PublicKeyFile == "" && c.PrivateKeyFile == "" {
		return TokenConfig{}, fmt.Errorf("%w: JWT needs pub-key and/or priv-key", ErrMissingKey)
	}
	return c, nil
}

// tokenProvider issues and resolves tokens of one kind.
type tokenProvider interface {
	// assign issues a token for user at revision.
	assign(username string, revision uint64) (string, error)
	// info resolves a token to its user and revision; current is the
	// store's revision.
	info(token string, current uint64) (*AuthInfo, error)
	// register makes a simple token known (no-op for JWTs).
	register(token, username string)
	invalidateUser(username string)
	invalidateAll()
	retainUsers(keep func(username string) bool)
}

func newTokenProvider(c TokenConfig, now func() time.Time, rnd io.Reader) (tokenProvider, error) {
	if c.Kind == TokenJWT {
		return newJWTTokens(c, now)
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultSimpleTokenTTL
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	st := &simpleTokens{ttl: ttl, now: now, rand: rnd}
	st.mu.tokens = map[string]simpleToken{}
	st.mu.swept = now()
	return st, nil
}

// AssignToken issues a token for username, whose password was checked at
// revision. A JWT is complete. A simple token is only a fresh random string
// ("<16 letters>.<n>"): the caller replicates it through raft and every
// member's applier registers it with SetSimpleToken.
func (s *Store) AssignToken(ctx context.Context, username string, revision uint64) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return s.tokens.assign(username, revision)
}

// AuthInfoFromToken resolves a token to who it belongs to. Unknown,
// expired and badly signed tokens are ErrInvalidAuthToken. A simple token
// resolves to the current auth revision (and its TTL starts again); a JWT
// to the revision it was issued at, so it turns stale at the next auth
// change. The caller ignores tokens while authentication is disabled.
func (s *Store) AuthInfoFromToken(ctx context.Context, token string) (*AuthInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.tokens.info(token, s.Revision())
}

// SetSimpleToken registers a simple token for username on this member: the
// apply of an authentication, in log order on every member. It fails, the
// same way everywhere, if authentication was disabled or the user deleted
// since the password was checked. The token's TTL runs on this member's
// clock. With JWT tokens there is nothing to register.
func (s *Store) SetSimpleToken(token, username string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.mu.enabled {
		return ErrAuthNotEnabled
	}
	if s.mu.users[username] == nil {
		return ErrAuthFailed
	}
	s.tokens.register(token, username)
	return nil
}

// simpleTokens are the registered simple tokens with their expiry. Expired
// tokens are dropped when looked up and by a sweep at most every TTL, so no
// goroutine is needed.
type simpleTokens struct {
	ttl  time.Duration
	now  func() time.Time
	rand io.Reader
	seq  atomic.Uint64

	mu struct {
		sync.Mutex
		tokens map[string]simpleToken
		swept  time.Time
	}
}

type simpleToken struct {
	username string
	expiry   time.Time
}

const tokenLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

func (t *simpleTokens) assign(string, uint64) (string, error) {
	var b strings.Builder
	b.Grow(24)
	var buf [32]byte
	for b.Len() < 16 {
		if _, err := io.ReadFull(t.rand, buf[:]); err != nil {
			return "", fmt.Errorf("auth: reading randomness: %w", err)
		}
		for _, c := range buf {
			// Rejection sampling keeps the letters uniform: 208 = 4*52.
			if c < 208 && b.Len() < 16 {
				b.WriteByte(tokenLetters[c%52])
			}
		}
	}
	b.WriteByte('.')
	b.WriteString(strconv.FormatUint(t.seq.Add(1), 10))
	return b.String(), nil
}

func (t *simpleTokens) info(token string, current uint64) (*AuthInfo, error) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.mu.tokens[token]
	if !ok {
		return nil, ErrInvalidAuthToken
	}
	if !now.Before(st.expiry) {
		delete(t.mu.tokens, token)
		return nil, ErrInvalidAuthToken
	}
	st.expiry = now.Add(t.ttl)
	t.mu.tokens[token] = st
	return &AuthInfo{Username: st.username, Revision: current}, nil
}

func (t *simpleTokens) register(token, username string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.mu.swept) >= t.ttl {
		for k, st := range t.mu.tokens {
			if !now.Before(st.expiry) {
				delete(t.mu.tokens, k)
			}
		}
		t.mu.swept = now
	}
	t.mu.tokens[token] = simpleToken{username: username, expiry: now.Add(t.ttl)}
}

func (t *simpleTokens) invalidateUser(username string) {
	t.retainUsers(func(u string) bool { return u != username })
}

func (t *simpleTokens) invalidateAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.mu.tokens)
}

func (t *simpleTokens) retainUsers(keep func(string) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, st := range t.mu.tokens {
		if !keep(st.username) {
			delete(t.mu.tokens, k)
		}
	}
}
