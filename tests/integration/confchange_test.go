package integration

import (
	"fmt"
	"testing"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// TestMembershipChangesBackToBack: a membership change proposed as soon as
// the previous one returned goes through. Raft drops a conf change proposed
// before it counts the previous one as applied, so the server answers only
// once raft does.
func TestMembershipChangesBackToBack(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	for i := range 30 {
		add, err := c.MemberAddAsLearner(ctx, []string{fmt.Sprintf("http://127.0.0.1:%d", 10+i)})
		if err != nil {
			t.Fatalf("round %d: add: %v", i, err)
		}
		if _, err := c.MemberRemove(ctx, add.Member.ID); err != nil {
			t.Fatalf("round %d: remove right after the add: %v", i, err)
		}
	}
	list, err := c.MemberList(ctx)
	if err != nil || len(list.Members) != 1 {
		t.Fatalf("members: %v %v", list, err)
	}
}
