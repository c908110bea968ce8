// Package wirebuf pools the byte buffers that messages are read into and
// encoded into on the client gRPC path.
//
// gRPC's own pool clears a buffer on every Get. Every user overwrites what
// it takes before reading it (a frame is read into it, a message encoded
// into it), so the clearing was pure cost: 6% of a member's CPU under
// 1000-key ranges. Pool is the same tiered pool without it; buffers come
// in powers of two, so one that grows keeps fitting a tier.
package wirebuf

import (
	"math/bits"
	"sync"
)

const (
	minShift = 8  // 256 B, the smallest tier
	maxShift = 22 // 4 MiB; larger buffers are not kept
)

var tiers [maxShift - minShift + 1]sync.Pool

// Pool hands out buffers of the next power of two at or above the length
// asked for. Its methods match gRPC's mem.BufferPool.
type Pool struct{}

// Get returns a buffer of length n whose contents are undefined.
func (Pool) Get(n int) *[]byte {
	shift, ok := tierOf(n)
	if !ok {
		b := make([]byte, n)
		return &b
	}
	if p, _ := tiers[shift-minShift].Get().(*[]byte); p != nil {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n, 1<<shift)
	return &b
}

// Put keeps b for reuse if it came from Get: its capacity is a tier's size.
// Nobody may use b afterwards.
func (Pool) Put(b *[]byte) {
	c := cap(*b)
	if c == 0 || c&(c-1) != 0 {
		return
	}
	shift := bits.TrailingZeros(uint(c))
	if shift < minShift || shift > maxShift {
		return
	}
	tiers[shift-minShift].Put(b)
}

// tierOf is the tier of a buffer of length n; false if n is beyond them.
func tierOf(n int) (int, bool) {
	if n > 1<<maxShift {
		return 0, false
	}
	if n <= 1<<minShift {
		return minShift, true
	}
	return bits.Len(uint(n - 1)), true
}
