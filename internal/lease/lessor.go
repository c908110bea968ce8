// Package lease is the lessor: leases granted and revoked through raft, the
// keys attached to them, and, on the leader, their expiry clock.
//
// The applied state (which leases exist, their granted TTL, their last
// checkpointed remaining TTL, the keys attached) changes only through Grant,
// Revoke, Checkpoint, Attach and Detach, called by the applier in log order,
// and is written to the engine in the applier's batch. The expiry clock runs
// only on the leader (Promote/Demote): it decides when a lease has expired,
// and the server then proposes its revocation through raft, so every member
// deletes the lease's keys at the same revision.
//
// Remaining TTLs survive a restart or a change of leader through
// checkpoints: the leader periodically (and when it stops) replicates each
// lease's remaining TTL, and a new leader starts each lease's clock from its
// last checkpoint rather than from the full TTL. A lease renewed since its
// checkpoint has the checkpoint cleared through raft, so a new leader gives
// a lease its client keeps alive the full TTL. (etcd does this only with its
// LeaseCheckpoint feature gate; Cairn always does.)
package lease

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-kv/cairn/internal/storage"
)

// MaxTTL is the largest TTL a lease may be granted, in seconds.
const MaxTTL = 9000000000

// Errors with etcd's texts.
var (
	ErrLeaseNotFound    = errors.New("lease not found")
	ErrLeaseExists      = errors.New("lease already exists")
	ErrLeaseTTLTooLarge = errors.New("too large lease TTL")
	// ErrNotPrimary: the expiry clock runs on the leader only.
	ErrNotPrimary = errors.New("not a primary lessor")
)

// revokeRetry is how long an expired lease waits for its proposed revocation
// before it is offered for revocation again.
const revokeRetry = 3 * time.Second

// Lease is one lease.
type Lease struct {
	ID int64
	// TTL is the granted TTL in seconds (raised to the minimum).
	TTL int64
	// remaining is the last checkpointed remaining TTL, 0 if none.
	remaining int64
	// expiry and revokeAt are the leader's clock; zero elsewhere.
	expiry   time.Time
	revokeAt time.Time
	// stale: renewed on the leader since its checkpoint was taken, so the
	// checkpoint understates the lease's life and is to be cleared.
	stale bool
}

// Config configures a Lessor.
type Config struct {
	// MinTTL is the smallest TTL granted, in seconds: shorter requests are
	// raised to it (etcd derives it from the election timeout).
	MinTTL int64
	// Clock returns the time; nil means time.Now.
	Clock func() time.Time
}

// Lessor holds the leases.
type Lessor struct {
	db     *pebble.DB
	minTTL int64
	now    func() time.Time

	mu struct {
		sync.RWMutex
		leases  map[int64]*Lease
		primary bool
	}
}

// New loads the leases from the engine.
func New(db *pebble.DB, cfg Config) (*Lessor, error) {
	l := &Lessor{db: db, minTTL: max(cfg.MinTTL, 1), now: cfg.Clock}
	if l.now == nil {
		l.now = time.Now
	}
	leases, err := loadLeases(db)
	if err != nil {
		return nil, err
	}
	l.mu.leases = leases
	return l, nil
}

// Reload rereads the leases from the engine (after a state snapshot was
// installed). On the leader their clocks restart as on promotion.
func (l *Lessor) Reload() error {
	leases, err := loadLeases(l.db)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.mu.leases = leases
	primary := l.mu.primary
	l.mu.Unlock()
	if primary {
		l.Promote(0)
	}
	return nil
}

func loadLeases(db *pebble.DB) (map[int64]*Lease, error) {
	leases := map[int64]*Lease{}
	it, err := db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{storage.PrefixLease},
		UpperBound: storage.PrefixEnd(storage.PrefixLease),
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		lease, err := decodeLease(it.Key(), it.Value())
		if err != nil {
			return nil, err
		}
		leases[lease.ID] = lease
	}
	return leases, it.Error()
}

func encodeLease(le *Lease) []byte {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, uint64(le.TTL))
	binary.BigEndian.PutUint64(v[8:], uint64(le.remaining))
	return v
}

func decodeLease(k, v []byte) (*Lease, error) {
	if len(k) != 9 || len(v) != 16 {
		return nil, fmt.Errorf("lease: malformed record %x", k)
	}
	return &Lease{
		ID:        int64(binary.BigEndian.Uint64(k[1:])),
		TTL:       int64(binary.BigEndian.Uint64(v)),
		remaining: int64(binary.BigEndian.Uint64(v[8:])),
	}, nil
}

