// Package gcfloor keeps the garbage collector from running more often than
// a small heap requires.
//
// The Go runtime starts a collection once the heap has grown by GOGC
// percent (100 by default) over what the previous collection left live. A
// member's live heap is small, about 20 MiB under a heavy put load, because
// keys, values, memtables and the block cache live in the storage engine's
// own memory outside the Go heap. At 100 percent the member therefore
// collects after every ~20 MiB of allocation: 75 collections for 100,000
// puts from 256 clients, about twelve a second. A 64 MiB floor cut that to
// 18 and the member's CPU per put by about 4%.
//
// Start puts a floor under the heap goal: while the live heap is under half
// the floor, the GC percent is raised so that the next collection starts
// when the heap reaches the floor; from half the floor upwards the runtime's
// default applies unchanged. The Go heap thus grows by at most the floor
// over what a default runtime would hold, and never with the key count.
//
// The percent is recomputed after every collection, from the live heap that
// collection measured. An operator's GOGC or GOMEMLIMIT wins: with either
// in the environment the floor is not applied.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// defaultPercent is the runtime's own GOGC.
	defaultPercent = 100
	// maxPercent bounds the percent while the live heap is tiny (just after
	// start), so a burst of allocations cannot run far past the floor
	// before the first collection measures the heap.
	maxPercent = 1000
)

const liveHeapMetric = "/gc/heap/live:bytes"

// Overridden reports whether the environment sets GOGC or GOMEMLIMIT, in
// which case Start leaves the collector alone.
func Overridden() bool {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	return gogc || limit
}

// Start applies a heap-goal floor of floorBytes for the whole process until
// the returned stop is called; stop restores the GC percent in force before.
// It does nothing (and stop is a no-op) when Overridden. Only one floor
// should be active at a time.
func Start(floorBytes uint64) (stop func()) {
	if Overridden() || floorBytes == 0 {
		return func() {}
	}
	f := &floor{bytes: floorBytes}
	f.mu.sample = []metrics.Sample{{Name: liveHeapMetric}}
	f.mu.percent = defaultPercent
	f.prev = debug.SetGCPercent(defaultPercent)
	f.adjust()
	f.arm()
	return f.stop
}

type floor struct {
	bytes uint64
	prev  int

	mu struct {
		sync.Mutex
		stopped bool
		percent int
		sample  []metrics.Sample
	}
}

// sentinel is garbage from birth; its cleanup runs after the collection
// that frees it, which is how the floor learns that a collection happened.
// The pointer keeps it out of the runtime's tiny-object allocator, whose
// blocks may outlive any one object in them.
type sentinel struct{ _ *sentinel }

func (f *floor) arm() {
	runtime.AddCleanup(new(sentinel), func(f *floor) { f.afterCollection() }, f)
}

func (f *floor) afterCollection() {
	if f.adjust() {
		f.arm()
	}
}

// adjust sets the percent for the live heap the last collection measured,
// and reports false once the floor is stopped. It skips changes under a
// tenth, so a steady heap does not keep touching the runtime's pacer.
func (f *floor) adjust() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mu.stopped {
		return false
	}
	metrics.Read(f.mu.sample)
	if f.mu.sample[0].Value.Kind() != metrics.KindUint64 {
		return true
	}
	p := percentFor(f.mu.sample[0].Value.Uint64(), f.bytes)
	if p == f.mu.percent || (p != defaultPercent && abs(p-f.mu.percent)*10 < f.mu.percent) {
		return true
	}
	debug.SetGCPercent(p)
	f.mu.percent = p
	return true
}

func (f *floor) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mu.stopped {
		return
	}
	f.mu.stopped = true
	debug.SetGCPercent(f.prev)
}

// percentFor returns the GC percent whose heap goal, live*(1+p/100), is the
// floor, kept between the runtime's default and maxPercent.
func percentFor(live, floorBytes uint64) int {
	if live == 0 {
		return maxPercent
	}
	if live >= floorBytes/2 {
		return defaultPercent
	}
	p := (floorBytes - live) * 100 / live
	return int(min(p, maxPercent))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
