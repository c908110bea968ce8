package backup

import (
	"encoding/json"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/alarm"
	"github.com/cairn-kv/cairn/internal/apply"
	"github.com/cairn-kv/cairn/internal/auth"
	"github.com/cairn-kv/cairn/internal/lease"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/mvcc"
	"github.com/cairn-kv/cairn/internal/snapshot"
	"github.com/cairn-kv/cairn/internal/storage"
)

// StorageVersion is the backend schema version snapshot files declare: the
// one of the etcd release whose API Cairn speaks.
const StorageVersion = "3.6.0"

// Source is a snapshot.Source over a consistent view of the engine (a
// pebble snapshot): everything it returns is as of one applied index.
type Source struct {
	r pebble.Reader
}

var (
	_ snapshot.Source      = (*Source)(nil)
	_ snapshot.AlarmSource = (*Source)(nil)
)

// NewSource reads from r, which must not change while the snapshot is
// written.
func NewSource(r pebble.Reader) *Source { return &Source{r: r} }

// Versions implements snapshot.Source.
func (s *Source) Versions(fn func(snapshot.Version) error) error {
	return mvcc.ExportVersions(s.r, func(v mvcc.ExportedVersion) error {
		return fn(snapshot.Version{Main: v.Main, Sub: v.Sub, Tombstone: v.Tombstone, KV: v.KV})
	})
}

// Leases implements snapshot.Source.
func (s *Source) Leases() ([]snapshot.Lease, error) {
	ls, err := lease.Export(s.r)
	if err != nil {
		return nil, err
	}
	out := make([]snapshot.Lease, len(ls))
	for i, l := range ls {
		out[i] = snapshot.Lease{ID: l.ID, TTL: l.TTL, RemainingTTL: l.RemainingTTL}
	}
	return out, nil
}

// Members implements snapshot.Source.
func (s *Source) Members() ([]snapshot.Member, []uint64, error) {
	c, err := membership.Load(s.r, 0, 0)
	if err != nil {
		return nil, nil, err
	}
	var out []snapshot.Member
	for _, m := range c.Members() {
		out = append(out, snapshot.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner})
	}
	return out, c.RemovedIDs(), nil
}

// Auth implements snapshot.Source.
func (s *Source) Auth() (*snapshot.Auth, error) {
	st, err := auth.Export(s.r)
	if err != nil {
		return nil, err
	}
	return &snapshot.Auth{Enabled: st.Enabled, Revision: st.Revision, Users: st.Users, Roles: st.Roles}, nil
}

// Alarms implements snapshot.AlarmSource.
func (s *Source) Alarms() ([]*pb.AlarmMember, error) { return alarm.Export(s.r) }

// Meta implements snapshot.Source.
func (s *Source) Meta() (*snapshot.Meta, error) {
	index, term, err := apply.LoadApplied(s.r)
	if err != nil {
		return nil, err
	}
	_, scheduled, finished, err := mvcc.Revisions(s.r)
	if err != nil {
		return nil, err
	}
	cs, err := s.confStateJSON()
	if err != nil {
		return nil, err
	}
	version, _, err := storage.Get(s.r, storage.KeyClusterVersion)
	if err != nil {
		return nil, err
	}
	return &snapshot.Meta{
		ConsistentIndex:  index,
		Term:             term,
		ScheduledCompact: max(scheduled, 0),
		FinishedCompact:  max(finished, 0),
		ConfState:        cs,
		StorageVersion:   StorageVersion,
		ClusterVersion:   string(version),
	}, nil
}

// confStateJSON is the applied conf state in the JSON form etcd's backend
// keeps: empty lists left out, auto_leave always present.
func (s *Source) confStateJSON() ([]byte, error) {
	v, ok, err := storage.Get(s.r, storage.KeyConfState)
	if err != nil || !ok {
		return nil, err
	}
	cs := &raftpb.ConfState{}
	if err := proto.Unmarshal(v, cs); err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Voters         []uint64 `json:"voters,omitempty"`
		Learners       []uint64 `json:"learners,omitempty"`
		VotersOutgoing []uint64 `json:"voters_outgoing,omitempty"`
		LearnersNext   []uint64 `json:"learners_next,omitempty"`
		AutoLeave      bool     `json:"auto_leave"`
	}{cs.Voters, cs.Learners, cs.VotersOutgoing, cs.LearnersNext, cs.GetAutoLeave()})
}