// MinTTL is the smallest TTL the lessor grants.
func (l *Lessor) MinTTL() int64 { return l.minTTL }

// Grant creates lease id with ttl (raised to the minimum) in batch b.
func (l *Lessor) Grant(b *pebble.Batch, id, ttl int64) (*Lease, error) {
	if ttl > MaxTTL {
		return nil, ErrLeaseTTLTooLarge
	}
	ttl = max(ttl, l.minTTL)
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.mu.leases[id]; ok {
		return nil, ErrLeaseExists
	}
	le := &Lease{ID: id, TTL: ttl}
	if l.mu.primary {
		le.expiry = l.now().Add(time.Duration(ttl) * time.Second)
	}
	if err := b.Set(storage.LeaseKey(id), encodeLease(le), nil); err != nil {
		return nil, err
	}
	l.mu.leases[id] = le
	c := *le
	return &c, nil
}

// Keys lists the keys attached to lease id, as r sees them.
func Keys(r pebble.Reader, id int64) ([][]byte, error) {
	prefix := storage.LeaseKeyIndex(id, nil)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: indexEnd(id)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var keys [][]byte
	for it.First(); it.Valid(); it.Next() {
		keys = append(keys, append([]byte(nil), it.Key()[len(prefix):]...))
	}
	return keys, it.Error()
}

// indexEnd is the upper bound of lease id's key index. IDs are ordered as
// unsigned big-endian numbers, so the next ID's index would not bound the
// last one (-1): the end is the index prefix plus one instead.
func indexEnd(id int64) []byte {
	end := storage.LeaseKeyIndex(id, nil)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	panic("lease: index prefix has no end")
}

// Revoke removes lease id and its key index from batch b. The caller
// deletes the keys themselves (see Keys) in the same batch first.
func (l *Lessor) Revoke(b *pebble.Batch, id int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.mu.leases[id]; !ok {
		return ErrLeaseNotFound
	}
	if err := b.Delete(storage.LeaseKey(id), nil); err != nil {
		return err
	}
	if err := b.DeleteRange(storage.LeaseKeyIndex(id, nil), indexEnd(id), nil); err != nil {
		return err
	}
	delete(l.mu.leases, id)
	return nil
}

// Checkpoint records lease id's remaining TTL; unknown leases are skipped
// (revoked after the checkpoint was proposed).
func (l *Lessor) Checkpoint(b *pebble.Batch, id, remaining int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	le, ok := l.mu.leases[id]
	if !ok {
		return nil
	}
	le.remaining = remaining
	le.stale = false
	return b.Set(storage.LeaseKey(id), encodeLease(le), nil)
}

// LeaseExists implements mvcc.Leases.
func (l *Lessor) LeaseExists(id int64) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	_, ok := l.mu.leases[id]
	return ok
}

// Attach implements mvcc.Leases.
func (l *Lessor) Attach(b *pebble.Batch, id int64, key []byte) error {
	return b.Set(storage.LeaseKeyIndex(id, key), nil, nil)
}

// Detach implements mvcc.Leases.
func (l *Lessor) Detach(b *pebble.Batch, id int64, key []byte) error {
	return b.Delete(storage.LeaseKeyIndex(id, key), nil)
}

// Promote starts the expiry clock: this member became the leader. Each
// lease runs from its last checkpoint (or its full TTL), plus extend to
// cover the time the cluster had no leader.
func (l *Lessor) Promote(extend time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.primary = true
	now := l.now()
	for _, le := range l.mu.leases {
		ttl := le.TTL
		if le.remaining > 0 {
			ttl = le.remaining
		}
		le.expiry = now.Add(time.Duration(ttl)*time.Second + extend)
		le.revokeAt = time.Time{}
	}
}

// Demote stops the expiry clock: this member no longer leads.
func (l *Lessor) Demote() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.primary = false
	for _, le := range l.mu.leases {
		le.expiry, le.revokeAt = time.Time{}, time.Time{}
	}
}

// IsPrimary reports whether the expiry clock runs here.
func (l *Lessor) IsPrimary() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.mu.primary
}

// Renew restarts lease id's clock and returns its TTL. An expired lease
// awaiting revocation cannot be renewed. A lease with a checkpoint is
// marked stale (see StaleCheckpoints): after the renewal the checkpoint no
// longer tells how long the lease has left.
func (l *Lessor) Renew(id int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.primary {
		return 0, ErrNotPrimary
	}
	le, ok := l.mu.leases[id]
	if !ok {
		return 0, ErrLeaseNotFound
	}
	now := l.now()
	if !now.Before(le.expiry) {
		return 0, ErrLeaseNotFound
	}
	le.expiry = now.Add(time.Duration(le.TTL) * time.Second)
	if le.remaining > 0 {
		le.stale = true
	}
	return le.TTL, nil
}

