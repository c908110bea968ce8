package raftnode

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/storage"
)

// Cache bounds for recent entries: raft reads freshly persisted entries back
// to commit and apply them, and followers' catch-up reads the tail.
const (
	cacheMaxEntries = 8192
	cacheMaxBytes   = 16 << 20
)

// LogStore is a raft.Storage over the engine. The raft goroutine reads it
// while the Ready loop appends to it, hence the mutex.
type LogStore struct {
	db *pebble.DB
	// written counts the bytes of every append's engine batch.
	written atomic.Uint64

	mu struct {
		sync.Mutex
		hardState *raftpb.HardState
		confState *raftpb.ConfState
		// snap is the truncation point: entries at or below snap.Index are
		// gone; snap.Term is kept for log matching.
		snapIndex, snapTerm uint64
		lastIndex           uint64
		// cache holds entries [cacheFirst, lastIndex].
		cache      []*raftpb.Entry
		cacheBytes int
	}
}

var _ raft.Storage = (*LogStore)(nil)

// OpenLogStore loads the log bounds and states from the engine.
func OpenLogStore(db *pebble.DB) (*LogStore, error) {
	ls := &LogStore{db: db}
	hs := &raftpb.HardState{}
	if err := getProto(db, storage.KeyHardState, hs); err != nil {
		return nil, err
	}
	cs := &raftpb.ConfState{}
	if err := getProto(db, storage.KeyConfState, cs); err != nil {
		return nil, err
	}
	snap := &raftpb.SnapshotMetadata{}
	if err := getProto(db, storage.KeyRaftSnapshot, snap); err != nil {
		return nil, err
	}
	ls.mu.hardState, ls.mu.confState = hs, cs
	ls.mu.snapIndex, ls.mu.snapTerm = snap.GetIndex(), snap.GetTerm()
	last, err := lastLogIndex(db)
	if err != nil {
		return nil, err
	}
	if last < ls.mu.snapIndex {
		last = ls.mu.snapIndex
	}
	ls.mu.lastIndex = last
	return ls, nil
}

func getProto(r pebble.Reader, key []byte, m proto.Message) error {
	v, ok, err := storage.Get(r, key)
	if err != nil || !ok {
		return err
	}
	if err := proto.Unmarshal(v, m); err != nil {
		return fmt.Errorf("raftnode: decode %q: %w", key, err)
	}
	return nil
}

func lastLogIndex(db *pebble.DB) (uint64, error) {
	it, err := db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{storage.PrefixRaftLog},
		UpperBound: storage.PrefixEnd(storage.PrefixRaftLog),
	})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, it.Error()
	}
	return storage.RaftLogIndex(it.Key()), nil
}

// InitialState implements raft.Storage. The ConfState is the one as of the
// applied index (the applier persists it with every conf change), which is
// what raft must start from given Config.Applied.
func (ls *LogStore) InitialState() (*raftpb.HardState, *raftpb.ConfState, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return proto.CloneOf(ls.mu.hardState), proto.CloneOf(ls.mu.confState), nil
}

// RaiseCommit makes index, the applied index found at start, the commit
// index raft starts from if the stored one is lower. The applier's batch and
// the hard state recording the commit of its entries are separate unsynced
// writes and may reach the engine's log in either order, so a crash can
// keep the first without the second; raft refuses to start with an applied
// index above its commit index. Entries are applied only once committed,
// so the raise is safe, and it is recomputed at every start.
func (ls *LogStore) RaiseCommit(index uint64) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	hs := ls.mu.hardState
	if index <= hs.GetCommit() || index > ls.mu.lastIndex {
		return
	}
	raised := &raftpb.HardState{}
	if hs != nil {
		raised = proto.CloneOf(hs)
	}
	raised.Commit = proto.Uint64(index)
	ls.mu.hardState = raised
}

// SetConfState records the conf state the applier persisted.
func (ls *LogStore) SetConfState(cs *raftpb.ConfState) {
	ls.mu.Lock()
	ls.mu.confState = proto.CloneOf(cs)
	ls.mu.Unlock()
}

// FirstIndex implements raft.Storage.
func (ls *LogStore) FirstIndex() (uint64, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.mu.snapIndex + 1, nil
}

// LastIndex implements raft.Storage.
func (ls *LogStore) LastIndex() (uint64, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.mu.lastIndex, nil
}

