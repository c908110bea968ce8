package auth

import (
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/golang-jwt/jwt/v5"
)

type keyPair struct{ priv, pub string }

func edKeyFiles(t *testing.T, dir, name string) keyPair {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{writePEM(t, dir, name+".key", "PRIVATE KEY", der), writePEM(t, dir, name+".pub", "PUBLIC KEY", pubDER)}
}

// jwtStore makes a store with JWTs of method signed with keys, either file
// left out if empty, on clock.
func jwtStore(t *testing.T, method string, keys keyPair, clock *fakeClock) (*Store, error) {
	t.Helper()
	flag := "jwt,sign-method=" + method + ",ttl=1m"
	if keys.pub != "" {
		flag += ",pub-key=" + keys.pub
	}
	if keys.priv != "" {
		flag += ",priv-key=" + keys.priv
	}
	tc, err := ParseTokenConfig(flag, 0)
	if err != nil {
		return nil, err
	}
	cfg := testConfig()
	cfg.Token = tc
	cfg.Clock = clock.Now
	return New(openMemDB(t), cfg, nil)
}

func mustJWTStore(t *testing.T, method string, keys keyPair, clock *fakeClock) *Store {
	t.Helper()
	s, err := jwtStore(t, method, keys, clock)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWTMethods(t *testing.T) {
	dir := t.TempDir()
	rsaPriv, rsaPub := rsaKeyFiles(t, dir, "rsa")
	rsaKeys := keyPair{rsaPriv, rsaPub}
	ec256, ec256pub := ecKeyFiles(t, dir, "p256", elliptic.P256())
	ec384, ec384pub := ecKeyFiles(t, dir, "p384", elliptic.P384())
	ec521, ec521pub := ecKeyFiles(t, dir, "p521", elliptic.P521())
	secret := filepath.Join(dir, "hmac.secret")
	if err := os.WriteFile(secret, []byte("a shared secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method string
		keys   keyPair
	}{
		{"RS256", rsaKeys},
		{"RS512", rsaKeys},
		{"PS256", rsaKeys},
		{"PS384", rsaKeys},
		{"ES256", keyPair{ec256, ec256pub}},
		{"ES384", keyPair{ec384, ec384pub}},
		{"ES512", keyPair{ec521, ec521pub}},
		{"EdDSA", edKeyFiles(t, dir, "ed")},
		{"HS256", keyPair{priv: secret}},
		{"HS512", keyPair{priv: secret}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			clock := newFakeClock()
			s := mustJWTStore(t, tt.method, tt.keys, clock)
			tok, err := s.AssignToken(t.Context(), "alice", 42)
			if err != nil {
				t.Fatal(err)
			}
			header, claims := decodeJWT(t, tok)
			if header["alg"] != tt.method || header["typ"] != "JWT" {
				t.Errorf("header %v", header)
			}
			names := slices.Sorted(func(yield func(string) bool) {
				for k := range claims {
					if !yield(k) {
						return
					}
				}
			})
			if !slices.Equal(names, []string{"exp", "revision", "username"}) {
				t.Errorf("claims %v, want exactly exp, revision, username", claims)
			}
			if exp := claims["exp"].(float64); int64(exp) != clock.Now().Add(time.Minute).Unix() {
				t.Errorf("exp %v, want issue time + ttl", exp)
			}
			info, err := s.AuthInfoFromToken(t.Context(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if info.Username != "alice" || info.Revision != 42 {
				t.Fatalf("info %+v", info)
			}
			// Only the private key given: the public one is derived.
			if tt.keys.pub != "" {
				privOnly := mustJWTStore(t, tt.method, keyPair{priv: tt.keys.priv}, clock)
				if _, err := privOnly.AuthInfoFromToken(t.Context(), tok); err != nil {
					t.Fatalf("private-key-only member: %v", err)
				}
			}
		})
	}
}

func decodeJWT(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

func TestJWTVerifyOnly(t *testing.T) {
	clock := newFakeClock()
	priv, pub := rsaKeyFiles(t, t.TempDir(), "rsa")
	signer := mustJWTStore(t, "RS256", keyPair{priv, pub}, clock)
	checker := mustJWTStore(t, "RS256", keyPair{pub: pub}, clock)
	tok, err := signer.AssignToken(t.Context(), "alice", 3)
	if err != nil {
		t.Fatal(err)
	}
	info, err := checker.AuthInfoFromToken(t.Context(), tok)
	if err != nil || info.Username != "alice" || info.Revision != 3 {
		t.Fatalf("verify-only member: %+v, %v", info, err)
	}
	if _, err := checker.AssignToken(t.Context(), "alice", 3); !errors.Is(err, ErrVerifyOnly) {
		t.Fatalf("signing on a verify-only member: %v", err)
	}
}

func TestJWTRejects(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	priv, pub := rsaKeyFiles(t, dir, "rsa")
	otherPriv, _ := rsaKeyFiles(t, dir, "other")
	s := mustJWTStore(t, "RS256", keyPair{priv, pub}, clock)
	other := mustJWTStore(t, "RS256", keyPair{priv: otherPriv}, clock)
	good, err := s.AssignToken(t.Context(), "alice", 3)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := other.AssignToken(t.Context(), "alice", 3)
	parts := strings.Split(good, ".")
	forgedClaims := base64.RawURLEncoding.EncodeToString([]byte(`{"exp":9999999999,"revision":3,"username":"root"}`))
	pubPEM, _ := os.ReadFile(pub)
	now := clock.Now()
	sign := func(m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := jwt.MapClaims{"username": "root", "revision": 3, "exp": now.Add(time.Hour).Unix()}
	tests := map[string]string{
		"empty":           "",
		"garbage":         "not.a.jwt",
		"simple token":    "abcdefghijklmnop.1",
		"other key":       foreign,
		"forged claims":   parts[0] + "." + forgedClaims + "." + parts[2],
		"bad signature":   parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"alg none":        sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims),
		"hmac with pub":   sign(jwt.SigningMethodHS256, pubPEM, claims), // algorithm confusion
		"no exp":          sign(jwt.SigningMethodRS256, mustRSA(t, priv), jwt.MapClaims{"username": "root", "revision": 3}),
		"no username":     sign(jwt.SigningMethodRS256, mustRSA(t, priv), jwt.MapClaims{"revision": 3, "exp": now.Add(time.Hour).Unix()}),
		"no revision":     sign(jwt.SigningMethodRS256, mustRSA(t, priv), jwt.MapClaims{"username": "root", "exp": now.Add(time.Hour).Unix()}),
		"text revision":   sign(jwt.SigningMethodRS256, mustRSA(t, priv), jwt.MapClaims{"username": "root", "revision": "3", "exp": now.Add(time.Hour).Unix()}),
		"negative rev":    sign(jwt.SigningMethodRS256, mustRSA(t, priv), jwt.MapClaims{"username": "root", "revision": -1, "exp": now.Add(time.Hour).Unix()}),
		"other algorithm": sign(jwt.SigningMethodPS256, mustRSA(t, priv), claims),
	}
	for name, tok := range tests {
		if _, err := s.AuthInfoFromToken(t.Context(), tok); !errors.Is(err, ErrInvalidAuthToken) {
			t.Errorf("%s: %v, want ErrInvalidAuthToken", name, err)
		}
	}
	if _, err := s.AuthInfoFromToken(t.Context(), good); err != nil {
		t.Fatalf("good token: %v", err)
	}
	clock.Advance(59 * time.Second)
	if _, err := s.AuthInfoFromToken(t.Context(), good); err != nil {
		t.Fatalf("token before its expiry: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := s.AuthInfoFromToken(t.Context(), good); !errors.Is(err, ErrInvalidAuthToken) {
		t.Fatalf("expired token: %v", err)
	}
}

func mustRSA(t *testing.T, file string) any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwt.ParseRSAPrivateKeyFromPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestJWTConfigErrors(t *testing.T) {
	dir := t.TempDir()
	rsaPriv, rsaPub := rsaKeyFiles(t, dir, "rsa")
	_, otherPub := rsaKeyFiles(t, dir, "other")
	ec384, ec384pub := ecKeyFiles(t, dir, "p384", elliptic.P384())
	tests := []struct {
		name   string
		method string
		keys   keyPair
		want   error
	}{
		{"missing file", "RS256", keyPair{priv: filepath.Join(dir, "nope")}, ErrInvalidAuthOpts},
		{"EC key for RSA", "RS256", keyPair{priv: ec384}, ErrInvalidAuthOpts},
		{"RSA key for EC", "ES256", keyPair{pub: rsaPub}, ErrInvalidAuthOpts},
		{"wrong curve", "ES256", keyPair{ec384, ec384pub}, ErrInvalidAuthOpts},
		{"keys of two pairs", "RS256", keyPair{rsaPriv, otherPub}, ErrInvalidAuthOpts},
		{"HMAC without secret", "HS256", keyPair{pub: rsaPub}, ErrMissingKey},
		{"not PEM", "RS256", keyPair{pub: writeFile(t, dir, "junk", "junk")}, ErrInvalidAuthOpts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jwtStore(t, tt.method, tt.keys, newFakeClock())
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestJWTStaleAfterAuthChange: a JWT keeps the revision it was issued at, so
// the next auth change makes it stale for key requests (the client logs in
// again), unlike simple tokens.
func TestJWTStaleAfterAuthChange(t *testing.T) {
	priv, pub := rsaKeyFiles(t, t.TempDir(), "rsa")
	s := mustJWTStore(t, "RS256", keyPair{priv, pub}, newFakeClock())
	enableWithRoot(t, s)
	tok, err := s.AssignToken(t.Context(), RootUser, s.Revision())
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.AuthInfoFromToken(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.IsPutPermitted(info, []byte("k")); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.RoleAdd(b, "r") })
	info, err = s.AuthInfoFromToken(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.IsPutPermitted(info, []byte("k")); !errors.Is(err, ErrAuthOldRevision) {
		t.Fatalf("put with a stale JWT: %v", err)
	}
	if err := s.IsAdminPermitted(info); err != nil {
		t.Fatalf("admin with a stale JWT: %v", err)
	}
	// Disabling keeps JWTs valid as tokens (they cannot be recalled); the
	// server ignores tokens while auth is off.
	mustApply(t, s.db, s.Disable)
	if _, err := s.AuthInfoFromToken(t.Context(), tok); err != nil {
		t.Fatalf("JWT after disabling: %v", err)
	}
}
