package apply

import (
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/membership"
)

// applyConfChange applies a membership change: raft's configuration first,
// then the member records. The change's context carries the member as JSON.
func (a *Applier) applyConfChange(b *pebble.Batch, e *raftpb.Entry) (*raftpb.ConfState, uint64, Result) {
	cc := &raftpb.ConfChange{}
	if err := proto.Unmarshal(e.GetData(), cc); err != nil {
		panic(fmt.Sprintf("apply: undecodable conf change at %d: %v", e.GetIndex(), err))
	}
	cs := a.raft.ApplyConfChange(cc)
	switch cc.GetType() {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		m := &membership.Member{}
		if err := json.Unmarshal(cc.GetContext(), m); err != nil {
			panic(fmt.Sprintf("apply: undecodable member in conf change at %d: %v", e.GetIndex(), err))
		}
		m.IsLearner = cc.GetType() == raftpb.ConfChangeAddLearnerNode
		must(a.cluster.AddMember(b, m))
	case raftpb.ConfChangeRemoveNode:
		must(a.cluster.RemoveMember(b, cc.GetNodeId()))
	}
	return cs, cc.GetId(), Result{}
}
