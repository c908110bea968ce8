package mvcc

import (
	"bytes"
	"testing"
)

func TestEscapedKeyOrderAndRoundTrip(t *testing.T) {
	keys := [][]byte{{}, {0}, {0, 0}, {0, 1}, {0, 0xff}, {1}, []byte("a"), []byte("a\x00"), []byte("a\x00b"), []byte("a\x01"), []byte("ab"), {0xff}, {0xff, 0}, {0xff, 0xff}}
	for i := range keys {
		for j := range keys {
			checkOrder(t, keys[i], keys[j])
		}
		checkRoundTrip(t, keys[i])
	}
}

func FuzzKeyEncoding(f *testing.F) {
	f.Add([]byte("foo"), []byte("foo\x00"), int64(3), int64(7))
	f.Add([]byte{0, 0xff}, []byte{0, 1}, int64(1), int64(1))
	f.Add([]byte{}, []byte{0}, int64(9), int64(2))
	f.Fuzz(func(t *testing.T, a, b []byte, ra, rb int64) {
		if ra < 0 || rb < 0 {
			return
		}
		checkOrder(t, a, b)
		checkRoundTrip(t, a)
		// Versions of one key sort newest first, and all of a key's versions
		// sort together, before every version of a larger key.
		va, vb := versionKey(nil, a, ra), versionKey(nil, b, rb)
		switch c := bytes.Compare(a, b); {
		case c < 0:
			if bytes.Compare(va, vb) >= 0 {
				t.Fatalf("version keys out of order: %q@%d >= %q@%d", a, ra, b, rb)
			}
		case c == 0 && ra != rb:
			if (bytes.Compare(va, vb) < 0) != (ra > rb) {
				t.Fatalf("revisions of %q not newest-first: %d vs %d", a, ra, rb)
			}
		}
		p, rev, err := splitVersionKey(va)
		if err != nil || rev != ra || !bytes.Equal(p, versionPrefix(nil, a)) {
			t.Fatalf("split(%q@%d) = %q, %d, %v", a, ra, p, rev, err)
		}
		// The range bound of b separates the keys below b from b and above.
		if (bytes.Compare(a, b) < 0) != (bytes.Compare(va, rangeBound(b)) < 0) {
			t.Fatalf("range bound of %q misplaces %q", b, a)
		}
		if bytes.Compare(va, nextPrefix(versionPrefix(nil, a))) >= 0 {
			t.Fatalf("nextPrefix(%q) does not bound its versions", a)
		}
	})
}

func FuzzUnescape(f *testing.F) {
	f.Add([]byte{'a', 0, 1})
	f.Add([]byte{0, 0xff, 0, 1})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, esc []byte) {
		k, err := unescape(esc)
		if err != nil {
			return
		}
		if got := appendEscaped(nil, k); !bytes.Equal(got, esc) {
			t.Fatalf("unescape(%q) = %q, which escapes to %q", esc, k, got)
		}
	})
}

func checkOrder(t *testing.T, a, b []byte) {
	t.Helper()
	ea, eb := appendEscaped(nil, a), appendEscaped(nil, b)
	if got, want := bytes.Compare(ea, eb), bytes.Compare(a, b); got != want {
		t.Fatalf("order of %q,%q: escaped %d, raw %d", a, b, got, want)
	}
	if !bytes.Equal(a, b) && (bytes.HasPrefix(ea, eb) || bytes.HasPrefix(eb, ea)) {
		t.Fatalf("escaped %q and %q: one is a prefix of the other", a, b)
	}
}

func checkRoundTrip(t *testing.T, k []byte) {
	t.Helper()
	got, err := decodeUserKey(versionPrefix(nil, k))
	if err != nil || !bytes.Equal(got, k) {
		t.Fatalf("round trip of %q = %q, %v", k, got, err)
	}
}
