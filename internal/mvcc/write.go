package mvcc

import (
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/cairn-kv/cairn/internal/storage"
)

// Batch collects the writes of consecutive raft entries in one indexed
// engine batch. Only the applier goroutine uses it: NewBatch, any number of
// Txn/Compact calls, Finish, the engine commit, then Store.Publish.
type Batch struct {
	s          *Store
	b          *pebble.Batch
	rev        int64 // current revision including this batch's transactions
	compact    int64 // compaction accepted in this batch, when hasCompact
	hasCompact bool
	keyDelta   int64 // keys created minus keys deleted in this batch
	putBytes   int64 // keys and values put in this batch
	events     []revEvents
	buf        []byte
	// overlay holds the newest version of every key this batch wrote,
	// ahead of the store's latest cache until Publish merges it there.
	overlay map[string]latestEntry
}

type revEvents struct {
	rev    int64
	events []*mvccpb.Event
}

// NewBatch starts a batch over b, which must be an indexed batch so that
// transactions read their own and earlier entries' writes.
func (s *Store) NewBatch(b *pebble.Batch) *Batch {
	wb := &Batch{s: s, b: b, rev: s.currentRev.Load(), overlay: s.spareOverlay}
	s.spareOverlay = nil
	return wb
}

// Rev is the current revision as of the writes in the batch so far.
func (wb *Batch) Rev() int64 { return wb.rev }

func (wb *Batch) compactRev() int64 {
	if wb.hasCompact {
		return wb.compact
	}
	return wb.s.compactRev.Load()
}

// Compact accepts a compaction at rev: reads below rev fail from the moment
// the batch is published; old versions are removed in the background.
func (wb *Batch) Compact(rev int64) error {
	if rev <= wb.compactRev() {
		return ErrCompacted
	}
	if rev > wb.rev {
		return ErrFutureRev
	}
	wb.compact, wb.hasCompact = rev, true
	return wb.b.Set(storage.KeyScheduledCompact, storage.PutUint64(uint64(rev)), nil)
}

// Finish records the batch's revision; call it once, before the commit.
func (wb *Batch) Finish() error {
	if wb.rev == wb.s.currentRev.Load() {
		return nil
	}
	if wb.keyDelta != 0 {
		n := uint64(wb.s.keys.Load() + wb.keyDelta)
		if err := wb.b.Set(storage.KeyKeyCount, storage.PutUint64(n), nil); err != nil {
			return err
		}
	}
	return wb.b.Set(storage.KeyCurrentRev, storage.PutUint64(uint64(wb.rev)), nil)
}

// Publish makes a committed batch visible to readers and observers.
func (s *Store) Publish(wb *Batch) {
	s.keys.Add(wb.keyDelta)
	s.putBytes.Add(wb.putBytes)
	s.currentRev.Store(wb.rev)
	for k, e := range wb.overlay {
		s.latest.put(k, e)
	}
	clear(wb.overlay)
	s.spareOverlay, wb.overlay = wb.overlay, nil
	if s.observer != nil {
		for _, re := range wb.events {
			s.observer.OnRevision(re.rev, re.events)
		}
	}
	if wb.hasCompact {
		s.compactRev.Store(wb.compact)
		s.compactor.schedule(wb.compact)
	}
	s.filters.grow(s)
}

// Txn begins a write transaction at the batch's next revision.
func (wb *Batch) Txn() *WriteTxn {
	return &WriteTxn{wb: wb, begin: wb.rev}
}

// WriteTxn is one write transaction: every change in it shares one main
// revision. Reads inside it see its earlier writes.
type WriteTxn struct {
	wb      *Batch
	begin   int64
	changes int64
	events  []*mvccpb.Event
}

// Rev is the transaction's current revision: the begin revision, plus one
// once it changed something.
func (wt *WriteTxn) Rev() int64 {
	if wt.changes > 0 {
		return wt.begin + 1
	}
	return wt.begin
}

// End closes the transaction and returns its revision.
func (wt *WriteTxn) End() int64 {
	rev := wt.Rev()
	wt.wb.rev = rev
	if len(wt.events) > 0 {
		wt.wb.events = append(wt.wb.events, revEvents{rev: rev, events: wt.events})
	}
	return rev
}

func (wt *WriteTxn) view() *readView {
	return &readView{r: wt.wb.b, curRev: wt.Rev(), compactRev: wt.wb.compactRev, prefixSeek: wt.wb.s.prefixSeek}
}

// Range reads inside the transaction.
func (wt *WriteTxn) Range(req *pb.RangeRequest) (*pb.RangeResponse, error) {
	return wt.view().rangeRequest(req)
}

