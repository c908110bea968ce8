package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// job describes a closed-loop run: workers goroutines issue total requests
// between them, paced to rate a second when rate > 0.
type job struct {
	label   string // shown on the progress bar
	total   int
	workers int
	rate    int
	// kinds is the number of request kinds the run reports separately
	// (txn-mixed has reads and writes); 0 means 1.
	kinds int
	// do issues request number i (counting from 0) from worker id, and
	// returns the request's kind (< kinds) and error.
	do func(ctx context.Context, w *worker, id, i int) (kind int, err error)
}

type kindResult struct {
	Result
	kind int
}

// run executes j and returns the statistics of each kind of request. When
// ctx ends, no new request is issued, requests cut short are not counted,
// and the statistics cover what completed.
func (c *cli) run(ctx context.Context, j job) []*Stats {
	kinds := max(j.kinds, 1)
	var issued, done atomic.Int64
	lim := newLimiter(j.rate)
	perWorker := make([][]kindResult, j.workers)
	bar := startProgress(c.opts.Progress, j.label, int64(j.total), &done)
	seed := uint64(time.Now().UnixNano())

	start := time.Now()
	var wg sync.WaitGroup
	for id := range j.workers {
		wg.Go(func() {
			w := newWorker(seed + uint64(id)*0x9E3779B97F4A7C15)
			local := make([]kindResult, 0, j.total/j.workers+1)
			for {
				i := int(issued.Add(1)) - 1
				if i >= j.total || lim.Wait(ctx) != nil {
					break
				}
				st := time.Now()
				kind, err := j.do(ctx, w, id, i)
				took := time.Since(st)
				if ctx.Err() != nil {
					break
				}
				r := kindResult{Result: Result{Start: st, Took: took}, kind: kind}
				if err != nil {
					r.Err = errText(err)
				}
				local = append(local, r)
				done.Add(1)
			}
			perWorker[id] = local
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	bar.finish()

	byKind := make([][]Result, kinds)
	for _, local := range perWorker {
		for _, r := range local {
			byKind[r.kind] = append(byKind[r.kind], r.Result)
		}
	}
	stats := make([]*Stats, kinds)
	for k := range stats {
		stats[k] = NewStats(byKind[k], elapsed)
	}
	return stats
}
