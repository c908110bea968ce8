package ctl

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"
)

// progressBar draws the progress of `check` on stderr, the way etcdctl's
// progress bar library draws it, five times a second:
//
//	12 / 60 [--------------->_______________________] 20.00% 1 p/s
//
// Each frame is 100 characters wide. On a terminal each frame replaces the
// last ("\r") and the finished bar ends the line; elsewhere the frames are
// simply written one after the other.
type progressBar struct {
	w        io.Writer
	total    int
	terminal bool
	start    time.Time
	stop     chan struct{}
	done     chan struct{}

	mu struct {
		sync.Mutex
		current int
	}
}

const (
	progressWidth   = 100
	progressRefresh = 200 * time.Millisecond
)

func newProgressBar(w io.Writer, total int) *progressBar {
	b := &progressBar{w: w, total: total, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.terminal = true
		}
	}
	go b.refresh()
	return b
}

func (b *progressBar) add(n int) {
	b.mu.Lock()
	b.mu.current += n
	b.mu.Unlock()
}

func (b *progressBar) refresh() {
	defer close(b.done)
	t := time.NewTicker(progressRefresh)
	defer t.Stop()
	b.draw()
	for {
		select {
		case <-t.C:
			b.draw()
		case <-b.stop:
			b.draw()
			return
		}
	}
}

// fill marks every step done.
func (b *progressBar) fill() {
	b.mu.Lock()
	b.mu.current = b.total
	b.mu.Unlock()
}

// finish draws the last frame and stops the refreshing.
func (b *progressBar) finish() {
	close(b.stop)
	<-b.done
	if b.terminal {
		fmt.Fprintln(b.w)
	}
}

func (b *progressBar) draw() {
	b.mu.Lock()
	cur := b.mu.current
	b.mu.Unlock()
	frame := progressFrame(cur, b.total, time.Since(b.start))
	if b.terminal {
		frame = "\r" + frame
	}
	io.WriteString(b.w, frame)
}

// progressFrame renders one frame: counts, the bar (ending in '>' until it
// is full) filling what the other parts leave of the width, the percentage
// and the rate so far ("?" before the first step).
func progressFrame(cur, total int, elapsed time.Duration) string {
	frac := 1.0
	if total > 0 {
		frac = min(float64(cur)/float64(total), 1)
	}
	speed := "?"
	if cur > 0 && elapsed > 0 {
		speed = fmt.Sprint(int(math.Round(float64(cur) / elapsed.Seconds())))
	}
	head := fmt.Sprintf("%d / %d ", cur, total)
	tail := fmt.Sprintf(" %.2f%% %s p/s", frac*100, speed)
	size := max(progressWidth-len(head)-len(tail)-2, 1)
	filled := int(math.Ceil(frac * float64(size)))
	var bar string
	switch {
	case filled >= size:
		bar = strings.Repeat("-", size)
	case filled > 0:
		bar = strings.Repeat("-", filled-1) + ">" + strings.Repeat("_", size-filled)
	default:
		bar = strings.Repeat("_", size)
	}
	return head + "[" + bar + "]" + tail
}