// latest returns key's newest live version (including this transaction's
// writes) without its value, or nil; loadValue reads the value.
func (wt *WriteTxn) latest(key []byte) (*record, int64, error) {
	if e, ok := wt.wb.overlay[string(key)]; ok {
		rec, mod := e.get()
		return rec, mod, nil
	}
	if e, ok := wt.wb.s.latest.get(key); ok {
		rec, mod := e.get()
		return rec, mod, nil
	}
	if wt.wb.s.filters.absent(key) {
		return nil, 0, nil
	}
	s, err := newScanner(wt.wb.b, key, nil, math.MaxInt64, wt.wb.s.prefixSeek)
	if err != nil {
		return nil, 0, err
	}
	defer s.close()
	ok, err := s.next()
	if err != nil {
		return nil, 0, err
	}
	// The batch has not written key (it is not in the overlay), so what the
	// seek found is committed state and may be cached.
	var e latestEntry
	if ok {
		e = newLatestEntry(s.mod, &s.rec)
	}
	wt.wb.s.latest.put(string(key), e)
	rec, mod := e.get()
	return rec, mod, nil
}

// loadValue fills rec, key's version at mod as latest returned it, with the
// version's value, read through the batch.
func (wt *WriteTxn) loadValue(key []byte, mod int64, rec *record) error {
	wt.wb.buf = versionKey(wt.wb.buf[:0], key, mod)
	v, ok, err := storage.Get(wt.wb.b, wt.wb.buf)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("mvcc: version %d of key %q is missing", mod, key)
	}
	var stored record
	if err := decodeRecord(v, &stored); err != nil {
		return err
	}
	rec.value = stored.value
	return nil
}

// get returns key's live version including this transaction's writes.
func (wt *WriteTxn) get(key []byte, withValue bool) (*mvccpb.KeyValue, error) {
	rec, mod, err := wt.latest(key)
	if err != nil || rec == nil {
		return nil, err
	}
	if withValue {
		if err := wt.loadValue(key, mod, rec); err != nil {
			return nil, err
		}
	}
	return rec.keyValue(key, mod, withValue), nil
}

// checkPut reports the error a put would fail with, without writing.
func (wt *WriteTxn) checkPut(req *pb.PutRequest) error {
	prev, _, err := wt.latest(req.Key)
	if err != nil {
		return err
	}
	return wt.validatePut(req, prev)
}

func (wt *WriteTxn) validatePut(req *pb.PutRequest, prev *record) error {
	// etcd checks the lease first: an unknown lease wins over a missing key.
	if req.Lease != 0 && !wt.wb.s.leases.LeaseExists(req.Lease) {
		return ErrLeaseNotFound
	}
	if (req.IgnoreValue || req.IgnoreLease) && prev == nil {
		return ErrKeyNotFound
	}
	return nil
}

// Put writes key with etcd's put semantics. Its event carries the previous
// version only when the request asked for it; observers read it otherwise.
func (wt *WriteTxn) Put(req *pb.PutRequest) (*pb.PutResponse, error) {
	prev, prevMod, err := wt.latest(req.Key)
	if err != nil {
		return nil, err
	}
	if err := wt.validatePut(req, prev); err != nil {
		return nil, err
	}
	if prev != nil && (req.PrevKv || req.IgnoreValue) {
		if err := wt.loadValue(req.Key, prevMod, prev); err != nil {
			return nil, err
		}
	}
	rev := wt.begin + 1
	rec := record{sub: wt.changes, create: rev, version: 1, lease: req.Lease, value: req.Value}
	if prev != nil {
		rec.create, rec.version = prev.create, prev.version+1
		if req.IgnoreValue {
			rec.value = prev.value
		}
		if req.IgnoreLease {
			rec.lease = prev.lease
		}
	}
	var prevKV *mvccpb.KeyValue
	if prev != nil && req.PrevKv {
		prevKV = prev.keyValue(req.Key, prevMod, true)
	}
	if err := wt.write(req.Key, &rec); err != nil {
		return nil, err
	}
	if err := wt.moveLease(req.Key, prev, rec.lease); err != nil {
		return nil, err
	}
	if prev == nil {
		wt.wb.keyDelta++
	}
	wt.wb.putBytes += int64(len(req.Key) + len(rec.value))
	resp := &pb.PutResponse{Header: &pb.ResponseHeader{Revision: wt.Rev()}, PrevKv: prevKV}
	if wt.wb.s.observer != nil {
		kv := rec.keyValue(req.Key, rev, true)
		wt.events = append(wt.events, &mvccpb.Event{Type: mvccpb.PUT, Kv: kv, PrevKv: prevKV})
	}
	return resp, nil
}

