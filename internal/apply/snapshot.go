package apply

import (
	"errors"
	"fmt"
	"os"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/storage"
)

// installSnapshot replaces the state machine with the state snapshot snap
// names (its Data is the path of the received file), then reloads every
// in-memory view of the state.
func (a *Applier) installSnapshot(snap *raftpb.Snapshot) {
	if a.onSnapshot != nil {
		a.onSnapshot(true)
		defer a.onSnapshot(false)
	}
	if err := a.InstallPending(); err != nil {
		panic(fmt.Sprintf("apply: install snapshot at %d: %v", snap.GetMetadata().GetIndex(), err))
	}
	if a.appliedIndex != snap.GetMetadata().GetIndex() {
		panic(fmt.Sprintf("apply: installed snapshot holds index %d, raft expected %d", a.appliedIndex, snap.GetMetadata().GetIndex()))
	}
}

// InstallPending finishes the installation of a received state snapshot if
// one is pending (after a crash, at startup; or right after raft accepted
// it). It is idempotent.
func (a *Applier) InstallPending() error {
	path, ok, err := storage.Get(a.db, storage.KeySnapshotPending)
	if err != nil || !ok {
		return err
	}
	f, err := os.Open(string(path))
	if err != nil {
		return err
	}
	defer f.Close()
	err = a.kv.Restore(func() error { return storage.InstallState(a.db, f) })
	if err != nil {
		return err
	}
	if err := a.reload(); err != nil {
		return err
	}
	if err := a.db.Delete(storage.KeySnapshotPending, pebble.Sync); err != nil {
		return err
	}
	if err := os.Remove(string(path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		a.lg.Warn("cannot remove installed snapshot file", "path", string(path), "error", err)
	}
	a.lg.Info("installed state snapshot", "index", a.appliedIndex, "rev", a.kv.Rev())
	return nil
}

// reload rereads the applied index, conf state, leases and membership.
func (a *Applier) reload() error {
	idx, term, err := LoadApplied(a.db)
	if err != nil {
		return err
	}
	a.appliedIndex, a.appliedTerm = idx, term
	cs := &raftpb.ConfState{}
	if v, ok, err := storage.Get(a.db, storage.KeyConfState); err != nil {
		return err
	} else if ok {
		if err := proto.Unmarshal(v, cs); err != nil {
			return err
		}
	}
	a.confRec.SetConfState(cs)
	if err := a.lessor.Reload(); err != nil {
		return err
	}
	if err := a.cluster.Reload(a.db); err != nil {
		return err
	}
	if err := a.alarms.Reload(); err != nil {
		return err
	}
	if err := a.auth.Reload(); err != nil {
		return err
	}
	if a.v2 != nil {
		if err := a.v2.Reload(a.db); err != nil {
			return err
		}
	}
	a.membershipChanged = true
	return nil
}
