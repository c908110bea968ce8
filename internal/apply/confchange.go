package apply

import (
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/membership"
)

// applyConfChange applies a membership change. It is validated against the
// applied membership first; an invalid change (proposals can race) is
// applied to raft as a no-op (node ID 0) and its error returned to the
// proposer, so every member ends with the same configuration.
func (a *Applier) applyConfChange(b *pebble.Batch, e *raftpb.Entry) (*raftpb.ConfState, uint64, Result) {
	cc := &raftpb.ConfChange{}
	if err := proto.Unmarshal(e.GetData(), cc); err != nil {
		panic(fmt.Sprintf("apply: undecodable conf change at %d: %v", e.GetIndex(), err))
	}
	m, err := a.validateConfChange(cc)
	if err != nil {
		cc.NodeId = proto.Uint64(0)
		return a.raft.ApplyConfChange(cc), cc.GetId(), Result{Err: err}
	}
	cs := a.raft.ApplyConfChange(cc)
	promoted := a.cluster.Member(m.ID) != nil
	switch cc.GetType() {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		if promoted {
			must(a.cluster.Promote(b, m.ID))
		} else {
			m.IsLearner = cc.GetType() == raftpb.ConfChangeAddLearnerNode
			must(a.cluster.AddMember(b, m))
		}
	case raftpb.ConfChangeRemoveNode:
		must(a.cluster.RemoveMember(b, cc.GetNodeId()))
	case raftpb.ConfChangeUpdateNode:
		must(a.cluster.UpdatePeerURLs(b, m.ID, m.PeerURLs))
	}
	a.recordV2Membership(b, cc, promoted)
	a.membershipChanged = true
	return cs, cc.GetId(), Result{}
}

// validateConfChange checks cc against the applied membership and returns
// the member its context describes.
func (a *Applier) validateConfChange(cc *raftpb.ConfChange) (*membership.Member, error) {
	m := &membership.Member{ID: cc.GetNodeId()}
	if len(cc.GetContext()) > 0 {
		if err := json.Unmarshal(cc.GetContext(), m); err != nil {
			return nil, fmt.Errorf("apply: undecodable member in conf change: %w", err)
		}
		if m.ID != cc.GetNodeId() {
			return nil, fmt.Errorf("apply: conf change for %x describes member %x", cc.GetNodeId(), m.ID)
		}
	}
	switch cc.GetType() {
	case raftpb.ConfChangeAddNode:
		if existing := a.cluster.Member(m.ID); existing != nil {
			return m, a.cluster.ValidatePromote(m.ID)
		}
		return m, a.cluster.ValidateAdd(m)
	case raftpb.ConfChangeAddLearnerNode:
		return m, a.cluster.ValidateAdd(m)
	case raftpb.ConfChangeRemoveNode:
		return m, a.cluster.ValidateRemove(m.ID)
	case raftpb.ConfChangeUpdateNode:
		return m, a.cluster.ValidateUpdate(m.ID, m.PeerURLs)
	}
	return nil, fmt.Errorf("apply: unknown conf change type %v", cc.GetType())
}