// StaleCheckpoints returns up to limit leases renewed since their last
// checkpoint and unmarks them. The leader clears their checkpoints through
// raft (a checkpoint of 0 means the full TTL), so that a new leader or a
// restart does not cut short a lease its client keeps alive. As in etcd,
// this costs at most one extra entry per lease and checkpoint.
func (l *Lessor) StaleCheckpoints(limit int) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.primary {
		return nil
	}
	var out []int64
	for id, le := range l.mu.leases {
		if len(out) >= limit {
			break
		}
		if le.stale {
			le.stale = false
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Remaining reports lease id's remaining and granted TTL in seconds. On the
// leader the remaining TTL is its clock's; elsewhere the last checkpoint.
func (l *Lessor) Remaining(id int64) (remaining, granted int64, ok bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	le, ok := l.mu.leases[id]
	if !ok {
		return 0, 0, false
	}
	if !l.mu.primary {
		if le.remaining > 0 {
			return le.remaining, le.TTL, true
		}
		return le.TTL, le.TTL, true
	}
	left := le.expiry.Sub(l.now())
	if left < 0 {
		left = 0
	}
	return int64(left / time.Second), le.TTL, true
}

// Leases lists every lease ID. On the leader they come in expiry order,
// the soonest first, as etcd lists them; elsewhere (no clock runs) and
// among equal expiries, by ascending ID.
func (l *Lessor) Leases() []int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	ls := make([]*Lease, 0, len(l.mu.leases))
	for _, le := range l.mu.leases {
		ls = append(ls, le)
	}
	primary := l.mu.primary
	sort.Slice(ls, func(i, j int) bool {
		if primary && !ls[i].expiry.Equal(ls[j].expiry) {
			return ls[i].expiry.Before(ls[j].expiry)
		}
		return ls[i].ID < ls[j].ID
	})
	ids := make([]int64, len(ls))
	for i, le := range ls {
		ids[i] = le.ID
	}
	return ids
}

// Expired returns up to limit leases whose clock ran out and marks them as
// being revoked; a lease whose revocation did not apply within revokeRetry
// is offered again.
func (l *Lessor) Expired(limit int) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.primary {
		return nil
	}
	now := l.now()
	var out []int64
	for id, le := range l.mu.leases {
		if len(out) >= limit {
			break
		}
		if now.Before(le.expiry) || now.Before(le.revokeAt) {
			continue
		}
		le.revokeAt = now.Add(revokeRetry)
		out = append(out, id)
	}
	return out
}

// Checkpoint is one lease's remaining TTL to replicate.
type Checkpoint struct {
	ID        int64
	Remaining int64
}

// Checkpoints returns the remaining TTL of every lease on the leader's
// clock, for replication.
func (l *Lessor) Checkpoints() []Checkpoint {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if !l.mu.primary {
		return nil
	}
	now := l.now()
	out := make([]Checkpoint, 0, len(l.mu.leases))
	for id, le := range l.mu.leases {
		left := int64(math.Ceil(le.expiry.Sub(now).Seconds()))
		if left <= 0 {
			continue // expiring: its revocation is on the way
		}
		out = append(out, Checkpoint{ID: id, Remaining: left})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Exported is a lease as snapshots carry it.
type Exported struct {
	ID, TTL, RemainingTTL int64
}

// Export lists the leases r holds.
func Export(r pebble.Reader) ([]Exported, error) {
	it, err := r.NewIter(&pebble.IterOptions{
		LowerBound: []byte{storage.PrefixLease},
		UpperBound: storage.PrefixEnd(storage.PrefixLease),
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []Exported
	for it.First(); it.Valid(); it.Next() {
		le, err := decodeLease(it.Key(), it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, Exported{ID: le.ID, TTL: le.TTL, RemainingTTL: le.remaining})
	}
	return out, it.Error()
}

// Import writes a lease into batch b of an engine being restored.
func Import(b *pebble.Batch, e Exported) error {
	return b.Set(storage.LeaseKey(e.ID), encodeLease(&Lease{ID: e.ID, TTL: e.TTL, remaining: e.RemainingTTL}), nil)
}

// AttachKey indexes key under lease id in batch b (for imports).
func AttachKey(b *pebble.Batch, id int64, key []byte) error {
	return b.Set(storage.LeaseKeyIndex(id, key), nil, nil)
}