// DeleteRange deletes every live key in [key, range_end).
func (wt *WriteTxn) DeleteRange(req *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	if len(req.RangeEnd) == 0 {
		return wt.deleteKey(req)
	}
	rr, err := wt.view().scanKVs(req.Key, NormalizeRangeEnd(req.RangeEnd), math.MaxInt64, 0, false, !req.PrevKv)
	if err != nil {
		return nil, err
	}
	for _, kv := range rr.kvs {
		if err := wt.deleteLive(kv, req.PrevKv); err != nil {
			return nil, err
		}
	}
	resp := &pb.DeleteRangeResponse{Header: &pb.ResponseHeader{Revision: wt.Rev()}, Deleted: int64(len(rr.kvs))}
	if req.PrevKv {
		resp.PrevKvs = rr.kvs
	}
	return resp, nil
}

// deleteKey deletes a single key, found like a put finds it: through the
// batch, the newest-version cache and the key filter before the engine.
func (wt *WriteTxn) deleteKey(req *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	prev, prevMod, err := wt.latest(req.Key)
	if err != nil {
		return nil, err
	}
	resp := &pb.DeleteRangeResponse{}
	if prev != nil {
		if req.PrevKv {
			if err := wt.loadValue(req.Key, prevMod, prev); err != nil {
				return nil, err
			}
		}
		kv := prev.keyValue(req.Key, prevMod, req.PrevKv)
		if err := wt.deleteLive(kv, req.PrevKv); err != nil {
			return nil, err
		}
		resp.Deleted = 1
		if req.PrevKv {
			resp.PrevKvs = []*mvccpb.KeyValue{kv}
		}
	}
	resp.Header = &pb.ResponseHeader{Revision: wt.Rev()}
	return resp, nil
}

// deleteLive writes the tombstone of kv, a live key, and detaches it from
// its lease. withValue: kv holds the value, and the event carries kv as the
// previous version; observers read it otherwise.
func (wt *WriteTxn) deleteLive(kv *mvccpb.KeyValue, withValue bool) error {
	rev := wt.begin + 1
	if err := wt.write(kv.Key, &record{tombstone: true, sub: wt.changes}); err != nil {
		return err
	}
	wt.wb.keyDelta--
	if kv.Lease != 0 {
		if err := wt.wb.s.leases.Detach(wt.wb.b, kv.Lease, kv.Key); err != nil {
			return err
		}
	}
	if wt.wb.s.observer != nil {
		ev := &mvccpb.Event{Type: mvccpb.DELETE, Kv: &mvccpb.KeyValue{Key: kv.Key, ModRevision: rev}}
		if withValue {
			ev.PrevKv = kv
		}
		wt.events = append(wt.events, ev)
	}
	return nil
}

// moveLease records a key's change of lease: detached from the previous
// version's lease, attached to the new one.
func (wt *WriteTxn) moveLease(key []byte, prev *record, lease int64) error {
	var old int64
	if prev != nil {
		old = prev.lease
	}
	if old == lease {
		return nil
	}
	if old != 0 {
		if err := wt.wb.s.leases.Detach(wt.wb.b, old, key); err != nil {
			return err
		}
	}
	if lease != 0 {
		return wt.wb.s.leases.Attach(wt.wb.b, lease, key)
	}
	return nil
}

// remember records key's new newest version in the batch's overlay.
func (wt *WriteTxn) remember(key []byte, mod int64, rec *record) {
	if wt.wb.overlay == nil {
		wt.wb.overlay = make(map[string]latestEntry)
	}
	wt.wb.overlay[string(key)] = newLatestEntry(mod, rec)
}

// write adds one change: the version entry and its change-log entry.
func (wt *WriteTxn) write(key []byte, rec *record) error {
	rev := Revision{Main: wt.begin + 1, Sub: wt.changes}
	buf := versionKey(wt.wb.buf[:0], key, rev.Main)
	klen := len(buf)
	buf = appendRecord(buf, rec)
	if err := wt.wb.b.Set(buf[:klen], buf[klen:], nil); err != nil {
		return err
	}
	if !rec.tombstone {
		wt.wb.s.filters.add(key)
	}
	wt.remember(key, rev.Main, rec)
	wt.wb.buf = appendChange(buf[:0], key, rec.tombstone)
	if err := wt.wb.b.Set(revLogKey(rev), wt.wb.buf, nil); err != nil {
		return err
	}
	wt.changes++
	return nil
}
