package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/storage"
)

// memberDir is where the engine lives inside the data dir.
func memberDir(dataDir string) string { return filepath.Join(dataDir, "member") }

// identity is who this member is: fixed when its data dir is created.
type identity struct {
	memberID  uint64
	clusterID uint64
	// peers is set only when a new cluster is bootstrapped: raft's
	// initial configuration.
	peers []raft.Peer
}

// checkForeignDataDir refuses a data dir written by etcd itself: its files
// are not ours, and opening the engine there would mix the two.
func checkForeignDataDir(dataDir string) error {
	for _, sub := range []string{"wal", "snap"} {
		if _, err := os.Stat(filepath.Join(memberDir(dataDir), sub)); err == nil {
			return fmt.Errorf("data dir %q holds etcd's own files (member/%s); restore an etcd snapshot into a new data dir instead", dataDir, sub)
		}
	}
	return nil
}

// loadOrBootstrap reads the member's identity from an existing data dir, or
// creates it from the initial-cluster flags. As in etcd, the initial flags
// are ignored once the data dir exists.
func loadOrBootstrap(db *pebble.DB, cfg *config.Config) (identity, bool, error) {
	local, err := storage.GetUint64(db, storage.KeyLocalMember)
	if err != nil {
		return identity{}, false, err
	}
	if local != 0 {
		cid, err := storage.GetUint64(db, storage.KeyClusterID)
		if err != nil {
			return identity{}, false, err
		}
		return identity{memberID: local, clusterID: cid}, false, nil
	}
	id, err := bootstrapIdentity(cfg)
	if err != nil {
		return identity{}, false, err
	}
	b := db.NewBatch()
	defer b.Close()
	if err := b.Set(storage.KeyLocalMember, storage.PutUint64(id.memberID), nil); err != nil {
		return identity{}, false, err
	}
	if err := b.Set(storage.KeyClusterID, storage.PutUint64(id.clusterID), nil); err != nil {
		return identity{}, false, err
	}
	return id, true, b.Commit(pebble.Sync)
}

var errJoinUnsupported = errors.New("joining an existing cluster (--initial-cluster-state=existing) is not supported yet")

func bootstrapIdentity(cfg *config.Config) (identity, error) {
	if cfg.InitialClusterState == "existing" {
		return identity{}, errJoinUnsupported
	}
	if len(cfg.InitialCluster) > 1 {
		return identity{}, fmt.Errorf("--initial-cluster names %d members; clusters of more than one member are not supported yet", len(cfg.InitialCluster))
	}
	names := make([]string, 0, len(cfg.InitialCluster))
	for name := range cfg.InitialCluster {
		names = append(names, name)
	}
	slices.Sort(names)
	var id identity
	var ids []uint64
	for _, name := range names {
		m := membership.NewMember(name, urlStrings(cfg.InitialCluster[name]), cfg.InitialClusterToken, nil)
		ctx, err := json.Marshal(m)
		if err != nil {
			return identity{}, err
		}
		id.peers = append(id.peers, raft.Peer{ID: m.ID, Context: ctx})
		ids = append(ids, m.ID)
		if name == cfg.Name {
			id.memberID = m.ID
		}
	}
	if id.memberID == 0 {
		return identity{}, fmt.Errorf("--initial-cluster has no entry for member %q", cfg.Name)
	}
	id.clusterID = membership.ClusterID(ids)
	return id, nil
}

func urlStrings(us []url.URL) []string {
	out := make([]string, len(us))
	for i := range us {
		out[i] = us[i].String()
	}
	return out
}
