package ctl

import (
	"testing"
	"time"
)

func TestAgoText(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "now"}, {999 * time.Millisecond, "now"}, {time.Second, "1 second ago"}, {1999 * time.Millisecond, "1 second ago"},
		{2 * time.Second, "2 seconds ago"}, {59 * time.Second, "59 seconds ago"}, {time.Minute, "1 minute ago"},
		{2 * time.Minute, "2 minutes ago"}, {90 * time.Minute, "1 hour ago"}, {5 * time.Hour, "5 hours ago"},
		{30 * time.Hour, "1 day ago"}, {72 * time.Hour, "3 days ago"},
	} {
		if got := agoText(tt.d); got != tt.want {
			t.Errorf("agoText(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
