package server

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/membership"
)

// forceNewCluster makes this member the only one of its cluster, keeping
// its data (etcd's --force-new-cluster, for a cluster that lost its quorum
// for good). Like etcd it rewrites the log: entries past the commit index
// (as far as this member knows, never committed) are dropped, and committed removals of every other
// member are appended, so that applying the log leaves this member alone;
// it then elects itself. The other members must never be started again
// with their old data dirs.
func (s *Server) forceNewCluster() error {
	self := s.cluster.Member(s.memberID)
	if self == nil {
		return errors.New("--force-new-cluster: this member is not in its own cluster's membership")
	}
	var others []uint64
	for _, m := range s.cluster.Members() {
		if m.ID != s.memberID {
			others = append(others, m.ID)
		}
	}
	if len(others) == 0 {
		return nil
	}
	// What was applied was committed, whether or not the stored commit
	// index got that far before the member stopped (see RaiseCommit):
	// dropping such entries would let the appended removals take indexes
	// the state has already applied.
	s.logStore.RaiseCommit(s.applier.AppliedIndex())
	hs, _, err := s.logStore.InitialState()
	if err != nil {
		return err
	}
	commit, term := hs.GetCommit(), hs.GetTerm()
	ents := make([]*raftpb.Entry, 0, len(others))
	for i, id := range others {
		cc := &raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: proto.Uint64(id)}
		data, err := proto.Marshal(cc)
		if err != nil {
			return err
		}
		ents = append(ents, &raftpb.Entry{
			Type:  raftpb.EntryConfChange.Enum(),
			Term:  proto.Uint64(term),
			Index: proto.Uint64(commit + 1 + uint64(i)),
			Data:  data,
		})
	}
	hs.Commit = proto.Uint64(commit + uint64(len(ents)))
	if err := s.logStore.Append(hs, ents, true); err != nil {
		return fmt.Errorf("--force-new-cluster: rewrite the log: %w", err)
	}
	ids := make([]string, len(others))
	for i, id := range others {
		ids[i] = membership.IDString(id)
	}
	s.lg.Warn("forcing a new one-member cluster: removing every other member", "removed", ids,
		"commit-index", hs.GetCommit(), "dropped-uncommitted-after", commit)
	return nil
}
