package bench

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestKeyGen(t *testing.T) {
	g, err := newKeyGen(8, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]string{0: "00000000", 7: "00000007", 999: "00000999"} {
		if got := g.key(n); got != want {
			t.Errorf("key(%d) = %q, want %q", n, got, want)
		}
	}
	if got := g.pick(1005, true, nil); got != "00000005" {
		t.Errorf("sequential pick wraps at the key space: got %q", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		if k := g.pick(0, false, r); k < "00000000" || k > "00000999" {
			t.Fatalf("random key %q outside the key space", k)
		}
	}
}

func TestKeyGenLimits(t *testing.T) {
	tests := []struct {
		name        string
		size, space int
		wantErr     string
	}{
		{"exact fit", 3, 1000, ""},
		{"one too many", 3, 1001, "--key-size 3 is too small for --key-space-size 1001: keys need 4 bytes"},
		{"single key of one byte", 1, 1, ""},
		{"zero size", 0, 1, "--key-size must be at least 1"},
		{"zero space", 8, 0, "--key-space-size must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newKeyGen(tt.size, tt.space)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestPickDistinct(t *testing.T) {
	g, _ := newKeyGen(4, 10)
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		keys := g.pickDistinct(0, 10, false, r)
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Fatalf("duplicate key %q in %v", k, keys)
			}
			seen[k] = true
		}
	}
	if got := strings.Join(g.pickDistinct(3, 3, true, nil), ","); got != "0009,0000,0001" {
		t.Errorf("sequential distinct keys = %s", got)
	}
}

func TestWorkerValue(t *testing.T) {
	w := newWorker(1)
	a, b := w.value(256), w.value(256)
	if len(a) != 256 || len(b) != 256 {
		t.Fatalf("value sizes %d, %d", len(a), len(b))
	}
	if a == b {
		t.Error("two values are equal: values must be fresh random bytes")
	}
	if w.value(0) != "" {
		t.Error("zero-size value is not empty")
	}
}
