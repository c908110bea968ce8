package mvcc

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/cairn-kv/cairn/internal/storage"
)

// Leases is the lessor as the store sees it: puts that name a lease it does
// not know fail with ErrLeaseNotFound, and every change of a key's lease is
// recorded in the same engine batch as the key's new version.
type Leases interface {
	LeaseExists(id int64) bool
	Attach(b *pebble.Batch, id int64, key []byte) error
	Detach(b *pebble.Batch, id int64, key []byte) error
}

// Observer receives the events of every published revision, in order. It
// is called on the applier's goroutine and must not block. An event carries
// PrevKv only when its request asked for the previous version: the applier
// does not read values it does not need. Observers read a missing previous
// version with PrevKV (a PUT with CreateRevision below its ModRevision, and
// every DELETE, has one) and strip a present one for watchers that did not
// ask for it. OnRestore reports that a state snapshot replaced the store,
// now at rev: observers resume from the store.
type Observer interface {
	OnRevision(rev int64, events []*mvccpb.Event)
	OnRestore(rev int64)
}

// Store is the MVCC key-value store.
type Store struct {
	db *pebble.DB
	lg *slog.Logger
	// prefixSeek: the engine supports prefix seeks for single keys.
	prefixSeek bool

	// currentRev is the newest published revision: every version at or below
	// it is committed to the engine.
	currentRev atomic.Int64
	// compactRev is the newest accepted compaction: reads below it fail.
	compactRev atomic.Int64
	// keys is the number of live keys as of currentRev.
	keys atomic.Int64
	// putBytes sums the keys and values put since the store opened.
	putBytes atomic.Int64

	leases   Leases
	observer Observer

	// restoreMu keeps readers out while a state snapshot replaces the
	// store's contents under them.
	restoreMu sync.RWMutex

	compactor compactor

	// latest caches keys' newest versions for the applier (latest.go);
	// spareOverlay is a published batch's emptied overlay, for the next.
	latest       latestCache
	spareOverlay map[string]latestEntry
	// filters tells the applier which keys were never written
	// (keyfilter.go).
	filters keyFilters
}

// New opens the store over the engine and resumes any unfinished compaction
// once Start is called.
func New(eng *storage.Engine, lg *slog.Logger) (*Store, error) {
	s := &Store{db: eng.DB(), lg: lg, leases: noLeases{}, prefixSeek: eng.PrefixSeekable()}
	cur, err := storage.GetUint64(s.db, storage.KeyCurrentRev)
	if err != nil {
		return nil, fmt.Errorf("mvcc: read current revision: %w", err)
	}
	if cur == 0 {
		cur = 1 // an empty store is at revision 1, as etcd's
	}
	sched, err := readCompactRev(s.db)
	if err != nil {
		return nil, fmt.Errorf("mvcc: read compaction revision: %w", err)
	}
	fin, err := storage.GetUint64(s.db, storage.KeyFinishedCompact)
	if err != nil {
		return nil, fmt.Errorf("mvcc: read finished compaction: %w", err)
	}
	keys, err := storage.GetUint64(s.db, storage.KeyKeyCount)
	if err != nil {
		return nil, fmt.Errorf("mvcc: read key count: %w", err)
	}
	s.keys.Store(int64(keys))
	s.currentRev.Store(int64(cur))
	s.compactRev.Store(sched)
	s.compactor.init(s, int64(fin), sched)
	return s, nil
}

// Restore runs install, which replaces the store's contents in the engine,
// with readers and compaction held off, then reloads the revisions. Only
// the applier calls it, between batches.
func (s *Store) Restore(install func() error) error {
	s.restoreMu.Lock()
	defer s.restoreMu.Unlock()
	s.compactor.stop()
	s.latest.reset()
	s.filters.reset()
	if err := install(); err != nil {
		return err
	}
	cur, err := storage.GetUint64(s.db, storage.KeyCurrentRev)
	if err != nil {
		return err
	}
	sched, err := readCompactRev(s.db)
	if err != nil {
		return err
	}
	fin, err := storage.GetUint64(s.db, storage.KeyFinishedCompact)
	if err != nil {
		return err
	}
	keys, err := storage.GetUint64(s.db, storage.KeyKeyCount)
	if err != nil {
		return err
	}
	s.keys.Store(int64(keys))
	s.currentRev.Store(max(int64(cur), 1))
	s.compactRev.Store(sched)
	s.compactor.init(s, int64(fin), sched)
	s.compactor.start(context.Background())
	s.filters.rebuild(s, s.keys.Load())
	if s.observer != nil {
		s.observer.OnRestore(s.currentRev.Load())
	}
	return nil
}

// readCompactRev reads the scheduled compaction revision; a store never
// compacted reports -1, as etcd's does, so that compacting at revision 0
// succeeds once.
func readCompactRev(r pebble.Reader) (int64, error) {
	v, ok, err := storage.Get(r, storage.KeyScheduledCompact)
	if err != nil || !ok {
		return -1, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("scheduled compaction holds %d bytes", len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// SetLeases installs the lessor. Set it before the first write.
func (s *Store) SetLeases(l Leases) { s.leases = l }

// SetObserver installs the watch hub. Set it before the first write.
func (s *Store) SetObserver(o Observer) { s.observer = o }

// Start runs background work (compaction, building the key filter) until
// ctx ends. Call it before the first write.
func (s *Store) Start(ctx context.Context) {
	s.compactor.start(ctx)
	s.filters.rebuild(s, s.keys.Load())
}

// Close waits for background work to stop.
func (s *Store) Close() {
	s.compactor.stop()
	s.filters.stopBuilder()
}

// Keys is the number of live keys at the current revision.
func (s *Store) Keys() int64 { return s.keys.Load() }

// PutBytes is the size of the keys and values put since the store opened.
func (s *Store) PutBytes() int64 { return s.putBytes.Load() }

// Rev is the current (published) revision.
func (s *Store) Rev() int64 { return s.currentRev.Load() }

// CompactRev is the newest compaction revision (-1 if never compacted).
func (s *Store) CompactRev() int64 { return s.compactRev.Load() }

// Range serves a RangeRequest from the published state (a serializable read).
// The header holds only the revision; the caller fills in the rest.
func (s *Store) Range(req *pb.RangeRequest) (*pb.RangeResponse, error) {
	s.restoreMu.RLock()
	defer s.restoreMu.RUnlock()
	v := s.readView()
	return v.rangeRequest(req)
}

// Txn serves a read-only TxnRequest from the published state.
func (s *Store) Txn(req *pb.TxnRequest) (*pb.TxnResponse, error) {
	s.restoreMu.RLock()
	defer s.restoreMu.RUnlock()
	v := s.readView()
	return execTxn(readOnlyTxn{v}, req)
}

// readView reads at the published revision.
func (s *Store) readView() *readView {
	return &readView{r: s.db, curRev: s.currentRev.Load(), compactRev: s.compactRev.Load, prefixSeek: s.prefixSeek}
}

// noLeases knows no lease: every put naming one fails.
type noLeases struct{}

func (noLeases) LeaseExists(int64) bool                    { return false }
func (noLeases) Attach(*pebble.Batch, int64, []byte) error { return nil }
func (noLeases) Detach(*pebble.Batch, int64, []byte) error { return nil }
