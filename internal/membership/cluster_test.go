package membership

import (
	"errors"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// apply commits one membership change, as the applier does.
func apply(t *testing.T, db *pebble.DB, fn func(b *pebble.Batch) error) {
	t.Helper()
	b := db.NewBatch()
	defer b.Close()
	if err := fn(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

func TestClusterValidatesChangesAndPersists(t *testing.T) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := NewMember("a", []string{"http://10.0.0.1:2380"}, "tok", nil)
	b := NewMember("b", []string{"http://10.0.0.2:2380"}, "tok", nil)
	c, err := Load(db, ClusterID([]uint64{a.ID, b.ID}), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, db, func(bt *pebble.Batch) error { return c.AddMember(bt, a) })
	apply(t, db, func(bt *pebble.Batch) error { return c.AddMember(bt, b) })
	l := NewMember("", []string{"http://10.0.0.3:2380"}, "tok", nil)
	l.IsLearner = true
	if err := c.ValidateAdd(l); err != nil {
		t.Fatalf("a fresh learner: %v", err)
	}
	apply(t, db, func(bt *pebble.Batch) error { return c.AddMember(bt, l) })

	taken := NewMember("", []string{"http://10.0.0.9:2380", "http://10.0.0.2:2380"}, "tok", nil)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"add an existing ID", c.ValidateAdd(a), ErrIDExists},
		{"add with another member's peer URL", c.ValidateAdd(taken), ErrPeerURLExists},
		{"update a missing member", c.ValidateUpdate(1234, []string{"http://10.0.0.8:2380"}), ErrIDNotFound},
		{"update to another member's URL", c.ValidateUpdate(a.ID, []string{"http://10.0.0.2:2380"}), ErrPeerURLExists},
		{"update to its own URL", c.ValidateUpdate(a.ID, a.PeerURLs), nil},
		{"remove a missing member", c.ValidateRemove(1234), ErrIDNotFound},
		{"promote a voter", c.ValidatePromote(a.ID), ErrMemberNotLearner},
		{"promote a missing member", c.ValidatePromote(1234), ErrIDNotFound},
		{"promote the learner", c.ValidatePromote(l.ID), nil},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if got := len(c.Voters()); got != 2 {
		t.Errorf("%d voters, want 2 (the learner does not vote)", got)
	}

	// Removal is for good: the ID can neither come back nor be changed.
	apply(t, db, func(bt *pebble.Batch) error { return c.RemoveMember(bt, b.ID) })
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"re-add", c.ValidateAdd(b)},
		{"update", c.ValidateUpdate(b.ID, []string{"http://10.0.0.7:2380"})},
		{"remove again", c.ValidateRemove(b.ID)},
		{"promote", c.ValidatePromote(b.ID)},
	} {
		if !errors.Is(tc.err, ErrIDRemoved) {
			t.Errorf("%s of a removed member: got %v, want %v", tc.name, tc.err, ErrIDRemoved)
		}
	}
	// Its peer URL is free again.
	reuse := NewMember("", b.PeerURLs, "tok2", nil)
	if err := c.ValidateAdd(reuse); err != nil {
		t.Errorf("add at a removed member's URL: %v", err)
	}

	apply(t, db, func(bt *pebble.Batch) error { return c.Promote(bt, l.ID) })
	apply(t, db, func(bt *pebble.Batch) error {
		return c.SetAttributes(bt, l.ID, "l", []string{"http://10.0.0.3:2379"})
	})
	// A restart reads back the same membership.
	again, err := Load(db, c.ID(), c.LocalID())
	if err != nil {
		t.Fatal(err)
	}
	if !again.IsRemoved(b.ID) || again.Member(b.ID) != nil {
		t.Error("the removal did not persist")
	}
	got := again.Member(l.ID)
	if got == nil || got.IsLearner || got.Name != "l" || !slices.Equal(got.ClientURLs, []string{"http://10.0.0.3:2379"}) {
		t.Errorf("the promoted, published member reads back as %+v", got)
	}
	if n := len(again.Voters()); n != 2 {
		t.Errorf("%d voters after the restart, want 2", n)
	}
}
