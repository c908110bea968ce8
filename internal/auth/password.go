package auth

import (
	"context"

	"golang.org/x/crypto/bcrypt"
)

// CheckPassword checks name's password and returns the auth revision it
// was checked at; the caller then issues a token (AssignToken) and, if the
// revision moved on before the token was applied, checks again, as etcd
// does.
//
// bcrypt runs on a bounded pool of workers (Config.PasswordWorkers): a flood
// of logins queues here, waiting at most until ctx is done, instead of
// taking every core. An unknown user costs the same as a wrong password
// (the password is compared with a dummy hash) and fails the same way,
// with ErrAuthFailed; a no-password user fails with ErrNoPasswordUser, as
// in etcd. bcrypt's comparison is constant-time.
func (s *Store) CheckPassword(ctx context.Context, name, password string) (uint64, error) {
	if !s.enabled.Load() {
		return 0, ErrAuthNotEnabled
	}
	s.mu.RLock()
	u := s.mu.users[name]
	var hash []byte
	var exists, noPass bool
	if u != nil {
		exists, noPass, hash = true, noPassword(u), u.Password
	}
	rev := s.mu.revision
	s.mu.RUnlock()

	if err := s.acquire(ctx); err != nil {
		return 0, err
	}
	defer s.release()
	if !exists || noPass {
		// Spend the time a real comparison takes, so that timing does not
		// tell which names exist.
		_ = bcrypt.CompareHashAndPassword(s.dummy(), []byte(password))
		if noPass {
			return 0, ErrNoPasswordUser
		}
		return 0, ErrAuthFailed
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return 0, ErrAuthFailed
	}
	return rev, nil
}

// HashPassword returns the bcrypt hash of password at the configured cost,
// for the proposer of UserAdd and UserChangePassword to put in the request
// (apply never hashes: bcrypt salts are random). It shares the worker pool
// with CheckPassword.
func (s *Store) HashPassword(password string) (string, error) {
	if err := s.acquire(context.Background()); err != nil {
		return "", err
	}
	defer s.release()
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

func (s *Store) acquire(ctx context.Context) error {
	select {
	case s.passwords <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) release() { <-s.passwords }

// dummy is a hash of nothing in particular at the configured cost, made
// on first use.
func (s *Store) dummy() []byte {
	s.dummyOnce.Do(func() {
		h, err := bcrypt.GenerateFromPassword([]byte("cairn: no such user"), s.cost)
		if err != nil {
			panic("auth: bcrypt of a constant failed: " + err.Error())
		}
		s.dummyHash = h
	})
	return s.dummyHash
}