// Term implements raft.Storage.
func (ls *LogStore) Term(i uint64) (uint64, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	switch {
	case i == ls.mu.snapIndex:
		return ls.mu.snapTerm, nil
	case i < ls.mu.snapIndex:
		return 0, raft.ErrCompacted
	case i > ls.mu.lastIndex:
		return 0, raft.ErrUnavailable
	}
	if e := ls.cachedLocked(i); e != nil {
		return e.GetTerm(), nil
	}
	e, err := ls.readEntry(i)
	if err != nil {
		return 0, err
	}
	return e.GetTerm(), nil
}

// Entries implements raft.Storage.
func (ls *LogStore) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if lo <= ls.mu.snapIndex {
		return nil, raft.ErrCompacted
	}
	if hi > ls.mu.lastIndex+1 {
		return nil, fmt.Errorf("raftnode: entries [%d, %d) beyond last index %d", lo, hi, ls.mu.lastIndex)
	}
	var out []*raftpb.Entry
	var size uint64
	for i := lo; i < hi; i++ {
		e := ls.cachedLocked(i)
		if e == nil {
			var err error
			if e, err = ls.readEntry(i); err != nil {
				return nil, err
			}
		}
		size += uint64(entrySize(e))
		if len(out) > 0 && size > maxSize {
			break
		}
		out = append(out, e)
	}
	return out, nil
}

// Snapshot implements raft.Storage: the metadata of the truncation point.
// Sending state-machine snapshots to followers is the transport's job.
func (ls *LogStore) Snapshot() (*raftpb.Snapshot, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
		Index:     proto.Uint64(ls.mu.snapIndex),
		Term:      proto.Uint64(ls.mu.snapTerm),
		ConfState: proto.CloneOf(ls.mu.confState),
	}}, nil
}

func (ls *LogStore) cachedLocked(i uint64) *raftpb.Entry {
	n := uint64(len(ls.mu.cache))
	if n == 0 {
		return nil
	}
	first := ls.mu.cache[0].GetIndex()
	if i < first || i >= first+n {
		return nil
	}
	return ls.mu.cache[i-first]
}

func (ls *LogStore) readEntry(i uint64) (*raftpb.Entry, error) {
	v, ok, err := storage.Get(ls.db, storage.RaftLogKey(i))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, raft.ErrUnavailable
	}
	e := &raftpb.Entry{}
	if err := proto.Unmarshal(v, e); err != nil {
		return nil, fmt.Errorf("raftnode: decode entry %d: %w", i, err)
	}
	return e, nil
}

var errLogGap = errors.New("raftnode: appended entries leave a gap in the log")

// WrittenBytes is the size of everything appended since the store opened.
func (ls *LogStore) WrittenBytes() uint64 { return ls.written.Load() }

// Append persists entries and the hard state in one batch, synced when sync
// is set. Entries may overwrite a suffix of the log; anything after the last
// new entry is removed.
func (ls *LogStore) Append(hs *raftpb.HardState, ents []*raftpb.Entry, sync bool) error {
	b := ls.db.NewBatch()
	defer b.Close()
	if hs != nil && !raft.IsEmptyHardState(hs) {
		data, err := proto.Marshal(hs)
		if err != nil {
			return err
		}
		if err := b.Set(storage.KeyHardState, data, nil); err != nil {
			return err
		}
	}
	ls.mu.Lock()
	oldLast := ls.mu.lastIndex
	ls.mu.Unlock()
	var newLast uint64
	if len(ents) > 0 {
		first := ents[0].GetIndex()
		if first > oldLast+1 {
			return fmt.Errorf("%w: first %d, last %d", errLogGap, first, oldLast)
		}
		var buf []byte
		for _, e := range ents {
			buf = appendEntry(buf[:0], e)
			if err := b.Set(storage.RaftLogKey(e.GetIndex()), buf, nil); err != nil {
				return err
			}
		}
		newLast = ents[len(ents)-1].GetIndex()
		if newLast < oldLast {
			if err := b.DeleteRange(storage.RaftLogKey(newLast+1), storage.RaftLogKey(oldLast+1), nil); err != nil {
				return err
			}
		}
	}
	if b.Empty() {
		// Nothing new (a Ready of messages or committed entries only): an
		// empty batch would still pass the commit pipeline, and a synced
		// one would cost an fdatasync.
		return nil
	}
	ls.written.Add(uint64(len(b.Repr())))
	if sync {
		// The batch becomes visible before its WAL sync, so the applier's
		// unsynced batches are not held behind this fsync; we still wait
		// for the sync before returning.
		if err := ls.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
			return err
		}
		if err := b.SyncWait(); err != nil {
			return err
		}
	} else if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if hs != nil && !raft.IsEmptyHardState(hs) {
		ls.mu.hardState = proto.CloneOf(hs)
	}
	if len(ents) > 0 {
		ls.mu.lastIndex = newLast
		ls.cacheAppendLocked(ents)
	}
	return nil
}

