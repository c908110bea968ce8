package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// keyGen names the keys of a key space: key n is n in decimal, left-padded
// with zeros to the key size, so keys are printable, sort in numeric order
// and a prefix of them is easy to range over.
type keyGen struct {
	size  int
	space int
}

// newKeyGen checks that space keys fit in size bytes.
func newKeyGen(size, space int) (keyGen, error) {
	if size < 1 {
		return keyGen{}, fmt.Errorf("--key-size must be at least 1, got %d", size)
	}
	if space < 1 {
		return keyGen{}, fmt.Errorf("--key-space-size must be at least 1, got %d", space)
	}
	if digits := len(strconv.Itoa(space - 1)); digits > size {
		return keyGen{}, fmt.Errorf("--key-size %d is too small for --key-space-size %d: keys need %d bytes", size, space, digits)
	}
	return keyGen{size: size, space: space}, nil
}

// key returns the name of key n (0 <= n < space).
func (g keyGen) key(n int) string {
	buf := make([]byte, g.size)
	digits := strconv.AppendInt(nil, int64(n), 10)
	pad := g.size - len(digits)
	for i := range pad {
		buf[i] = '0'
	}
	copy(buf[pad:], digits)
	return string(buf)
}

// pick returns the key for request number i (counting from 0): the next
// one in order when sequential, a uniformly random one otherwise.
func (g keyGen) pick(i int, sequential bool, r *rand.Rand) string {
	return g.key(g.index(i, sequential, r))
}

// index is pick's key number.
func (g keyGen) index(i int, sequential bool, r *rand.Rand) int {
	if sequential {
		return i % g.space
	}
	return r.IntN(g.space)
}

// pickDistinct returns n different keys for request number i: n consecutive
// keys from i*n when sequential, n random distinct keys otherwise.
func (g keyGen) pickDistinct(i, n int, sequential bool, r *rand.Rand) []string {
	keys := make([]string, 0, n)
	if sequential {
		for j := range n {
			keys = append(keys, g.key((i*n+j)%g.space))
		}
		return keys
	}
	seen := make(map[int]struct{}, n)
	for len(keys) < n {
		k := r.IntN(g.space)
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		keys = append(keys, g.key(k))
	}
	return keys
}

// worker holds one client goroutine's private state.
type worker struct {
	rand *rand.Rand
	src  *rand.ChaCha8
	buf  []byte
}

func newWorker(seed uint64) *worker {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	src := rand.NewChaCha8(s)
	return &worker{rand: rand.New(src), src: src}
}

// value returns size fresh random bytes as a string.
func (w *worker) value(size int) string {
	if cap(w.buf) < size {
		w.buf = make([]byte, size)
	}
	b := w.buf[:size]
	w.src.Read(b)
	return string(b)
}
