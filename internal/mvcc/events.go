package mvcc

import (
	"errors"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/cairn-kv/cairn/internal/storage"
)

// Events reads the changes of revisions [from, to] from the change log in
// revision order, calling fn for each change whose key match accepts (match
// sees the key before any value is read). PUT events carry the full new
// version; DELETE events the key and revision. With prevKV, events also
// carry the key's previous version when history still holds it. It fails
// with ErrCompacted when from is below the compaction revision.
func (s *Store) Events(from, to int64, prevKV bool, match func(key []byte) bool, fn func(rev int64, ev *mvccpb.Event) error) error {
	if to < from {
		return nil
	}
	s.restoreMu.RLock()
	defer s.restoreMu.RUnlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: revLogStart(from), UpperBound: revLogStart(to + 1)})
	if err != nil {
		return err
	}
	defer it.Close()
	if from < s.compactRev.Load() {
		return ErrCompacted
	}
	for it.First(); it.Valid(); it.Next() {
		rev, ok := decodeRevLogKey(it.Key())
		if !ok {
			return errBadKey
		}
		key, tomb, err := decodeChange(it.Value())
		if err != nil {
			return err
		}
		if !match(key) {
			continue
		}
		ev, err := s.event(rev.Main, append([]byte(nil), key...), tomb, prevKV)
		if err != nil {
			return err
		}
		if err := fn(rev.Main, ev); err != nil {
			return err
		}
	}
	return it.Error()
}

// event rebuilds the event of key's change at rev.
func (s *Store) event(rev int64, key []byte, tomb, prevKV bool) (*mvccpb.Event, error) {
	ev := &mvccpb.Event{Type: mvccpb.DELETE, Kv: &mvccpb.KeyValue{Key: key, ModRevision: rev}}
	if !tomb {
		v, ok, err := storage.Get(s.db, versionKey(nil, key, rev))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrCompacted // removed by a compaction under us
		}
		var rec record
		if err := decodeRecord(v, &rec); err != nil {
			return nil, err
		}
		ev.Type, ev.Kv = mvccpb.PUT, rec.keyValue(key, rev, true)
		if rec.create == rev {
			return ev, nil // a creation has no previous version
		}
	}
	if prevKV {
		prev, err := s.PrevKV(key, rev)
		if err != nil {
			return nil, err
		}
		ev.PrevKv = prev
	}
	return ev, nil
}

// PrevKV returns key's version just before rev, or nil when there is none
// or compaction removed it.
func (s *Store) PrevKV(key []byte, rev int64) (*mvccpb.KeyValue, error) {
	v := s.readView()
	r, err := v.rangeAt(key, rev-1)
	if errors.Is(err, ErrCompacted) || errors.Is(err, ErrFutureRev) {
		return nil, nil
	}
	return r, err
}

// rangeAt reads one key at rev.
func (v *readView) rangeAt(key []byte, rev int64) (*mvccpb.KeyValue, error) {
	if rev <= 0 {
		return nil, nil
	}
	res, err := v.scanKVs(key, nil, rev, 1, false, false)
	if err != nil || len(res.kvs) == 0 {
		return nil, err
	}
	return res.kvs[0], nil
}
