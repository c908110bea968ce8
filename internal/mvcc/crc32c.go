package mvcc

import "hash/crc32"

// CRC-32C of a concatenation from the CRCs of its parts. A CRC is a
// polynomial remainder, so crc(A‖B) = crc(A)·x^(8·len(B)) ⊕ crc(B) modulo
// the generator: the all-ones pre- and post-conditioning of both parts
// cancel out. This lets HashKV hash its parts in any order and combine them
// in etcd's order afterwards, without keeping the parts' bytes.

// castagnoliReflected is the Castagnoli generator in the reflected bit
// order hash/crc32 uses: bit 31 is the coefficient of x^0.
const castagnoliReflected = crc32.Castagnoli

// crcMulMod returns a·b modulo the generator, both in reflected order.
func crcMulMod(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		// b·x: one step up in degree, reduced by the generator.
		if b&1 != 0 {
			b = b>>1 ^ castagnoliReflected
		} else {
			b >>= 1
		}
	}
	return p
}

// crcXPow2 holds x^(2^k) modulo the generator for k = 0..63.
var crcXPow2 = func() (t [64]uint32) {
	t[0] = 1 << 30 // x
	for k := 1; k < len(t); k++ {
		t[k] = crcMulMod(t[k-1], t[k-1])
	}
	return t
}()

// crcShift returns x^(8·n) modulo the generator: what appending n bytes
// multiplies the CRC of what precedes them by.
func crcShift(n uint64) uint32 {
	p := uint32(1) << 31 // 1
	bits := n << 3
	for k := 0; bits != 0; k, bits = k+1, bits>>1 {
		if bits&1 != 0 {
			p = crcMulMod(p, crcXPow2[k])
		}
	}
	return p
}

// crcCombine returns the CRC-32C of A‖B from crcA, crcB and len(B).
func crcCombine(crcA, crcB uint32, lenB int) uint32 {
	return crcMulMod(crcShift(uint64(lenB)), crcA) ^ crcB
}
