package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"golang.org/x/crypto/bcrypt"
)

func TestCheckPassword(t *testing.T) {
	s := newTestStore(t, openMemDB(t), testConfig())
	addUser(t, s, "alice", "secret")
	mustApply(t, s.db, func(b *pebble.Batch) error {
		return s.UserAdd(b, &pb.AuthUserAddRequest{Name: "cert", Options: &authpb.UserAddOptions{NoPassword: true}})
	})
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.UserAdd(b, &pb.AuthUserAddRequest{Name: "nohash"}) })
	ctx := t.Context()
	if _, err := s.CheckPassword(ctx, "alice", "secret"); !errors.Is(err, ErrAuthNotEnabled) {
		t.Fatalf("with auth disabled: %v", err)
	}
	enableWithRoot(t, s)
	tests := []struct {
		name, user, password string
		want                 error
	}{
		{"right", "alice", "secret", nil},
		{"wrong", "alice", "Secret", ErrAuthFailed},
		{"empty", "alice", "", ErrAuthFailed},
		{"unknown user", "bob", "secret", ErrAuthFailed},
		{"no-password user", "cert", "", ErrNoPasswordUser},
		{"no hash stored", "nohash", "", ErrAuthFailed},
		{"root", RootUser, "rootpw", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rev, err := s.CheckPassword(ctx, tt.user, tt.password)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && rev != s.Revision() {
				t.Fatalf("revision %d, want %d", rev, s.Revision())
			}
		})
	}
	h, err := s.HashPassword("new")
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s.db, func(b *pebble.Batch) error { return s.UserChangePassword(b, "alice", h) })
	if _, err := s.CheckPassword(ctx, "alice", "secret"); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("old password after change: %v", err)
	}
	if _, err := s.CheckPassword(ctx, "alice", "new"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestHashPasswordCost(t *testing.T) {
	for _, cost := range []int{0, bcrypt.MinCost, 5} {
		s := newTestStore(t, openMemDB(t), Config{BcryptCost: cost})
		want := cost
		if cost == 0 {
			want = DefaultBcryptCost
		}
		if cost == 0 && testing.Short() {
			continue
		}
		h, err := s.HashPassword("pw")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := bcrypt.Cost([]byte(h)); got != want {
			t.Errorf("cost %d: hash has cost %d, want %d", cost, got, want)
		}
		// The dummy hash unknown users are compared against costs the same.
		if got, _ := bcrypt.Cost(s.dummy()); got != want {
			t.Errorf("cost %d: dummy hash has cost %d", cost, got)
		}
	}
	for _, cost := range []int{-1, 3, 32} {
		if _, err := New(openMemDB(t), Config{BcryptCost: cost}, nil); err == nil {
			t.Errorf("bcrypt cost %d accepted", cost)
		}
	}
}

// TestPasswordPoolBounded fills the worker pool and checks that logins wait
// for a free worker, giving up with their context.
func TestPasswordPoolBounded(t *testing.T) {
	cfg := testConfig()
	cfg.PasswordWorkers = 2
	s := newTestStore(t, openMemDB(t), cfg)
	enableWithRoot(t, s)
	for range 2 {
		if err := s.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.CheckPassword(ctx, RootUser, "rootpw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("login with a full pool: %v, want the context's error", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.CheckPassword(t.Context(), RootUser, "rootpw")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("login finished with a full pool: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	s.release()
	if err := <-done; err != nil {
		t.Fatalf("login after a worker freed up: %v", err)
	}
	s.release()
}

// TestPasswordConcurrency runs many logins, good and bad, at once through a
// small pool (run with -race).
func TestPasswordConcurrency(t *testing.T) {
	cfg := testConfig()
	cfg.PasswordWorkers = 3
	s := newTestStore(t, openMemDB(t), cfg)
	for i := range 4 {
		addUser(t, s, fmt.Sprintf("u%d", i), fmt.Sprintf("pw%d", i))
	}
	enableWithRoot(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			user, pw := fmt.Sprintf("u%d", i%5), fmt.Sprintf("pw%d", i%5)
			if i%3 == 0 {
				pw = "wrong"
			}
			_, err := s.CheckPassword(t.Context(), user, pw)
			var want error
			if i%3 == 0 || i%5 == 4 {
				want = ErrAuthFailed
			}
			if !errors.Is(err, want) {
				errs <- fmt.Errorf("%s/%s: %v, want %v", user, pw, err, want)
			}
			if got := len(s.passwords); got > cap(s.passwords) {
				errs <- fmt.Errorf("%d workers busy", got)
			}
		})
	}
	// Meanwhile the applier keeps changing things.
	for i := range 20 {
		mustApply(t, s.db, func(b *pebble.Batch) error { return s.RoleAdd(b, fmt.Sprintf("r%d", i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
