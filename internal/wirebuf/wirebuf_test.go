package wirebuf

import "testing"

func TestGetSizesToTier(t *testing.T) {
	for _, tc := range []struct{ n, wantCap int }{
		{0, 256}, {1, 256}, {256, 256}, {257, 512}, {4096, 4096}, {4097, 8192},
		{1 << 22, 1 << 22}, {1<<22 + 1, 1<<22 + 1},
	} {
		b := Pool{}.Get(tc.n)
		if len(*b) != tc.n || cap(*b) != tc.wantCap {
			t.Errorf("Get(%d): len %d cap %d, want len %d cap %d", tc.n, len(*b), cap(*b), tc.n, tc.wantCap)
		}
	}
}

func TestPutKeepsOnlyTierBuffers(t *testing.T) {
	var p Pool
	// A buffer of a tier's size comes back (sync.Pool may drop it under a
	// collection, so try a few times).
	reused := false
	for range 10 {
		b := p.Get(3000)
		(*b)[0] = 42
		p.Put(b)
		if c := p.Get(2500); &(*c)[0] == &(*b)[0] {
			reused = true
			if len(*c) != 2500 {
				t.Fatalf("reused buffer has length %d", len(*c))
			}
			break
		}
	}
	if !reused {
		t.Error("a returned buffer was never handed out again")
	}
	// Foreign and oversized buffers are dropped, never handed out.
	odd := make([]byte, 100, 300)
	p.Put(&odd)
	big := make([]byte, 1<<23)
	p.Put(&big)
	empty := []byte{}
	p.Put(&empty)
	for range 10 {
		if b := p.Get(300); &(*b)[:1][0] == &odd[:1][0] {
			t.Fatal("a buffer not from the pool was handed out")
		}
	}
}

func BenchmarkGetPut(b *testing.B) {
	var p Pool
	for b.Loop() {
		buf := p.Get(16 << 10)
		p.Put(buf)
	}
}
