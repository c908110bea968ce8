// Package membership holds the cluster's members: their IDs (derived from
// peer URLs and the cluster token exactly as etcd derives them, so every
// member computes the same ones), names, URLs and learner flags, and the
// cluster ID.
package membership

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-kv/cairn/internal/storage"
)

// Member is one cluster member. The JSON form is what raft conf-change
// contexts carry and what the engine stores.
type Member struct {
	ID         uint64   `json:"id"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs,omitempty"`
	IsLearner  bool     `json:"isLearner,omitempty"`
}

// NewMember builds a member whose ID is the first 8 bytes of the SHA-1 of
// its sorted peer URLs and the cluster token, plus the time when given (for
// members added at runtime, so re-adding the same URLs yields a new ID).
func NewMember(name string, peerURLs []string, token string, now *time.Time) *Member {
	urls := slices.Clone(peerURLs)
	sort.Strings(urls)
	var b []byte
	for _, u := range urls {
		b = append(b, u...)
	}
	b = append(b, token...)
	if now != nil {
		b = binary.BigEndian.AppendUint64(b, uint64(now.Unix()))
	}
	sum := sha1.Sum(b)
	return &Member{ID: binary.BigEndian.Uint64(sum[:8]), Name: name, PeerURLs: urls}
}

// ClusterID derives the cluster ID from the initial members' IDs.
func ClusterID(ids []uint64) uint64 {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	var b []byte
	for _, id := range sorted {
		b = binary.BigEndian.AppendUint64(b, id)
	}
	sum := sha1.Sum(b)
	return binary.BigEndian.Uint64(sum[:8])
}

// Clone returns a deep copy.
func (m *Member) Clone() *Member {
	c := *m
	c.PeerURLs = slices.Clone(m.PeerURLs)
	c.ClientURLs = slices.Clone(m.ClientURLs)
	return &c
}

// IDString prints an ID the way etcd prints member IDs.
func IDString(id uint64) string { return fmt.Sprintf("%x", id) }

// Cluster is the applied membership. The applier changes it; everyone else
// reads it.
type Cluster struct {
	mu struct {
		sync.RWMutex
		members map[uint64]*Member
		removed map[uint64]bool
		version string
	}
	clusterID uint64
	localID   uint64
}

// Load reads the membership from the engine.
func Load(r pebble.Reader, clusterID, localID uint64) (*Cluster, error) {
	c := &Cluster{clusterID: clusterID, localID: localID}
	c.mu.members = map[uint64]*Member{}
	c.mu.removed = map[uint64]bool{}
	it, err := r.NewIter(&pebble.IterOptions{
		LowerBound: []byte{storage.PrefixMember},
		UpperBound: storage.PrefixEnd(storage.PrefixMember),
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		m := &Member{}
		if err := json.Unmarshal(it.Value(), m); err != nil {
			return nil, fmt.Errorf("membership: decode member: %w", err)
		}
		c.mu.members[m.ID] = m
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if err := loadRemoved(r, c.mu.removed); err != nil {
		return nil, err
	}
	v, _, err := storage.Get(r, storage.KeyClusterVersion)
	if err != nil {
		return nil, err
	}
	c.mu.version = string(v)
	return c, nil
}

func loadRemoved(r pebble.Reader, into map[uint64]bool) error {
	it, err := r.NewIter(&pebble.IterOptions{
		LowerBound: []byte{storage.PrefixRemovedMember},
		UpperBound: storage.PrefixEnd(storage.PrefixRemovedMember),
	})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if len(it.Key()) == 9 {
			into[binary.BigEndian.Uint64(it.Key()[1:])] = true
		}
	}
	return it.Error()
}

// ID is the cluster ID.
func (c *Cluster) ID() uint64 { return c.clusterID }

// LocalID is this member's ID.
func (c *Cluster) LocalID() uint64 { return c.localID }

// Members returns copies of all members ordered by ID.
func (c *Cluster) Members() []*Member {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Member, 0, len(c.mu.members))
	for _, m := range c.mu.members {
		out = append(out, m.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Member returns a copy of one member, or nil.
func (c *Cluster) Member(id uint64) *Member {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if m, ok := c.mu.members[id]; ok {
		return m.Clone()
	}
	return nil
}

// Version is the agreed cluster version ("" before it is set).
func (c *Cluster) Version() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.version
}

// AddMember records a member added by a committed conf change.
func (c *Cluster) AddMember(b *pebble.Batch, m *Member) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.members[m.ID] = m.Clone()
	return putMember(b, m)
}

// RemoveMember records a member removed by a committed conf change.
func (c *Cluster) RemoveMember(b *pebble.Batch, id uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.mu.members, id)
	c.mu.removed[id] = true
	if err := b.Delete(storage.MemberKey(id), nil); err != nil {
		return err
	}
	return b.Set(storage.RemovedMemberKey(id), nil, nil)
}

