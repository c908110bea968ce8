package mvcc

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/cairn-kv/cairn/internal/storage"
)

// This file moves whole histories in and out of the store, for snapshots
// in etcd's file format: ExportVersions reads every stored version,
// Importer writes a history into an empty engine.

// ExportedVersion is one stored version: the key-value written at revision
// {Main, Sub}, or its deletion (then KV holds the key alone).
type ExportedVersion struct {
	Main, Sub int64
	Tombstone bool
	KV        *mvccpb.KeyValue
}

// ExportVersions calls fn for every version r holds, in key order.
func ExportVersions(r pebble.Reader, fn func(ExportedVersion) error) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{storage.PrefixKV}, UpperBound: kvSpaceEnd})
	if err != nil {
		return err
	}
	defer it.Close()
	var rec record
	for it.First(); it.Valid(); it.Next() {
		prefix, mod, err := splitVersionKey(it.Key())
		if err != nil {
			return err
		}
		key, err := decodeUserKey(prefix)
		if err != nil {
			return err
		}
		if err := decodeRecord(it.Value(), &rec); err != nil {
			return err
		}
		v := ExportedVersion{Main: mod, Sub: rec.sub, Tombstone: rec.tombstone}
		if rec.tombstone {
			v.KV = &mvccpb.KeyValue{Key: key, ModRevision: mod}
		} else {
			v.KV = rec.keyValue(key, mod, true)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return it.Error()
}

// Revisions reads the current, scheduled-compaction and finished-compaction
// revisions from r (-1 for a compaction that never happened).
func Revisions(r pebble.Reader) (current, scheduled, finished int64, err error) {
	cur, err := storage.GetUint64(r, storage.KeyCurrentRev)
	if err != nil {
		return 0, 0, 0, err
	}
	sched, err := readCompactRev(r)
	if err != nil {
		return 0, 0, 0, err
	}
	fin, ok, err := storage.Get(r, storage.KeyFinishedCompact)
	if err != nil {
		return 0, 0, 0, err
	}
	finished = -1
	if ok && len(fin) == 8 {
		finished = int64(binary.BigEndian.Uint64(fin))
	}
	return max(int64(cur), 1), sched, finished, nil
}

// Importer writes a history into an engine that holds no key-value data.
// Versions must come in revision order.
type Importer struct {
	db *pebble.DB
	b  *pebble.Batch
	// scheduled and finished are the history's compaction revisions (0:
	// none). A scheduled compaction ahead of the finished one was
	// interrupted; the store redoes it when it opens.
	scheduled, finished int64
	maxRev              int64
	// latest tracks each key's newest version, to count live keys and
	// index their leases at the end.
	latest map[string]importedKey
	buf    []byte
}

type importedKey struct {
	tombstone bool
	lease     int64
}

// importBatchBytes bounds one batch of an import.
const importBatchBytes = 16 << 20

// NewImporter starts an import of a history compacted up to finished, with
// a compaction up to scheduled begun (0: never compacted).
func NewImporter(db *pebble.DB, scheduled, finished int64) *Importer {
	return &Importer{db: db, b: db.NewBatch(), scheduled: max(scheduled, finished), finished: finished, latest: map[string]importedKey{}}
}

// Add writes one version.
func (im *Importer) Add(main, sub int64, tombstone bool, kv *mvccpb.KeyValue) error {
	if main < im.maxRev {
		return fmt.Errorf("mvcc: import out of order: revision %d after %d", main, im.maxRev)
	}
	im.maxRev = main
	rec := record{tombstone: tombstone, sub: sub}
	if !tombstone {
		rec.create, rec.version, rec.lease, rec.value = kv.CreateRevision, kv.Version, kv.Lease, kv.Value
	}
	im.buf = versionKey(im.buf[:0], kv.Key, main)
	klen := len(im.buf)
	im.buf = appendRecord(im.buf, &rec)
	if err := im.b.Set(im.buf[:klen], im.buf[klen:], nil); err != nil {
		return err
	}
	// The change log starts at the finished compaction, as after a
	// compaction here: the compactor walks it from there.
	if main >= im.finished {
		change := appendChange(nil, kv.Key, tombstone)
		if err := im.b.Set(revLogKey(Revision{Main: main, Sub: sub}), change, nil); err != nil {
			return err
		}
	}
	im.latest[string(kv.Key)] = importedKey{tombstone: tombstone, lease: rec.lease}
	if im.b.Len() >= importBatchBytes {
		if err := im.b.Commit(pebble.NoSync); err != nil {
			return err
		}
		im.b.Close()
		im.b = im.db.NewBatch()
	}
	return nil
}

// Abort drops what was added since the last internal commit; the engine is
// then to be thrown away. It is a no-op after Finish.
func (im *Importer) Abort() {
	if im.b != nil {
		im.b.Close()
		im.b = nil
	}
}

// Finish records the revisions and the live-key count, attaches live keys
// to their leases (attach writes the lease index), and commits. bump is
// added to the newest revision; markCompacted also marks that revision
// compacted, so no revision a client saw before is ever served again (the
// store compacts the versions below it when it opens).
func (im *Importer) Finish(attach func(b *pebble.Batch, lease int64, key []byte) error, bump int64, markCompacted bool) error {
	defer im.Abort()
	live := uint64(0)
	for k, v := range im.latest {
		if v.tombstone {
			continue
		}
		live++
		if v.lease != 0 {
			if err := attach(im.b, v.lease, []byte(k)); err != nil {
				return err
			}
		}
	}
	current := max(im.maxRev, 1) + bump
	sets := map[string]uint64{
		string(storage.KeyCurrentRev): uint64(current),
		string(storage.KeyKeyCount):   live,
	}
	scheduled := im.scheduled
	if markCompacted {
		scheduled = current
	}
	if scheduled > 0 {
		sets[string(storage.KeyScheduledCompact)] = uint64(scheduled)
	}
	if im.finished > 0 {
		sets[string(storage.KeyFinishedCompact)] = uint64(im.finished)
	}
	for k, v := range sets {
		if err := im.b.Set([]byte(k), storage.PutUint64(v), nil); err != nil {
			return err
		}
	}
	return im.b.Commit(pebble.Sync)
}
