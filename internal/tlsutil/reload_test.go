package tlsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testWatch watches one file whose content is parsed as itself, failing on
// content starting with "bad" (the error is the content). It counts parses, reloads and errors.
type testWatch struct {
	*watched[string]
	path                    string
	parses, reloads, errors int
	clock                   time.Time
}

func newTestWatch(t *testing.T, content string) *testWatch {
	t.Helper()
	tw := &testWatch{path: filepath.Join(t.TempDir(), "f"), clock: time.Now()}
	tw.write(t, content)
	tw.watched = newWatched([]string{tw.path}, []string{"--f"}, func(data [][]byte) (string, error) {
		tw.parses++
		s := string(data[0])
		if strings.HasPrefix(s, "bad") {
			return "", errors.New(s)
		}
		return s, nil
	})
	tw.now = func() time.Time { return tw.clock }
	tw.onReload = func() { tw.reloads++ }
	tw.onError = func(error) { tw.errors++ }
	return tw
}

func (tw *testWatch) write(t *testing.T, content string) {
	t.Helper()
	if err := os.WriteFile(tw.path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// setMtime gives the file a fixed modification time, to stage a rewrite
// that a stat cannot see.
func (tw *testWatch) setMtime(t *testing.T, mt time.Time) {
	t.Helper()
	if err := os.Chtimes(tw.path, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func (tw *testWatch) want(t *testing.T, want string, parses, reloads, errs int) {
	t.Helper()
	got, err := tw.get()
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got != want || tw.parses != parses || tw.reloads != reloads || tw.errors != errs {
		t.Errorf("get = %q after %d parses, %d reloads, %d errors; want %q, %d, %d, %d",
			got, tw.parses, tw.reloads, tw.errors, want, parses, reloads, errs)
	}
}

func TestWatchedReloadsOnChange(t *testing.T) {
	tw := newTestWatch(t, "one")
	tw.want(t, "one", 1, 0, 0)
	tw.want(t, "one", 1, 0, 0) // unchanged: not parsed again

	tw.write(t, "two")
	tw.want(t, "two", 2, 1, 0)

	// The same bytes written again are not parsed again.
	tw.write(t, "two")
	tw.want(t, "two", 2, 1, 0)

	// Bad content keeps the last good value, reported once and not
	// parsed on every get.
	tw.write(t, "bad one")
	tw.want(t, "two", 3, 1, 1)
	tw.want(t, "two", 3, 1, 1)
	tw.write(t, "bad two")
	tw.want(t, "two", 4, 1, 2) // a different error is reported again

	// A missing file likewise, once.
	if err := os.Remove(tw.path); err != nil {
		t.Fatal(err)
	}
	tw.want(t, "two", 4, 1, 3)
	tw.want(t, "two", 4, 1, 3)

	tw.write(t, "three")
	tw.want(t, "three", 5, 2, 3)
}

// TestWatchedRacyRewrite stages a rewrite that keeps the file's size and
// modification time. While the modification time is close to the last
// read, the content is compared and the rewrite is seen; once the file has
// settled, the stat alone is trusted.
func TestWatchedRacyRewrite(t *testing.T) {
	tw := newTestWatch(t, "aaa")
	mt := time.Now().Truncate(time.Second)
	tw.setMtime(t, mt)
	tw.clock = mt
	tw.want(t, "aaa", 1, 0, 0)

	tw.write(t, "bbb")
	tw.setMtime(t, mt)
	tw.want(t, "bbb", 2, 1, 0)

	// Settled: the last read is well past the modification time.
	tw.clock = mt.Add(time.Hour)
	tw.want(t, "bbb", 2, 1, 0) // a racy re-read records the later read time
	tw.write(t, "ccc")
	tw.setMtime(t, mt)
	tw.want(t, "bbb", 2, 1, 0) // same size and mtime: the stat is trusted

	// Any change a stat can see is picked up.
	tw.setMtime(t, mt.Add(time.Second))
	tw.want(t, "ccc", 3, 2, 0)
}

func TestWatchedFirstLoadFails(t *testing.T) {
	tw := newTestWatch(t, "bad")
	if _, err := tw.get(); err == nil || err.Error() != "bad" {
		t.Errorf("get error = %v, want bad", err)
	}
	if tw.errors != 0 {
		t.Errorf("a failed first load went to onError; it is the caller's to report")
	}
	tw.write(t, "good")
	tw.want(t, "good", 2, 0, 0)
}
