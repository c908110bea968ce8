package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtMethods are the accepted sign-method values and their key family.
var jwtMethods = map[string]keyFamily{
	"RS256": familyRSA, "RS384": familyRSA, "RS512": familyRSA,
	"PS256": familyRSA, "PS384": familyRSA, "PS512": familyRSA,
	"ES256": familyEC, "ES384": familyEC, "ES512": familyEC,
	"EdDSA": familyEd,
	"HS256": familyHMAC, "HS384": familyHMAC, "HS512": familyHMAC,
}

type keyFamily int

const (
	familyRSA keyFamily = iota
	familyEC
	familyEd
	familyHMAC
)

func jwtMethodNames() []string { return slices.Sorted(maps.Keys(jwtMethods)) }

// jwtTokens issues and checks JWTs with claims username, revision and exp
// (seconds since the epoch), the claims etcd's tokens carry.
type jwtTokens struct {
	method  jwt.SigningMethod
	sign    any // nil: verify-only
	verify  any
	ttl     time.Duration
	now     func() time.Time
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc
}

func newJWTTokens(c TokenConfig, now func() time.Time) (*jwtTokens, error) {
	family, ok := jwtMethods[c.SignMethod]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrInvalidAuthMethod, c.SignMethod)
	}
	if c.PublicKeyFile == "" && c.PrivateKeyFile == "" {
		return nil, ErrMissingKey
	}
	t := &jwtTokens{method: jwt.GetSigningMethod(c.SignMethod), ttl: c.TTL, now: now}
	if t.ttl <= 0 {
		t.ttl = DefaultJWTTTL
	}
	var err error
	t.sign, t.verify, err = loadJWTKeys(family, t.method, c.PrivateKeyFile, c.PublicKeyFile)
	if err != nil {
		return nil, err
	}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{t.method.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(now),
		jwt.WithJSONNumber(),
	)
	t.keyFunc = func(*jwt.Token) (any, error) { return t.verify, nil }
	return t, nil
}

// loadJWTKeys reads the key files of one family and checks that they fit
// the method and each other, so a bad key stops the member at startup
// rather than failing every login.
func loadJWTKeys(family keyFamily, method jwt.SigningMethod, privFile, pubFile string) (sign, verify any, err error) {
	read := func(option, file string) ([]byte, error) {
		if file == "" {
			return nil, nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidAuthOpts, option, err)
		}
		return b, nil
	}
	privPEM, err := read("priv-key", privFile)
	if err != nil {
		return nil, nil, err
	}
	pubPEM, err := read("pub-key", pubFile)
	if err != nil {
		return nil, nil, err
	}
	bad := func(which string, err error) error {
		return fmt.Errorf("%w: %s key for %s: %v", ErrInvalidAuthOpts, which, method.Alg(), err)
	}

	if family == familyHMAC {
		if privPEM == nil {
			return nil, nil, fmt.Errorf("%w: %s needs priv-key (the shared secret)", ErrMissingKey, method.Alg())
		}
		if len(privPEM) == 0 {
			return nil, nil, bad("private", errors.New("empty secret"))
		}
		return privPEM, privPEM, nil
	}

	var priv crypto.Signer
	var pub crypto.PublicKey
	switch family {
	case familyRSA:
		if privPEM != nil {
			if priv, err = jwt.ParseRSAPrivateKeyFromPEM(privPEM); err != nil {
				return nil, nil, bad("private", err)
			}
		}
		if pubPEM != nil {
			if pub, err = jwt.ParseRSAPublicKeyFromPEM(pubPEM); err != nil {
				return nil, nil, bad("public", err)
			}
		}
	case familyEC:
		if privPEM != nil {
			if priv, err = jwt.ParseECPrivateKeyFromPEM(privPEM); err != nil {
				return nil, nil, bad("private", err)
			}
		}
		if pubPEM != nil {
			if pub, err = jwt.ParseECPublicKeyFromPEM(pubPEM); err != nil {
				return nil, nil, bad("public", err)
			}
		}
	case familyEd:
		if privPEM != nil {
			k, err := jwt.ParseEdPrivateKeyFromPEM(privPEM)
			if err != nil {
				return nil, nil, bad("private", err)
			}
			priv = k.(crypto.Signer)
		}
		if pubPEM != nil {
			if pub, err = jwt.ParseEdPublicKeyFromPEM(pubPEM); err != nil {
				return nil, nil, bad("public", err)
			}
		}
	}
	if priv != nil {
		derived := priv.Public()
		if pub != nil && !publicKeysEqual(pub, derived) {
			return nil, nil, fmt.Errorf("%w: pub-key does not belong to priv-key", ErrInvalidAuthOpts)
		}
		pub = derived
	}
	if m, ok := method.(*jwt.SigningMethodECDSA); ok {
		if bits := pub.(*ecdsa.PublicKey).Curve.Params().BitSize; bits != m.CurveBits {
			return nil, nil, bad("public", fmt.Errorf("curve of %d bits, want %d", bits, m.CurveBits))
		}
	}
	if priv == nil {
		return nil, pub, nil
	}
	return priv, pub, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch k := a.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return k.(equaler).Equal(b)
	}
	return false
}

func (t *jwtTokens) assign(username string, revision uint64) (string, error) {
	if t.sign == nil {
		return "", ErrVerifyOnly
	}
	tok := jwt.NewWithClaims(t.method, jwt.MapClaims{
		"username": username,
		"revision": revision,
		"exp":      t.now().Add(t.ttl).Unix(),
	})
	return tok.SignedString(t.sign)
}

func (t *jwtTokens) info(token string, _ uint64) (*AuthInfo, error) {
	parsed, err := t.parser.Parse(token, t.keyFunc)
	if err != nil || !parsed.Valid {
		return nil, ErrInvalidAuthToken
	}
	claims, ok := parsed.Claims.(jwt.MapClaims)
	if !ok {
		return nil, ErrInvalidAuthToken
	}
	username, ok := claims["username"].(string)
	if !ok || username == "" {
		return nil, ErrInvalidAuthToken
	}
	num, ok := claims["revision"].(json.Number)
	if !ok {
		return nil, ErrInvalidAuthToken
	}
	revision, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil {
		return nil, ErrInvalidAuthToken
	}
	return &AuthInfo{Username: username, Revision: revision}, nil
}

// JWTs live in their holders' hands: there is nothing to register or drop.
func (t *jwtTokens) register(string, string)       {}
func (t *jwtTokens) invalidateUser(string)         {}
func (t *jwtTokens) invalidateAll()                {}
func (t *jwtTokens) retainUsers(func(string) bool) {}
