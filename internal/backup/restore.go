package backup

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/auth"
	"github.com/cairn-kv/cairn/internal/lease"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/mvcc"
	"github.com/cairn-kv/cairn/internal/snapshot"
	"github.com/cairn-kv/cairn/internal/storage"
)

// RestoreConfig describes the member a snapshot is restored into.
type RestoreConfig struct {
	// DataDir is the new member's data directory; it must not hold a
	// member yet. WALDir, when set, is where its write-ahead log goes
	// (the member must then run with the same --wal-dir).
	DataDir string
	WALDir  string
	// Name is this member's name in InitialCluster.
	Name string
	// InitialCluster and InitialClusterToken define the new cluster, as
	// for bootstrapping one: every member restored with the same values
	// computes the same member and cluster IDs.
	InitialCluster      map[string][]url.URL
	InitialClusterToken string
	// BumpRevision is added to the snapshot's newest revision; with
	// MarkCompacted that revision is also marked compacted.
	BumpRevision  int64
	MarkCompacted bool
	Logger        *slog.Logger
}

// Restore builds a member's data directory from snapshot file f: the
// key-value history, leases and auth state of the file, and a new
// membership from the configuration (the file's members are those of the
// old cluster). The member then starts as if it had applied the membership
// entries of a new cluster, without log entries to replay.
func Restore(ctx context.Context, cfg RestoreConfig, f *snapshot.File) (err error) {
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	members, local, err := newMembers(cfg)
	if err != nil {
		return err
	}
	dir := filepath.Join(cfg.DataDir, "member")
	if _, statErr := os.Stat(dir); statErr == nil {
		return fmt.Errorf("data-dir %q already holds a member", cfg.DataDir)
	}
	eng, err := storage.Open(dir, storage.Options{WALDir: cfg.WALDir}, lg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := eng.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	r := &restorer{db: eng.DB(), f: f, cfg: cfg}
	if err := r.history(ctx); err != nil {
		return err
	}
	if err := r.rest(members, local); err != nil {
		return err
	}
	lg.Info("restored snapshot", "data-dir", cfg.DataDir, "member-id", membership.IDString(local),
		"revision", r.revision, "keys", r.keys)
	return nil
}

// newMembers derives the new cluster's members from the configuration, in
// ID order, and this member's ID.
func newMembers(cfg RestoreConfig) ([]*membership.Member, uint64, error) {
	var members []*membership.Member
	var local uint64
	for name, us := range cfg.InitialCluster {
		urls := make([]string, len(us))
		for i := range us {
			urls[i] = us[i].String()
		}
		m := membership.NewMember(name, urls, cfg.InitialClusterToken, nil)
		members = append(members, m)
		if name == cfg.Name {
			local = m.ID
		}
	}
	if local == 0 {
		return nil, 0, fmt.Errorf("couldn't find local name %q in the initial cluster configuration", cfg.Name)
	}
	slices.SortFunc(members, func(a, b *membership.Member) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return members, local, nil
}

type restorer struct {
	db       *pebble.DB
	f        *snapshot.File
	cfg      RestoreConfig
	revision int64
	keys     int
}

// history imports the key-value versions and leases.
func (r *restorer) history(ctx context.Context) error {
	meta, err := r.f.Meta()
	if err != nil {
		return err
	}
	im := mvcc.NewImporter(r.db, meta.ScheduledCompact, meta.FinishedCompact)
	defer im.Abort()
	err = r.f.Versions(func(v snapshot.Version) error {
		if r.keys%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		r.keys++
		r.revision = max(r.revision, v.Main)
		return im.Add(v.Main, v.Sub, v.Tombstone, v.KV)
	})
	if err != nil {
		return err
	}
	leases, err := r.f.Leases()
	if err != nil {
		return err
	}
	granted := make(map[int64]bool, len(leases))
	b := r.db.NewBatch()
	defer b.Close()
	for _, l := range leases {
		granted[l.ID] = true
		if err := lease.Import(b, lease.Exported{ID: l.ID, TTL: l.TTL, RemainingTTL: l.RemainingTTL}); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	// A key attached to a lease the file does not hold (etcd revokes a
	// lease and its keys in one step, so only a damaged file has one)
	// keeps its lease ID but no index entry: nothing would ever expire it.
	attach := func(b *pebble.Batch, id int64, key []byte) error {
		if !granted[id] {
			return nil
		}
		return lease.AttachKey(b, id, key)
	}
	return im.Finish(attach, r.cfg.BumpRevision, r.cfg.MarkCompacted)
}

// rest writes the auth state, the new membership and raft's starting point,
// and this member's identity last: a data dir without it is not a member,
// so an interrupted restore is never mistaken for a finished one.
func (r *restorer) rest(members []*membership.Member, local uint64) error {
	a, err := r.f.Auth()
	if err != nil {
		return err
	}
	b := r.db.NewBatch()
	defer b.Close()
	if a != nil {
		if err := auth.Import(b, &auth.State{Enabled: a.Enabled, Revision: a.Revision, Users: a.Users, Roles: a.Roles}); err != nil {
			return err
		}
	}
	ids := make([]uint64, len(members))
	for i, m := range members {
		ids[i] = m.ID
		if err := membership.Import(b, m); err != nil {
			return err
		}
	}
	if err := raftStart(b, ids); err != nil {
		return err
	}
	if err := b.Set(storage.KeyLocalMember, storage.PutUint64(local), nil); err != nil {
		return err
	}
	if err := b.Set(storage.KeyClusterID, storage.PutUint64(membership.ClusterID(ids)), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// raftStart writes the raft state of a member that has applied the n
// membership entries a new cluster starts with, at term 1: the log is
// truncated there, so the members elect a leader and carry on from the
// next index with nothing to replay.
func raftStart(b *pebble.Batch, voters []uint64) error {
	n := uint64(len(voters))
	if n == 0 {
		return errors.New("restore: no members")
	}
	hs, err := proto.Marshal(&raftpb.HardState{Term: proto.Uint64(1), Commit: proto.Uint64(n)})
	if err != nil {
		return err
	}
	cs, err := proto.Marshal(&raftpb.ConfState{Voters: voters})
	if err != nil {
		return err
	}
	snap, err := proto.Marshal(&raftpb.SnapshotMetadata{Index: proto.Uint64(n), Term: proto.Uint64(1)})
	if err != nil {
		return err
	}
	applied := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, n), 1)
	for _, kv := range []struct{ k, v []byte }{
		{storage.KeyHardState, hs},
		{storage.KeyConfState, cs},
		{storage.KeyRaftSnapshot, snap},
		{storage.KeyApplied, applied},
	} {
		if err := b.Set(kv.k, kv.v, nil); err != nil {
			return err
		}
	}
	return nil
}
