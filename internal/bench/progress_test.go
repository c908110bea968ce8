package bench

import (
	"testing"
	"time"
)

func TestRenderBar(t *testing.T) {
	tests := []struct {
		name        string
		done, total int64
		want        string
	}{
		{"start", 0, 100, "put 0 / 100 [>                                       ]   0.00% 0/s "},
		{"half", 50, 100, "put 50 / 100 [====================>                   ]  50.00% 25/s "},
		{"done", 100, 100, "put 100 / 100 [========================================] 100.00% 50/s "},
		{"overshoot is capped", 150, 100, "put 100 / 100 [========================================] 100.00% 50/s "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renderBar("put", tt.done, tt.total, 2*time.Second); got != tt.want {
				t.Errorf("bar\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestNoProgressWithoutWriter(t *testing.T) {
	if p := startProgress(nil, "put", 10, nil); p != nil {
		t.Fatal("a bar without a writer")
	}
	var p *progress
	p.finish() // a nil bar is a no-op
}
