package mvcc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-kv/cairn/internal/storage"
)

// TestCompactionPacing: a background compaction covers at most the batch
// limit's revisions per engine batch and pauses for the sleep interval
// between two batches (not after the last); 0 keeps the defaults.
func TestCompactionPacing(t *testing.T) {
	for _, tc := range []struct {
		name       string
		limit      int
		pause      time.Duration
		wantPauses []time.Duration
	}{
		{name: "defaults", wantPauses: nil}, // 10 revisions fit one batch of 1000
		{name: "limit 3", limit: 3, pause: 7 * time.Millisecond, wantPauses: []time.Duration{7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond}},
		{name: "limit 4, default pause", limit: 4, wantPauses: []time.Duration{defaultCompactionPause, defaultCompactionPause}},
		{name: "limit 10", limit: 10, pause: time.Second, wantPauses: nil},
		{name: "limit 1", limit: 1, pause: time.Millisecond, wantPauses: slices.Repeat([]time.Duration{time.Millisecond}, 9)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lg := slog.New(slog.NewTextHandler(io.Discard, nil))
			eng, err := storage.Open(t.TempDir(), storage.Options{}, lg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(eng, lg)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var pauses []time.Duration
			s.compactor.sleep = func(_ context.Context, d time.Duration) error {
				mu.Lock()
				defer mu.Unlock()
				pauses = append(pauses, d)
				return nil
			}
			s.SetCompactionPacing(tc.limit, tc.pause)
			s.Start(t.Context())
			t.Cleanup(func() {
				s.Close()
				eng.Close()
			})
			for round := range 2 {
				for k := range 5 {
					put(t, s, fmt.Sprintf("k%d", k), fmt.Sprint(round)) // revs 2..11
				}
			}
			if _, err := apply(t, s, func(wt *WriteTxn) (int, error) { return 0, wt.wb.Compact(11) }); err != nil {
				t.Fatal(err)
			}
			if err := s.WaitCompacted(t.Context(), 11); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			got := pauses
			mu.Unlock()
			if !slices.Equal(got, tc.wantPauses) {
				t.Errorf("pauses: got %v, want %v", got, tc.wantPauses)
			}
			if n := countVersions(t, s); n != 5 {
				t.Errorf("%d versions left after compaction, want 5 (each key's newest)", n)
			}
		})
	}
}

// TestCompactionPauseStopsWithStore: Close does not wait out a long pause.
func TestCompactionPauseStopsWithStore(t *testing.T) {
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := storage.Open(t.TempDir(), storage.Options{}, lg)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s, err := New(eng, lg)
	if err != nil {
		t.Fatal(err)
	}
	s.SetCompactionPacing(1, time.Hour)
	s.Start(context.Background())
	put(t, s, "a", "1")
	put(t, s, "b", "1")
	if _, err := apply(t, s, func(wt *WriteTxn) (int, error) { return 0, wt.wb.Compact(3) }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the compaction pause")
	}
}

func countVersions(t *testing.T, s *Store) int {
	t.Helper()
	it, err := s.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.SeekGE([]byte{storage.PrefixKV}); it.Valid() && it.Key()[0] == storage.PrefixKV; it.Next() {
		n++
	}
	return n
}
