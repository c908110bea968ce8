package mvcc

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/cairn-kv/cairn/internal/storage"
)

// LeaseChecker tells whether a lease exists; puts that name a lease it does
// not know fail with ErrLeaseNotFound.
type LeaseChecker interface {
	LeaseExists(id int64) bool
}

// Observer receives the events of every published revision, in order. It
// is called on the applier's goroutine and must not block.
type Observer interface {
	OnRevision(rev int64, events []*mvccpb.Event)
}

// Store is the MVCC key-value store.
type Store struct {
	db *pebble.DB
	lg *slog.Logger

	// currentRev is the newest published revision: every version at or below
	// it is committed to the engine.
	currentRev atomic.Int64
	// compactRev is the newest accepted compaction: reads below it fail.
	compactRev atomic.Int64

	leases   LeaseChecker
	observer Observer

	compactor compactor
}

// New opens the store over the engine and resumes any unfinished compaction
// once Start is called.
func New(eng *storage.Engine, lg *slog.Logger) (*Store, error) {
	s := &Store{db: eng.DB(), lg: lg, leases: noLeases{}}
	cur, err := storage.GetUint64(s.db, storage.KeyCurrentRev)
	if err != nil {
		return nil, fmt.Errorf("mvcc: read current revision: %w", err)
	}
	if cur == 0 {
		cur = 1 // an empty store is at revision 1, as etcd's
	}
	sched, err := storage.GetUint64(s.db, storage.KeyScheduledCompact)
	if err != nil {
		return nil, fmt.Errorf("mvcc: read compaction revision: %w", err)
	}
	fin, err := storage.GetUint64(s.db, storage.KeyFinishedCompact)
	if err != nil {
		return nil, fmt.Errorf("mvcc: read finished compaction: %w", err)
	}
	s.currentRev.Store(int64(cur))
	s.compactRev.Store(int64(sched))
	s.compactor.init(s, int64(fin), int64(sched))
	return s, nil
}

// SetLeaseChecker installs the lessor's existence check.
func (s *Store) SetLeaseChecker(c LeaseChecker) { s.leases = c }

// SetObserver installs the watch hub. Set it before the first write.
func (s *Store) SetObserver(o Observer) { s.observer = o }

// Start runs background work (compaction) until ctx ends.
func (s *Store) Start(ctx context.Context) { s.compactor.start(ctx) }

// Close waits for background work to stop.
func (s *Store) Close() { s.compactor.stop() }

// Rev is the current (published) revision.
func (s *Store) Rev() int64 { return s.currentRev.Load() }

// CompactRev is the newest compaction revision (0 if never compacted).
func (s *Store) CompactRev() int64 { return s.compactRev.Load() }

// Range serves a RangeRequest from the published state (a serializable read).
// The header holds only the revision; the caller fills in the rest.
func (s *Store) Range(req *pb.RangeRequest) (*pb.RangeResponse, error) {
	v := s.readView()
	return v.rangeRequest(req)
}

// Txn serves a read-only TxnRequest from the published state.
func (s *Store) Txn(req *pb.TxnRequest) (*pb.TxnResponse, error) {
	v := s.readView()
	return execTxn(readOnlyTxn{v}, req)
}

// readView reads at the published revision.
func (s *Store) readView() *readView {
	return &readView{r: s.db, curRev: s.currentRev.Load(), compactRev: s.compactRev.Load}
}

type noLeases struct{}

func (noLeases) LeaseExists(int64) bool { return false }
