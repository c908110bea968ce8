package gcfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		{live: 0, floor: 64 * mib, want: maxPercent},            // nothing measured yet
		{live: 1 * mib, floor: 64 * mib, want: maxPercent},      // 6300% capped
		{live: 16 * mib, floor: 64 * mib, want: 300},            // goal 64 MiB
		{live: 20 * mib, floor: 64 * mib, want: 220},            // goal 64 MiB
		{live: 32 * mib, floor: 64 * mib, want: defaultPercent}, // default reaches the floor
		{live: 500 * mib, floor: 64 * mib, want: defaultPercent},
	} {
		if got := percentFor(c.live, c.floor); got != c.want {
			t.Errorf("percentFor(%d MiB, %d MiB) = %d, want %d", c.live/mib, c.floor/mib, got, c.want)
		}
	}
}

// currentPercent reads the GC percent without changing it.
func currentPercent() int {
	p := debug.SetGCPercent(defaultPercent)
	debug.SetGCPercent(p)
	return p
}

var sink []byte

// collectionsDuring counts the collections while 256 MiB of short-lived
// 4 KiB buffers are allocated over a small live heap.
func collectionsDuring() uint32 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 64 << 10 {
		sink = make([]byte, 4096)
	}
	runtime.ReadMemStats(&after)
	return after.NumGC - before.NumGC
}

func heapGoal() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NextGC
}

// eventually collects until cond holds, for up to five seconds: the floor
// recomputes on the runtime's cleanup goroutine after each collection.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s of collections: %s", what)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// The goal and percent checks are exact; the collection counts depend on
// how fast the collector keeps up (other test binaries share the CPUs), so
// only the count with the floor gets a bound: contention lowers counts.
func TestFloorRaisesTheGoalOfASmallHeapAndStopRestoresIt(t *testing.T) {
	if Overridden() {
		t.Skip("GOGC or GOMEMLIMIT is set")
	}
	prev := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prev)
	without := collectionsDuring()

	stop := Start(64 << 20)
	eventually(t, "heap goal of at least 32 MiB with a 64 MiB floor over a small heap",
		func() bool { return heapGoal() >= 32<<20 })
	with := collectionsDuring()
	t.Logf("collections while allocating 256 MiB: %d without the floor, %d with it", without, with)
	if with > 12 {
		t.Errorf("%d collections for 256 MiB with a 64 MiB floor, want at most 12", with)
	}

	stop()
	stop() // a second stop is harmless
	if p := currentPercent(); p != 150 {
		t.Errorf("percent %d after stop, want the 150 set before Start", p)
	}
	runtime.GC()
	if p, g := currentPercent(), heapGoal(); p != 150 || g > 16<<20 {
		t.Errorf("percent %d, heap goal %d MiB after stop and a collection; want 150 and a small goal", p, g>>20)
	}
}

func TestFloorStepsAsideWhileTheHeapIsLarge(t *testing.T) {
	if Overridden() {
		t.Skip("GOGC or GOMEMLIMIT is set")
	}
	stop := Start(64 << 20)
	defer stop()
	eventually(t, "floor raised over the small heap", func() bool { return currentPercent() > defaultPercent })

	live := make([][]byte, 48)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	eventually(t, "default percent with 48 MiB live", func() bool { return currentPercent() == defaultPercent })
	runtime.KeepAlive(live)

	eventually(t, "floor back once the heap shrank", func() bool { return currentPercent() > defaultPercent })
}

func TestEnvironmentWins(t *testing.T) {
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, map[string]string{"GOGC": "100", "GOMEMLIMIT": "1GiB"}[name])
			if !Overridden() {
				t.Fatalf("Overridden() = false with %s set", name)
			}
			prev := debug.SetGCPercent(120)
			defer debug.SetGCPercent(prev)
			stop := Start(64 << 20)
			runtime.GC()
			if p := currentPercent(); p != 120 {
				t.Errorf("percent %d with %s set, want 120 left alone", p, name)
			}
			stop()
		})
	}
}

func TestZeroFloorIsOff(t *testing.T) {
	prev := debug.SetGCPercent(130)
	defer debug.SetGCPercent(prev)
	Start(0)()
	runtime.GC()
	if p := currentPercent(); p != 130 {
		t.Errorf("percent %d after a zero floor, want 130 left alone", p)
	}
}
