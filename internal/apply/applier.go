// Package apply is the deterministic state machine: it executes committed
// raft entries, in log order, against the MVCC store and the membership, and
// hands each proposer its result.
//
// All entries of one raftnode.Committed group are applied in one engine
// batch together with the applied index, so a restart resumes exactly after
// the last applied entry. The batch is not synced: the raft log is the
// durable record, and the engine's single WAL orders this batch before any
// later synced raft append.
package apply

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/alarm"
	"github.com/cairn-kv/cairn/internal/auth"
	"github.com/cairn-kv/cairn/internal/lease"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/mvcc"
	"github.com/cairn-kv/cairn/internal/raftnode"
	"github.com/cairn-kv/cairn/internal/storage"
	"github.com/cairn-kv/cairn/internal/v2store"
)

// ErrUnsupported is returned for requests this member cannot apply.
var ErrUnsupported = errors.New("etcdserver: request not supported")

// Result is what a proposer receives once its entry is applied.
type Result struct {
	// Resp is the response message; its header holds only the revision.
	Resp proto.Message
	Err  error
	// V2Event is the v2 store's answer to a v2 request (see v2.go).
	V2Event *v2store.Event
}

// Waiter delivers results to the goroutines waiting on request IDs.
type Waiter interface {
	Trigger(id uint64, r Result)
}

// ConfChanger is the raft node's side of a membership change.
type ConfChanger interface {
	ApplyConfChange(cc raftpb.ConfChangeI) *raftpb.ConfState
	SetApplied(index uint64)
}

// ConfStateRecorder keeps the raft log store's copy of the conf state.
type ConfStateRecorder interface {
	SetConfState(cs *raftpb.ConfState)
}

// Applier applies committed entries.
type Applier struct {
	db      *pebble.DB
	kv      *mvcc.Store
	lessor  *lease.Lessor
	alarms  *alarm.Store
	auth    *auth.Store
	cluster *membership.Cluster
	v2      *v2store.Store
	raft    ConfChanger
	confRec ConfStateRecorder
	wait    Waiter
	lg      *slog.Logger

	appliedIndex uint64
	appliedTerm  uint64
	// membershipChanged is set while applying a group that changed the
	// members; onMembership runs once the group is committed.
	membershipChanged bool
	onMembership      func()
	onCommit          func(time.Duration)
	onApplied         func(op string, success bool, took time.Duration)
	onSnapshot        func(installing bool)
	slow              SlowLog
}

// Config wires an Applier.
type Config struct {
	Engine  *storage.Engine
	KV      *mvcc.Store
	Lessor  *lease.Lessor
	Alarms  *alarm.Store
	Auth    *auth.Store
	Cluster *membership.Cluster
	// V2 is the v2 key space; nil refuses v2 requests.
	V2        *v2store.Store
	Raft      ConfChanger
	ConfState ConfStateRecorder
	Wait      Waiter
	// OnMembership runs after a committed group changed the members (the
	// server updates its peers).
	OnMembership func()
	// OnCommit, when set, observes each engine batch commit.
	OnCommit func(time.Duration)
	// OnApplied, when set, observes each applied request: its operation
	// as etcd names it (see Op), whether it succeeded (a compacted-revision
	// error counts as success, as in etcd) and how long it took.
	OnApplied func(op string, success bool, took time.Duration)
	// WarningApplyDuration is --warning-apply-duration: applying a request
	// that takes longer is logged as slow (0: never).
	WarningApplyDuration time.Duration
	// OnSlowApply, when set, counts each request logged as slow.
	OnSlowApply func()
	// OnSnapshot, when set, hears that the install of a state snapshot
	// from the leader starts (true) and ends (false).
	OnSnapshot func(installing bool)
}

