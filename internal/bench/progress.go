package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progressInterval is how often the progress bar is redrawn.
const progressInterval = 250 * time.Millisecond

// progress draws a one-line progress bar while a run goes on. A nil
// *progress draws nothing, which is what runs get when the output is not a
// terminal.
type progress struct {
	w     io.Writer
	label string
	total int64
	done  *atomic.Int64
	start time.Time

	stop chan struct{}
	wg   sync.WaitGroup
}

// startProgress starts redrawing a bar for done out of total on w; it
// returns nil, and draws nothing, when w is nil.
func startProgress(w io.Writer, label string, total int64, done *atomic.Int64) *progress {
	if w == nil || total <= 0 {
		return nil
	}
	p := &progress{w: w, label: label, total: total, done: done, start: time.Now(), stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

// finish draws the final state and ends the line.
func (p *progress) finish() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.draw()
	fmt.Fprintln(p.w)
}

func (p *progress) draw() {
	fmt.Fprint(p.w, "\r"+renderBar(p.label, p.done.Load(), p.total, time.Since(p.start)))
}

// renderBar renders the bar's line: label, count, bar, percentage and rate.
func renderBar(label string, done, total int64, elapsed time.Duration) string {
	const width = 40
	done = min(done, total)
	filled := int(done * width / total)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return fmt.Sprintf("%s %d / %d [%s] %6.2f%% %.0f/s ", label, done, total, bar, float64(done)*100/float64(total), rate)
}
