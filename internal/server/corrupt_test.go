package server

import (
	"slices"
	"testing"
)

func TestCorruptedPicksTheMinority(t *testing.T) {
	tests := []struct {
		name   string
		hashes []memberHash
		voters int
		want   []uint64
	}{
		{"all agree", []memberHash{{id: 1, hash: 7}, {id: 2, hash: 7}, {id: 3, hash: 7}}, 3, nil},
		{"one follower differs", []memberHash{{id: 1, hash: 7}, {id: 2, hash: 9}, {id: 3, hash: 7}}, 3, []uint64{2}},
		{"the leader differs from a majority", []memberHash{{id: 1, hash: 5}, {id: 2, hash: 7}, {id: 3, hash: 7}}, 3, []uint64{1}},
		{"no majority: blame who differs from the leader", []memberHash{{id: 1, hash: 5}, {id: 2, hash: 7}}, 3, []uint64{2}},
		{"three-way split of five", []memberHash{{id: 1, hash: 1}, {id: 2, hash: 2}, {id: 3, hash: 3}, {id: 4, hash: 1}}, 5, []uint64{2, 3}},
		{"alone", []memberHash{{id: 1, hash: 1}}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := corrupted(tt.hashes, tt.voters); !slices.Equal(got, tt.want) {
				t.Errorf("corrupted = %v, want %v", got, tt.want)
			}
		})
	}
}