func (ls *LogStore) cacheAppendLocked(ents []*raftpb.Entry) {
	first := ents[0].GetIndex()
	if len(ls.mu.cache) > 0 {
		cfirst := ls.mu.cache[0].GetIndex()
		switch {
		case first <= cfirst:
			ls.mu.cache, ls.mu.cacheBytes = nil, 0
		case first <= cfirst+uint64(len(ls.mu.cache)):
			for _, e := range ls.mu.cache[first-cfirst:] {
				ls.mu.cacheBytes -= entrySize(e)
			}
			ls.mu.cache = ls.mu.cache[:first-cfirst]
		default:
			ls.mu.cache, ls.mu.cacheBytes = nil, 0
		}
	}
	for _, e := range ents {
		ls.mu.cache = append(ls.mu.cache, e)
		ls.mu.cacheBytes += entrySize(e)
	}
	for len(ls.mu.cache) > 1 && (len(ls.mu.cache) > cacheMaxEntries || ls.mu.cacheBytes > cacheMaxBytes) {
		ls.mu.cacheBytes -= entrySize(ls.mu.cache[0])
		ls.mu.cache[0] = nil
		ls.mu.cache = ls.mu.cache[1:]
	}
}

// ApplySnapshot records that the state machine is being replaced by the
// state snapshot snap describes: the truncation point moves to its index,
// every log entry goes, and the pending-installation marker (holding
// snap.Data, the snapshot file) is set, all in one synced batch. The applier
// installs the state and clears the marker.
func (ls *LogStore) ApplySnapshot(snap *raftpb.Snapshot) error {
	meta := snap.GetMetadata()
	data, err := proto.Marshal(&raftpb.SnapshotMetadata{Index: meta.Index, Term: meta.Term})
	if err != nil {
		return err
	}
	ls.mu.Lock()
	last := ls.mu.lastIndex
	ls.mu.Unlock()
	b := ls.db.NewBatch()
	defer b.Close()
	if err := b.Set(storage.KeyRaftSnapshot, data, nil); err != nil {
		return err
	}
	if err := b.DeleteRange(storage.RaftLogKey(0), storage.RaftLogKey(max(last, meta.GetIndex())+1), nil); err != nil {
		return err
	}
	if err := b.Set(storage.KeySnapshotPending, snap.GetData(), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.mu.snapIndex, ls.mu.snapTerm = meta.GetIndex(), meta.GetTerm()
	ls.mu.lastIndex = meta.GetIndex()
	ls.mu.confState = proto.CloneOf(meta.GetConfState())
	ls.mu.cache, ls.mu.cacheBytes = nil, 0
	return nil
}

// Truncate drops the entries at or below index, keeping index's term for log
// matching. The caller guarantees the applied state covers index and is at
// least as durable as this batch (it was committed earlier to the same WAL).
func (ls *LogStore) Truncate(index uint64) error {
	ls.mu.Lock()
	if index <= ls.mu.snapIndex || index > ls.mu.lastIndex {
		ls.mu.Unlock()
		return nil
	}
	oldSnap := ls.mu.snapIndex
	ls.mu.Unlock()
	term, err := ls.Term(index)
	if err != nil {
		return err
	}
	meta := &raftpb.SnapshotMetadata{Index: proto.Uint64(index), Term: proto.Uint64(term)}
	data, err := proto.Marshal(meta)
	if err != nil {
		return err
	}
	b := ls.db.NewBatch()
	defer b.Close()
	if err := b.Set(storage.KeyRaftSnapshot, data, nil); err != nil {
		return err
	}
	if err := b.DeleteRange(storage.RaftLogKey(oldSnap), storage.RaftLogKey(index+1), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	ls.mu.Lock()
	ls.mu.snapIndex, ls.mu.snapTerm = index, term
	ls.mu.Unlock()
	return nil
}
