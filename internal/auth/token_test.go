package auth

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

func TestParseTokenConfig(t *testing.T) {
	tests := []struct {
		flag    string
		ttl     time.Duration
		want    TokenConfig
		wantErr error
	}{
		{flag: "", want: TokenConfig{Kind: TokenSimple, TTL: DefaultSimpleTokenTTL}},
		{flag: "simple", ttl: time.Minute, want: TokenConfig{Kind: TokenSimple, TTL: time.Minute}},
		{flag: "simple,whatever=1", want: TokenConfig{Kind: TokenSimple, TTL: DefaultSimpleTokenTTL}},
		{
			flag: "jwt,pub-key=/k.pub,priv-key=/k.key,sign-method=RS256",
			ttl:  time.Minute, // --auth-token-ttl does not apply to JWTs
			want: TokenConfig{Kind: TokenJWT, TTL: DefaultJWTTTL, SignMethod: "RS256", PublicKeyFile: "/k.pub", PrivateKeyFile: "/k.key"},
		},
		{
			flag: "jwt,priv-key=/k.key,sign-method=ES384,ttl=10m,extra=1",
			want: TokenConfig{Kind: TokenJWT, TTL: 10 * time.Minute, SignMethod: "ES384", PrivateKeyFile: "/k.key", Ignored: []string{"extra"}},
		},
		{flag: "jwt,pub-key=/k.pub,sign-method=EdDSA", want: TokenConfig{Kind: TokenJWT, TTL: DefaultJWTTTL, SignMethod: "EdDSA", PublicKeyFile: "/k.pub"}},
		{flag: "jwt", wantErr: ErrInvalidAuthMethod},
		{flag: "jwt,pub-key=/k.pub,sign-method=FOO", wantErr: ErrInvalidAuthMethod},
		{flag: "jwt,sign-method=RS256", wantErr: ErrMissingKey},
		{flag: "jwt,pub-key=/k.pub,sign-method=RS256,ttl=abc", wantErr: ErrInvalidAuthOpts},
		{flag: "jwt,pub-key=/k.pub,sign-method=RS256,ttl=-1s", wantErr: ErrInvalidAuthOpts},
		{flag: "jwt,pub-key", wantErr: ErrInvalidAuthOpts},
		{flag: "JWT,pub-key=/k.pub,sign-method=RS256", wantErr: ErrInvalidAuthOpts},
		{flag: "oauth", wantErr: ErrInvalidAuthOpts},
		{flag: "simple", ttl: -time.Second, wantErr: ErrInvalidAuthOpts},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			got, err := ParseTokenConfig(tt.flag, tt.ttl)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Kind != tt.want.Kind || got.TTL != tt.want.TTL || got.SignMethod != tt.want.SignMethod ||
				got.PublicKeyFile != tt.want.PublicKeyFile || got.PrivateKeyFile != tt.want.PrivateKeyFile ||
				len(got.Ignored) != len(tt.want.Ignored) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// simpleStore: auth enabled, simple tokens with a one-minute TTL on a fake
// clock; users root and alice.
func simpleStore(t *testing.T) (*Store, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	cfg := testConfig()
	cfg.Clock = clock.Now
	cfg.Token = TokenConfig{Kind: TokenSimple, TTL: time.Minute}
	s := newTestStore(t, openMemDB(t), cfg)
	addUser(t, s, "alice", "pw")
	enableWithRoot(t, s)
	return s, clock
}

// login issues and registers a simple token, as the server and applier do.
func login(t *testing.T, s *Store, user string) string {
	t.Helper()
	tok, err := s.AssignToken(t.Context(), user, s.Revision())
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s.db, func(*pebble.Batch) error { return s.SetSimpleToken(tok, user) })
	return tok
}

func TestSimpleTokenShape(t *testing.T) {
	s, _ := simpleStore(t)
	shape := regexp.MustCompile(`^[a-zA-Z]{16}\.[0-9]+$`)
	seen := map[string]bool{}
	for range 100 {
		tok, err := s.AssignToken(t.Context(), "alice", s.Revision())
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(tok) {
			t.Fatalf("token %q does not look like etcd's", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
	// Issued but not registered (not applied yet): not valid.
	tok, _ := s.AssignToken(t.Context(), "alice", s.Revision())
	if _, err := s.AuthInfoFromToken(t.Context(), tok); !errors.Is(err, ErrInvalidAuthToken) {
		t.Fatalf("unregistered token: %v", err)
	}
}

func TestSimpleTokenRandomness(t *testing.T) {
	// An injected source makes tokens reproducible; a failing one fails
	// the assignment instead of issuing a guessable token.
	cfg := testConfig()
	cfg.Rand = bytes.NewReader(bytes.Repeat([]byte{0, 255, 51}, 64))
	s := newTestStore(t, openMemDB(t), cfg)
	tok, err := s.AssignToken(t.Context(), "x", 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := "aZaZaZaZaZaZaZaZ.1"; tok != want {
		t.Fatalf("token %q, want %q", tok, want)
	}
	cfg.Rand = bytes.NewReader(nil)
	s = newTestStore(t, openMemDB(t), cfg)
	if _, err := s.AssignToken(t.Context(), "x", 1); err == nil {
		t.Fatal("token issued without randomness")
	}
}

func TestSimpleTokenInfo(t *testing.T) {
	s, _ := simpleStore(t)
	tok := login(t, s, "alice")
	info, err := s.AuthInfoFromToken(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if info.Username != "alice" || info.Revision != s.Revision() {
		t.Fatalf("info %+v", info)
	}
	// Simple tokens follow the store's revision: they never turn stale.
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.RoleAdd(b, "r") })
	info, err = s.AuthInfoFromToken(t.Context(), tok)
	if err != nil || info.Revision != s.Revision() {
		t.Fatalf("after an auth change: %+v, %v", info, err)
	}
	for _, bad := range []string{"", "nope.1", tok + "x", tok[:16]} {
		if _, err := s.AuthInfoFromToken(t.Context(), bad); !errors.Is(err, ErrInvalidAuthToken) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
}

func TestSimpleTokenExpiry(t *testing.T) {
	s, clock := simpleStore(t)
	tok := login(t, s, "alice")
	// Use within the TTL keeps the token alive, well past its first TTL.
	for range 5 {
		clock.Advance(50 * time.Second)
		if _, err := s.AuthInfoFromToken(t.Context(), tok); err != nil {
			t.Fatalf("token in use: %v", err)
		}
	}
	clock.Advance(time.Minute)
	if _, err := s.AuthInfoFromToken(t.Context(), tok); !errors.Is(err, ErrInvalidAuthToken) {
		t.Fatalf("token idle for a TTL: %v", err)
	}
}

func TestSimpleTokenSweep(t *testing.T) {
	s, clock := simpleStore(t)
	for range 10 {
		login(t, s, "alice")
	}
	clock.Advance(2 * time.Minute)
	keep := login(t, s, "alice") // registration sweeps the expired ones
	st := s.tokens.(*simpleTokens)
	st.mu.Lock()
	n := len(st.mu.tokens)
	st.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d tokens remembered, want 1", n)
	}
	if _, err := s.AuthInfoFromToken(t.Context(), keep); err != nil {
		t.Fatal(err)
	}
}

func TestSimpleTokenInvalidation(t *testing.T) {
	tests := []struct {
		name string
		op   func(s *Store, b *pebble.Batch) error
		// aliceDies, rootDies: whose tokens the change kills.
		aliceDies, rootDies bool
	}{
		{"user deleted", func(s *Store, b *pebble.Batch) error { return s.UserDelete(b, "alice") }, true, false},
		{"password changed", func(s *Store, b *pebble.Batch) error { return s.UserChangePassword(b, "alice", "h") }, true, false},
		{"auth disabled", (*Store).Disable, true, true},
		{"role granted", func(s *Store, b *pebble.Batch) error { return s.UserGrantRole(b, "alice", RootRole) }, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := simpleStore(t)
			alice, root := login(t, s, "alice"), login(t, s, RootUser)
			mustApply(t, s.db, func(b *pebble.Batch) error { return tt.op(s, b) })
			for tok, dies := range map[string]bool{alice: tt.aliceDies, root: tt.rootDies} {
				_, err := s.AuthInfoFromToken(t.Context(), tok)
				if dies != errors.Is(err, ErrInvalidAuthToken) {
					t.Errorf("token dies = %v, err = %v", dies, err)
				}
			}
		})
	}
}

func TestSetSimpleToken(t *testing.T) {
	s, _ := simpleStore(t)
	if err := s.SetSimpleToken("tok.1", "bob"); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("token for a user deleted meanwhile: %v", err)
	}
	mustApply(t, s.db, s.Disable)
	if err := s.SetSimpleToken("tok.2", "alice"); !errors.Is(err, ErrAuthNotEnabled) {
		t.Fatalf("token after disabling: %v", err)
	}
}

func TestReloadKeepsTokensOfSurvivingUsers(t *testing.T) {
	s, _ := simpleStore(t)
	alice, root := login(t, s, "alice"), login(t, s, RootUser)
	// Another member's state, in which alice was deleted, replaces ours.
	other := newTestStore(t, openMemDB(t), testConfig())
	enableWithRoot(t, other)
	replaceAuthState(t, s.db, other.db)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthInfoFromToken(t.Context(), alice); !errors.Is(err, ErrInvalidAuthToken) {
		t.Errorf("token of a user gone after reload: %v", err)
	}
	if _, err := s.AuthInfoFromToken(t.Context(), root); err != nil {
		t.Errorf("root's token after reload: %v", err)
	}
}
