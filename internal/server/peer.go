package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/apply"
	"github.com/cairn-kv/cairn/internal/lease"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/storage"
	"github.com/cairn-kv/cairn/internal/v3rpc"
)

// peerHandler is the member's side of incoming peer traffic.
type peerHandler struct{ s *Server }

// errRaftNotStarted refuses peer messages that arrive between the peer
// listener opening and raft starting; raft resends what matters.
var errRaftNotStarted = errors.New("raft not started yet")

func (h peerHandler) Process(ctx context.Context, m *raftpb.Message) error {
	n := h.s.liveNode.Load()
	if n == nil {
		return errRaftNotStarted
	}
	return n.Step(ctx, m)
}

func (h peerHandler) IsRemoved(id uint64) bool { return h.s.cluster.IsRemoved(id) }

// ReceiveSnapshot writes the state snapshot to a file under member/snap,
// checking its integrity on the way and syncing it, then hands the message
// (its Data now the file's path) to raft.
func (h peerHandler) ReceiveSnapshot(ctx context.Context, m *raftpb.Message, data io.Reader) error {
	meta := m.GetSnapshot().GetMetadata()
	dir := filepath.Join(memberDir(h.s.cfg.DataDir), "snap")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, fmt.Sprintf("%016x-%016x.state", meta.GetTerm(), meta.GetIndex()))
	if err := writeVerified(path, data); err != nil {
		return err
	}
	h.s.lg.Info("received state snapshot", "index", meta.GetIndex(), "term", meta.GetTerm(), "from", membership.IDString(m.GetFrom()))
	m.Snapshot.Data = []byte(path)
	return h.Process(ctx, m)
}

// writeVerified copies a state snapshot to path while verifying it, and
// syncs it, so only complete snapshots are ever offered to raft.
func writeVerified(path string, data io.Reader) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	err = storage.ReadStateSnapshot(io.TeeReader(data, f), func(k, v []byte) error { return nil })
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// clusterInfo is what a joining member learns from the cluster.
type clusterInfo struct {
	ClusterID uint64               `json:"cluster_id"`
	Members   []*membership.Member `json:"members"`
}

func (h peerHandler) ClusterInfo() ([]byte, error) {
	return json.Marshal(clusterInfo{ClusterID: h.s.clusterID, Members: h.s.cluster.Members()})
}

func (h peerHandler) LeaseRenew(ctx context.Context, id int64) (int64, error) {
	return h.s.lessor.Renew(id)
}

func (h peerHandler) LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	if !h.s.lessor.IsPrimary() {
		return nil, lease.ErrNotPrimary
	}
	return h.s.localTimeToLive(r)
}

// OpenSnapshot implements transport.SnapshotSource: a consistent view of the
// state machine, with the message's metadata rewritten to describe exactly
// that state (its applied index, term and conf state).
func (s *Server) OpenSnapshot(m *raftpb.Message) (*raftpb.Message, io.ReadCloser, error) {
	snap := s.eng.DB().NewSnapshot()
	index, term, err := apply.LoadApplied(snap)
	if err != nil {
		snap.Close()
		return nil, nil, err
	}
	cs := &raftpb.ConfState{}
	if v, ok, err := storage.Get(snap, storage.KeyConfState); err != nil {
		snap.Close()
		return nil, nil, err
	} else if ok {
		if err := proto.Unmarshal(v, cs); err != nil {
			snap.Close()
			return nil, nil, err
		}
	}
	m = proto.CloneOf(m)
	m.Snapshot = &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
		Index: proto.Uint64(index), Term: proto.Uint64(term), ConfState: cs,
	}}
	pr, pw := io.Pipe()
	go func() {
		err := storage.WriteStateSnapshot(pw, snap)
		snap.Close()
		pw.CloseWithError(err)
	}()
	return m, pr, nil
}

func (h peerHandler) MemberPromote(ctx context.Context, id uint64) error {
	if n := h.s.liveNode.Load(); n == nil || !n.IsLeader() {
		return v3rpc.ErrNotLeader
	}
	return h.s.promoteLearner(ctx, id)
}
