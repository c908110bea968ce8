package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/storage"
	"github.com/cairn-kv/cairn/internal/transport"
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
// are not ours, and opening the engine there would mix the two. etcd's
// marks are its WAL directory and its bbolt file; member/snap alone is not
// one, as this member receives state snapshots there.
func checkForeignDataDir(dataDir string) error {
	for _, sub := range []string{"wal", filepath.Join("snap", "db")} {
		if _, err := os.Stat(filepath.Join(memberDir(dataDir), sub)); err == nil {
			return fmt.Errorf("data dir %q holds etcd's own files (member/%s); restore an etcd snapshot into a new data dir instead", dataDir, filepath.ToSlash(sub))
		}
	}
	return nil
}

// loadOrBootstrap reads the member's identity from an existing data dir, or
// creates it: from --initial-cluster for a new cluster, or by asking the
// running cluster when joining one. As in etcd, the initial flags are
// ignored once the data dir exists.
func (s *Server) loadOrBootstrap(ctx context.Context, db *pebble.DB) (identity, bool, error) {
	cfg := s.cfg
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
	var id identity
	if cfg.InitialClusterState == config.ClusterStateExisting {
		var members []*membership.Member
		var clientTLS *tls.Config
		if _, clientTLS, err = s.peerTLS(); err != nil {
			return identity{}, false, err
		}
		fetch := func(ctx context.Context, urls []string) ([]byte, error) {
			return transport.FetchClusterInfo(ctx, urls, clientTLS)
		}
		id, members, err = joinIdentity(ctx, cfg, fetch)
		s.joinMembers = members
	} else {
		id, err = bootstrapIdentity(cfg)
	}
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

// bootstrapIdentity derives a new cluster's IDs from --initial-cluster:
// every member computes the same ones.
func bootstrapIdentity(cfg *config.Config) (identity, error) {
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

// joinIdentity asks the members of a running cluster (the other entries of
// --initial-cluster) who this member is: it was added with MemberAdd under
// its peer URLs, and that entry holds its ID.
func joinIdentity(ctx context.Context, cfg *config.Config, fetch func(ctx context.Context, urls []string) ([]byte, error)) (identity, []*membership.Member, error) {
	self := urlStrings(cfg.InitialAdvertisePeerURLs)
	var urls []string
	for name, us := range cfg.InitialCluster {
		if name != cfg.Name {
			urls = append(urls, urlStrings(us)...)
		}
	}
	if len(urls) == 0 {
		return identity{}, nil, errors.New("--initial-cluster-state=existing needs the running members in --initial-cluster")
	}
	// The member that answers may not have applied the MemberAdd yet:
	// ask again until one knows us.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var lastErr error
		for _, u := range urls {
			data, err := fetch(ctx, []string{u})
			if err != nil {
				lastErr = fmt.Errorf("cannot reach the cluster at %v to join it: %w", urls, err)
				continue
			}
			var info clusterInfo
			if err := json.Unmarshal(data, &info); err != nil {
				return identity{}, nil, fmt.Errorf("decode cluster info: %w", err)
			}
			for _, m := range info.Members {
				if sameURLs(m.PeerURLs, self) {
					return identity{memberID: m.ID, clusterID: info.ClusterID}, info.Members, nil
				}
			}
			lastErr = fmt.Errorf("no member of cluster %x has peer URLs %v: add this member with MemberAdd first", info.ClusterID, self)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return identity{}, nil, lastErr
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func sameURLs(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func urlStrings(us []url.URL) []string {
	out := make([]string, len(us))
	for i := range us {
		out[i] = us[i].String()
	}
	return out
}
