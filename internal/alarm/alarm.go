// Package alarm keeps the cluster's alarms (NOSPACE, CORRUPT): raised and
// cleared through raft, so every member agrees on them, and persisted with
// the state machine.
package alarm

import (
	"encoding/binary"
	"errors"
	"sort"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/storage"
)

// key is an alarm's engine key: 'S' + "alarm/" + member ID + type.
func key(member uint64, typ pb.AlarmType) []byte {
	k := append([]byte{storage.PrefixState}, "alarm/"...)
	k = binary.BigEndian.AppendUint64(k, member)
	return binary.BigEndian.AppendUint32(k, uint32(typ))
}

var prefix = append([]byte{storage.PrefixState}, "alarm/"...)

type entry struct {
	member uint64
	typ    pb.AlarmType
}

// Store is the set of active alarms.
type Store struct {
	db *pebble.DB
	mu struct {
		sync.RWMutex
		active map[entry]bool
	}
}

// New loads the active alarms.
func New(db *pebble.DB) (*Store, error) {
	s := &Store{db: db}
	return s, s.Reload()
}

// Reload rereads the alarms (after a state snapshot was installed).
func (s *Store) Reload() error {
	active, err := load(s.db)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.mu.active = active
	s.mu.Unlock()
	return nil
}

// Export lists the alarms r holds, sorted, as snapshots carry them.
func Export(r pebble.Reader) ([]*pb.AlarmMember, error) {
	active, err := load(r)
	if err != nil {
		return nil, err
	}
	out := make([]*pb.AlarmMember, 0, len(active))
	for e := range active {
		out = append(out, &pb.AlarmMember{MemberID: e.member, Alarm: e.typ})
	}
	sortAlarms(out)
	return out, nil
}

func load(r pebble.Reader) (map[entry]bool, error) {
	active := map[entry]bool{}
	upper := append(append([]byte(nil), prefix...), 0xff)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()[len(prefix):]
		if len(k) != 12 {
			continue
		}
		active[entry{binary.BigEndian.Uint64(k), pb.AlarmType(binary.BigEndian.Uint32(k[8:]))}] = true
	}
	return active, it.Error()
}

// Activate raises alarm typ for member in batch b; it returns the alarm,
// or nil when it was already active.
func (s *Store) Activate(b *pebble.Batch, member uint64, typ pb.AlarmType) (*pb.AlarmMember, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := entry{member, typ}
	if s.mu.active[e] {
		return nil, nil
	}
	if err := b.Set(key(member, typ), nil, nil); err != nil {
		return nil, err
	}
	s.mu.active[e] = true
	return &pb.AlarmMember{MemberID: member, Alarm: typ}, nil
}

// Deactivate clears alarm typ of member; NONE clears every alarm of the
// member, and member 0 means every member. It returns what it cleared.
func (s *Store) Deactivate(b *pebble.Batch, member uint64, typ pb.AlarmType) ([]*pb.AlarmMember, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*pb.AlarmMember
	for e := range s.mu.active {
		if (member != 0 && e.member != member) || (typ != pb.AlarmType_NONE && e.typ != typ) {
			continue
		}
		if err := b.Delete(key(e.member, e.typ), nil); err != nil {
			return nil, err
		}
		delete(s.mu.active, e)
		out = append(out, &pb.AlarmMember{MemberID: e.member, Alarm: e.typ})
	}
	sortAlarms(out)
	return out, nil
}

// List returns the active alarms, optionally only of one type (NONE: all).
func (s *Store) List(typ pb.AlarmType) []*pb.AlarmMember {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*pb.AlarmMember
	for e := range s.mu.active {
		if typ == pb.AlarmType_NONE || e.typ == typ {
			out = append(out, &pb.AlarmMember{MemberID: e.member, Alarm: e.typ})
		}
	}
	sortAlarms(out)
	return out
}

// Active reports whether any member has alarm typ raised.
func (s *Store) Active(typ pb.AlarmType) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for e := range s.mu.active {
		if e.typ == typ {
			return true
		}
	}
	return false
}

func sortAlarms(a []*pb.AlarmMember) {
	sort.Slice(a, func(i, j int) bool {
		if a[i].MemberID != a[j].MemberID {
			return a[i].MemberID < a[j].MemberID
		}
		return a[i].Alarm < a[j].Alarm
	})
}

// Errors of requests refused because of an alarm, with etcd's texts.
var (
	ErrNoSpace = errors.New("mvcc: database space exceeded")
	ErrCorrupt = errors.New("etcdserver: corrupt cluster")
)
