package mvcc

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCRCCombineMatchesConcatenation(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		a := make([]byte, r.IntN(300))
		b := make([]byte, r.IntN(300)+i%3*4000)
		for j := range a {
			a[j] = byte(r.Uint32())
		}
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		want := crc32.Checksum(append(append([]byte(nil), a...), b...), castagnoli)
		got := crcCombine(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), len(b))
		if got != want {
			t.Fatalf("len %d + %d: combined %08x, want %08x", len(a), len(b), got, want)
		}
	}
}
