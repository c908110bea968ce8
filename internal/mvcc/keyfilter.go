package mvcc

import (
	"hash/maphash"
	"math"
	"math/bits"
	"sync/atomic"
)

// Before writing a key the applier needs the key's newest version. For a
// key never written there is none, and finding that out is the costliest
// lookup of all: bloom filters settle it for the sstables, but the seek
// still walks every memtable's skiplist, cache miss after cache miss. In
// benchmarks and bulk loads most writes create keys, and that walk was a
// third of the member's CPU.
//
// keyFilter answers "never written" without touching the engine: a blocked
// Bloom filter over every user key that has a version in the store. It costs
// about 1.25 bytes per key (a B-tree index of every key would cost
// hundreds), has no false negatives, and a false positive (about 1%) only
// means the usual seek. Keys deleted or compacted away stay in it, which is
// again only a false positive.

const (
	filterBitsPerKey = 10
	filterHashes     = 7   // bits set per key, 9 bits of the hash each
	filterBlockBits  = 512 // one cache line: a lookup reads one line
	filterBlockWords = filterBlockBits / 64
	// filterMaxFill is the share of set bits beyond which the filter is
	// rebuilt larger: at 10 bits per key the filter is half full at its
	// capacity, where its false positive rate is about 1%.
	filterMaxFill = 0.55
)

// filterMinKeys sizes the smallest filter (about 1.25 MiB); tests lower it.
var filterMinKeys int64 = 1 << 20

type keyFilter struct {
	words  []uint64 // accessed atomically: the builder adds concurrently
	blocks uint64
	seed   maphash.Seed
	set    atomic.Int64 // bits set, to tell when the filter is too full
	// ready is set once every key already in the store has been added;
	// before that the filter only collects the keys written meanwhile.
	ready atomic.Bool
}

func newKeyFilter(capacity int64) *keyFilter {
	capacity = max(capacity, filterMinKeys)
	blocks := (uint64(capacity)*filterBitsPerKey + filterBlockBits - 1) / filterBlockBits
	return &keyFilter{words: make([]uint64, blocks*filterBlockWords), blocks: blocks, seed: maphash.MakeSeed()}
}

// locate returns the key's block (its first word) and the positions of its
// bits inside the block.
func (f *keyFilter) locate(key []byte) (uint64, uint64) {
	h := maphash.Bytes(f.seed, key)
	block, _ := bits.Mul64(h, f.blocks)
	return block * filterBlockWords, mix64(h)
}

// mix64 is splitmix64's finalizer: the bit positions inside the block must
// not follow from the high bits that chose the block.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (f *keyFilter) add(key []byte) {
	base, pos := f.locate(key)
	for i := 0; i < filterHashes; i++ {
		p := (pos >> (9 * i)) & (filterBlockBits - 1)
		mask := uint64(1) << (p & 63)
		if old := atomic.OrUint64(&f.words[base+(p>>6)], mask); old&mask == 0 {
			f.set.Add(1)
		}
	}
}

// mayContain is false only for keys never added.
func (f *keyFilter) mayContain(key []byte) bool {
	base, pos := f.locate(key)
	for i := 0; i < filterHashes; i++ {
		p := (pos >> (9 * i)) & (filterBlockBits - 1)
		if atomic.LoadUint64(&f.words[base+(p>>6)])&(uint64(1)<<(p&63)) == 0 {
			return false
		}
	}
	return true
}

func (f *keyFilter) bitCount() int64 { return int64(len(f.words)) * 64 }

// full reports that the filter holds so many keys that its false positive
// rate has grown past its design.
func (f *keyFilter) full() bool {
	return float64(f.set.Load()) > filterMaxFill*float64(f.bitCount())
}

// keysEstimate estimates the number of distinct keys added from the share of
// bits set (the standard estimate for Bloom filters).
func (f *keyFilter) keysEstimate() int64 {
	fill := float64(f.set.Load()) / float64(f.bitCount())
	if fill >= 1 {
		return math.MaxInt32
	}
	return int64(-float64(f.bitCount()) / filterHashes * math.Log1p(-fill))
}
