package storage

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

func testEngine(t *testing.T) *Engine {
	t.Helper()
	eng, err := Open(t.TempDir(), Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func TestStateSnapshotRoundTrip(t *testing.T) {
	src, dst := testEngine(t), testEngine(t)
	state := map[string]string{"kfoo": "1", "e\x00\x01": "2", string(KeyApplied): "applied", "n\x01": "member"}
	for k, v := range state {
		if err := src.DB().Set([]byte(k), []byte(v), pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	// Member-local keys never travel.
	_ = src.DB().Set(KeyHardState, []byte("hs"), pebble.NoSync)
	_ = src.DB().Set(RaftLogKey(5), []byte("entry"), pebble.NoSync)
	// The receiver's own state is replaced; its local keys stay.
	_ = dst.DB().Set([]byte("kstale"), []byte("x"), pebble.NoSync)
	_ = dst.DB().Set(KeyLocalMember, []byte("me"), pebble.NoSync)

	var buf bytes.Buffer
	if err := WriteStateSnapshot(&buf, src.DB()); err != nil {
		t.Fatal(err)
	}
	if err := InstallState(dst.DB(), bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	for k, v := range state {
		got, ok, _ := Get(dst.DB(), []byte(k))
		if !ok || string(got) != v {
			t.Errorf("%q = %q, %v; want %q", k, got, ok, v)
		}
	}
	for _, k := range [][]byte{[]byte("kstale"), KeyHardState, RaftLogKey(5)} {
		if _, ok, _ := Get(dst.DB(), k); ok {
			t.Errorf("%q present after install", k)
		}
	}
	if v, ok, _ := Get(dst.DB(), KeyLocalMember); !ok || string(v) != "me" {
		t.Error("install touched member-local metadata")
	}

	// Truncated or flipped snapshots are refused.
	data := buf.Bytes()
	for _, bad := range [][]byte{data[:len(data)-3], data[:len(data)/2], flip(data, 5)} {
		err := ReadStateSnapshot(bytes.NewReader(bad), func(k, v []byte) error { return nil })
		if !errors.Is(err, ErrBadStateSnapshot) {
			t.Errorf("corrupt snapshot accepted: %v", err)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}

func FuzzReadStateSnapshot(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{2, 'k', 'a', 1, 'v', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ReadStateSnapshot(bytes.NewReader(data), func(k, v []byte) error { return nil })
	})
}