// SetAttributes publishes a member's name and client URLs.
func (c *Cluster) SetAttributes(b *pebble.Batch, id uint64, name string, clientURLs []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.mu.members[id]
	if !ok {
		return nil // removed meanwhile; nothing to publish
	}
	m.Name, m.ClientURLs = name, slices.Clone(clientURLs)
	return putMember(b, m)
}

// SetVersion records the agreed cluster version.
func (c *Cluster) SetVersion(b *pebble.Batch, v string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.version = v
	return b.Set(storage.KeyClusterVersion, []byte(v), nil)
}

func putMember(b *pebble.Batch, m *Member) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return b.Set(storage.MemberKey(m.ID), data, nil)
}

// Errors of membership changes, with etcd's texts.
var (
	ErrIDRemoved        = errors.New("membership: ID removed")
	ErrIDExists         = errors.New("membership: ID exists")
	ErrIDNotFound       = errors.New("membership: ID not found")
	ErrPeerURLExists    = errors.New("membership: peerURL exists")
	ErrMemberNotLearner = errors.New("membership: can only promote a learner member")
	ErrTooManyLearners  = errors.New("membership: too many learner members in cluster")
)

// IsRemoved reports whether id was removed from the cluster for good.
func (c *Cluster) IsRemoved(id uint64) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.removed[id]
}

// ValidateAdd checks that m can join: a fresh ID and unused peer URLs.
func (c *Cluster) ValidateAdd(m *Member) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.mu.removed[m.ID] {
		return ErrIDRemoved
	}
	if _, ok := c.mu.members[m.ID]; ok {
		return ErrIDExists
	}
	return c.checkURLsLocked(m.ID, m.PeerURLs)
}

// ValidateUpdate checks that member id exists and urls are not another's.
func (c *Cluster) ValidateUpdate(id uint64, urls []string) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.mu.removed[id] {
		return ErrIDRemoved
	}
	if _, ok := c.mu.members[id]; !ok {
		return ErrIDNotFound
	}
	return c.checkURLsLocked(id, urls)
}

// ValidateRemove checks that member id exists.
func (c *Cluster) ValidateRemove(id uint64) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.mu.removed[id] {
		return ErrIDRemoved
	}
	if _, ok := c.mu.members[id]; !ok {
		return ErrIDNotFound
	}
	return nil
}

// ValidatePromote checks that member id exists and is a learner.
func (c *Cluster) ValidatePromote(id uint64) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.mu.members[id]
	if !ok {
		if c.mu.removed[id] {
			return ErrIDRemoved
		}
		return ErrIDNotFound
	}
	if !m.IsLearner {
		return ErrMemberNotLearner
	}
	return nil
}

func (c *Cluster) checkURLsLocked(self uint64, urls []string) error {
	for id, other := range c.mu.members {
		if id == self {
			continue
		}
		for _, u := range other.PeerURLs {
			if slices.Contains(urls, u) {
				return ErrPeerURLExists
			}
		}
	}
	return nil
}

// UpdatePeerURLs records a member's new peer URLs.
func (c *Cluster) UpdatePeerURLs(b *pebble.Batch, id uint64, urls []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.mu.members[id]
	if !ok {
		return nil
	}
	m.PeerURLs = slices.Clone(urls)
	return putMember(b, m)
}

// Promote turns learner id into a voter.
func (c *Cluster) Promote(b *pebble.Batch, id uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.mu.members[id]
	if !ok {
		return nil
	}
	m.IsLearner = false
	return putMember(b, m)
}

// Reload rereads the membership from the engine (after a state snapshot was
// installed).
func (c *Cluster) Reload(r pebble.Reader) error {
	fresh, err := Load(r, c.clusterID, c.localID)
	if err != nil {
		return err
	}
	fresh.mu.RLock()
	defer fresh.mu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.members, c.mu.removed, c.mu.version = fresh.mu.members, fresh.mu.removed, fresh.mu.version
	return nil
}

// Voters counts the voting members.
func (c *Cluster) Voters() []*Member {
	var out []*Member
	for _, m := range c.Members() {
		if !m.IsLearner {
			out = append(out, m)
		}
	}
	return out
}

// RemovedIDs lists the IDs removed from the cluster.
func (c *Cluster) RemovedIDs() []uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]uint64, 0, len(c.mu.removed))
	for id := range c.mu.removed {
		out = append(out, id)
	}
	return out
}

// Import writes member m into batch b of an engine being restored.
func Import(b *pebble.Batch, m *Member) error { return putMember(b, m) }