// New creates an applier resuming after the applied index stored in the
// engine.
func New(cfg Config, lg *slog.Logger) (*Applier, error) {
	a := &Applier{
		db: cfg.Engine.DB(), kv: cfg.KV, lessor: cfg.Lessor, alarms: cfg.Alarms, auth: cfg.Auth, cluster: cfg.Cluster, v2: cfg.V2,
		raft: cfg.Raft, confRec: cfg.ConfState, wait: cfg.Wait, lg: lg, onMembership: cfg.OnMembership, onCommit: cfg.OnCommit,
		onApplied: cfg.OnApplied, onSnapshot: cfg.OnSnapshot,
		slow: SlowLog{Logger: lg, Threshold: cfg.WarningApplyDuration, OnSlow: cfg.OnSlowApply},
	}
	idx, term, err := LoadApplied(a.db)
	if err != nil {
		return nil, err
	}
	a.appliedIndex, a.appliedTerm = idx, term
	return a, nil
}

// LoadApplied reads the applied index and term from the engine.
func LoadApplied(r pebble.Reader) (index, term uint64, err error) {
	v, ok, err := storage.Get(r, storage.KeyApplied)
	if err != nil || !ok {
		return 0, 0, err
	}
	if len(v) != 16 {
		return 0, 0, fmt.Errorf("apply: applied index record has %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:]), nil
}

// AppliedIndex is the last applied index (applier goroutine only).
func (a *Applier) AppliedIndex() uint64 { return a.appliedIndex }

// Run applies committed groups until the channel is closed or stop closes.
func (a *Applier) Run(committed <-chan raftnode.Committed, stop <-chan struct{}) {
	for {
		select {
		case c := <-committed:
			a.Apply(c)
		case <-stop:
			return
		}
	}
}

type pendingResult struct {
	id uint64
	r  Result
}

// Apply applies one group of committed entries. Engine failures are fatal:
// the member cannot continue with a state machine it failed to write.
func (a *Applier) Apply(c raftnode.Committed) {
	defer close(c.Done)
	defer a.notifyMembership()
	if c.Snapshot != nil {
		a.installSnapshot(c.Snapshot)
		a.raft.SetApplied(a.appliedIndex)
		return
	}
	b := a.db.NewIndexedBatch()
	defer b.Close()
	wb := a.kv.NewBatch(b)
	var results []pendingResult
	var confState *raftpb.ConfState
	for _, e := range c.Entries {
		if e.GetIndex() <= a.appliedIndex {
			continue
		}
		switch e.GetType() {
		case raftpb.EntryNormal:
			if id, r, ok := a.applyNormal(b, wb, e); ok {
				results = append(results, pendingResult{id, r})
			}
		case raftpb.EntryConfChange:
			cs, id, r := a.applyConfChange(b, e)
			confState = cs
			results = append(results, pendingResult{id, r})
		default:
			panic(fmt.Sprintf("apply: unsupported entry type %v at %d", e.GetType(), e.GetIndex()))
		}
		a.appliedIndex, a.appliedTerm = e.GetIndex(), e.GetTerm()
	}
	a.commit(b, wb, confState)
	a.raft.SetApplied(a.appliedIndex)
	for _, p := range results {
		if p.id != 0 {
			a.wait.Trigger(p.id, p.r)
		}
	}
}

func (a *Applier) notifyMembership() {
	if a.membershipChanged && a.onMembership != nil {
		a.onMembership()
	}
	a.membershipChanged = false
}

func (a *Applier) commit(b *pebble.Batch, wb *mvcc.Batch, cs *raftpb.ConfState) {
	must(wb.Finish())
	applied := make([]byte, 16)
	binary.BigEndian.PutUint64(applied, a.appliedIndex)
	binary.BigEndian.PutUint64(applied[8:], a.appliedTerm)
	must(b.Set(storage.KeyApplied, applied, nil))
	if cs != nil {
		data, err := proto.Marshal(cs)
		must(err)
		must(b.Set(storage.KeyConfState, data, nil))
	}
	start := time.Now()
	must(b.Commit(pebble.NoSync))
	if a.onCommit != nil {
		a.onCommit(time.Since(start))
	}
	a.kv.Publish(wb)
	if cs != nil {
		a.confRec.SetConfState(cs)
	}
}

func must(err error) {
	if err != nil {
		panic(fmt.Sprintf("apply: engine write failed: %v", err))
	}
}

// applyNormal applies a normal entry; empty entries (appended by a new
// leader) carry nothing.
func (a *Applier) applyNormal(b *pebble.Batch, wb *mvcc.Batch, e *raftpb.Entry) (uint64, Result, bool) {
	if len(e.GetData()) == 0 {
		return 0, Result{}, false
	}
	req := &pb.InternalRaftRequest{}
	if err := proto.Unmarshal(e.GetData(), req); err != nil {
		// Every member decodes the same bytes the same way, so skipping is
		// deterministic; it can only come from a bug or foreign data.
		a.lg.Error("skipping undecodable raft entry", "index", e.GetIndex(), "error", err)
		return 0, Result{}, false
	}
	start := time.Now()
	res := a.applyRequest(b, wb, req)
	if a.onApplied != nil {
		a.onApplied(Op(req), res.Err == nil || errors.Is(res.Err, mvcc.ErrCompacted), time.Since(start))
	}
	a.slow.Applied(start, req, res)
	return requestID(req), res, true
}

func requestID(r *pb.InternalRaftRequest) uint64 {
	if r.Header != nil && r.Header.ID != 0 {
		return r.Header.ID
	}
	return r.ID
}

func (a *Applier) applyRequest(b *pebble.Batch, wb *mvcc.Batch, r *pb.InternalRaftRequest) Result {
	if err := a.refusedByAlarm(r); err != nil {
		return Result{Err: err}
	}
	if err := a.permitted(r); err != nil {
		return Result{Err: err}
	}
	if res, ok := a.applyV2(b, r); ok {
		return res
	}
	if res, ok := a.applyAuth(b, wb, r); ok {
		return res
	}
	switch {
	case r.Alarm != nil:
		return a.applyAlarm(b, wb, r.Alarm)
	case r.Put != nil:
		return writeTxn(wb, func(wt *mvcc.WriteTxn) (proto.Message, error) { return wt.Put(r.Put) })
	case r.DeleteRange != nil:
		return writeTxn(wb, func(wt *mvcc.WriteTxn) (proto.Message, error) { return wt.DeleteRange(r.DeleteRange) })
	case r.Txn != nil:
		return writeTxn(wb, func(wt *mvcc.WriteTxn) (proto.Message, error) { return wt.Txn(r.Txn) })
	case r.Range != nil:
		return writeTxn(wb, func(wt *mvcc.WriteTxn) (proto.Message, error) { return wt.Range(r.Range) })
	case r.Compaction != nil:
		if err := wb.Compact(r.Compaction.Revision); err != nil {
			return Result{Err: err}
		}
		return Result{Resp: &pb.CompactionResponse{Header: &pb.ResponseHeader{Revision: wb.Rev()}}}
	case r.LeaseGrant != nil:
		return a.leaseGrant(b, wb, r.LeaseGrant)
	case r.LeaseRevoke != nil:
		return a.leaseRevoke(b, wb, r.LeaseRevoke)
	case r.LeaseCheckpoint != nil:
		for _, cp := range r.LeaseCheckpoint.GetCheckpoints() {
			must(a.lessor.Checkpoint(b, cp.GetID(), cp.GetRemaining_TTL()))
		}
		return Result{Resp: &pb.LeaseCheckpointResponse{Header: &pb.ResponseHeader{Revision: wb.Rev()}}}
	case r.ClusterMemberAttrSet != nil:
		attr := r.ClusterMemberAttrSet
		err := a.cluster.SetAttributes(b, attr.GetMember_ID(), attr.GetMemberAttributes().GetName(), attr.GetMemberAttributes().GetClientUrls())
		must(err)
		a.recordV2Cluster(b, r)
		return Result{}
	case r.ClusterVersionSet != nil:
		must(a.cluster.SetVersion(b, r.ClusterVersionSet.GetVer()))
		a.recordV2Cluster(b, r)
		return Result{}
	}
	return Result{Err: ErrUnsupported}
}

// writeTxn runs fn in one write transaction; a failed request changes
// nothing because every request validates before it writes.
func writeTxn(wb *mvcc.Batch, fn func(*mvcc.WriteTxn) (proto.Message, error)) Result {
	wt := wb.Txn()
	resp, err := fn(wt)
	wt.End()
	if err != nil {
		return Result{Err: err}
	}
	return Result{Resp: resp}
}
