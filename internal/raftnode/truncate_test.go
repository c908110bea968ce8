package raftnode

import "testing"

func TestTruncateIndex(t *testing.T) {
	for _, tc := range []struct {
		name                                   string
		applied, first, snapshotCount, catchUp uint64
		want                                   uint64
		ok                                     bool
	}{
		{"disabled", 100000, 1, 0, 10, 0, false},
		{"nothing beyond catch-up", 5000, 1, 10000, 5000, 0, false},
		{"default: a step short", 5999, 1, 10000, 5000, 0, false},
		{"default: one step beyond catch-up", 6000, 1, 10000, 5000, 1000, true},
		{"after a truncation: short", 6999, 1001, 10000, 5000, 0, false},
		{"after a truncation: due", 7000, 1001, 10000, 5000, 2000, true},
		{"small snapshot count is the step", 110, 1, 100, 10, 100, true},
		{"small snapshot count: short", 109, 1, 100, 10, 0, false},
		{"catch-up 0", 1000, 1, 10000, 0, 1000, true},
	} {
		got, ok := truncateIndex(tc.applied, tc.first, tc.snapshotCount, tc.catchUp)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: truncateIndex(%d, %d, %d, %d) = %d, %v; want %d, %v",
				tc.name, tc.applied, tc.first, tc.snapshotCount, tc.catchUp, got, ok, tc.want, tc.ok)
		}
	}
}
