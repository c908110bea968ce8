package tlsutil

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// racyWindow is how close to a read a file's modification time may be
// before a matching stat no longer proves the file unchanged: a write in
// the same timestamp tick as the read leaves size and mtime as they were
// (coarse filesystem clocks tick every few milliseconds; FAT every two
// seconds). Within the window the content is compared instead, as git does
// for racily clean index entries.
const racyWindow = 2 * time.Second

// watched is a value parsed from a set of files, re-parsed when any of them
// changes. Each get costs one stat per file; the files are read again only
// when a stat differs or was taken too close to the last read, and parsed
// again only when their content differs.
//
// A reload that fails (a file missing or half-written during a rotation)
// keeps the last good value: serving the previous certificate until the new
// one is complete beats refusing every connection. The failure is reported
// once, through onError, until a reload succeeds or the error changes.
type watched[T any] struct {
	paths []string
	flags []string // the flag naming each path, for errors
	parse func(data [][]byte) (T, error)
	now   func() time.Time

	// onReload and onError, when set, hear of a successful reload and of
	// a failed one. They run with mu held, so they must not call get.
	onReload func()
	onError  func(error)

	mu struct {
		sync.Mutex
		loaded bool
		val    T
		stats  []fs.FileInfo // as of the last read
		sum    [sha256.Size]byte
		readAt time.Time
		// failed, failSum and failErr remember the last content that
		// did not parse, so that it is not parsed again on every get.
		failed  bool
		failSum [sha256.Size]byte
		failErr error
		// lastErr is the last error reported, so that a lasting problem
		// is reported once rather than on every handshake.
		lastErr string
	}
}

func newWatched[T any](paths, flags []string, parse func([][]byte) (T, error)) *watched[T] {
	return &watched[T]{paths: paths, flags: flags, parse: parse, now: time.Now}
}

// get returns the current value, reloading it first if the files changed.
// It fails only while no value was ever loaded.
func (w *watched[T]) get() (T, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.refreshLocked()
	switch {
	case err != nil && !w.mu.loaded:
		var zero T
		return zero, err
	case err == nil:
		w.mu.lastErr = ""
	case err.Error() != w.mu.lastErr:
		w.mu.lastErr = err.Error()
		if w.onError != nil {
			w.onError(err)
		}
	}
	return w.mu.val, nil
}

// refreshLocked reloads the value if the files changed.
func (w *watched[T]) refreshLocked() error {
	stats := make([]fs.FileInfo, len(w.paths))
	for i, p := range w.paths {
		fi, err := stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", w.flags[i], err)
		}
		stats[i] = fi
	}
	if w.mu.loaded && sameStats(stats, w.mu.stats) && !racy(stats, w.mu.readAt) {
		return nil
	}
	now := w.now()
	data := make([][]byte, len(w.paths))
	h := sha256.New()
	for i, p := range w.paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("%s: %w", w.flags[i], err)
		}
		data[i] = b
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	switch {
	case w.mu.loaded && sum == w.mu.sum:
		// Touched, or rewritten with the same bytes.
		w.mu.stats, w.mu.readAt = stats, now
		return nil
	case w.mu.failed && sum == w.mu.failSum:
		// The same bad content as last time: not worth parsing again.
		return w.mu.failErr
	}
	val, err := w.parse(data)
	if err != nil {
		w.mu.failed, w.mu.failSum, w.mu.failErr = true, sum, err
		return err
	}
	reloaded := w.mu.loaded
	w.mu.loaded, w.mu.val, w.mu.stats, w.mu.sum, w.mu.readAt = true, val, stats, sum, now
	w.mu.failed, w.mu.failErr = false, nil
	if reloaded && w.onReload != nil {
		w.onReload()
	}
	return nil
}

// stat is os.Stat, but a missing or unreadable file gets the error opening
// it gives ("open /x.crt: no such file or directory"), the one people know.
func stat(path string) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err == nil {
		return fi, nil
	}
	if f, oerr := os.Open(path); oerr != nil {
		return nil, oerr
	} else {
		f.Close()
	}
	return nil, err
}

// sameStats reports whether two stats of the same files describe the same
// contents, as far as a stat can tell: same file (not replaced by a rename
// or a symlink swap), size and modification time.
func sameStats(a, b []fs.FileInfo) bool {
	for i := range a {
		if !os.SameFile(a[i], b[i]) || a[i].Size() != b[i].Size() || !a[i].ModTime().Equal(b[i].ModTime()) {
			return false
		}
	}
	return true
}

// racy reports whether any file was modified so close to readAt that a
// later write could have kept its modification time.
func racy(stats []fs.FileInfo, readAt time.Time) bool {
	for _, fi := range stats {
		if !fi.ModTime().Before(readAt.Add(-racyWindow)) {
			return true
		}
	}
	return false
}
