package raftnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"

	"github.com/cairn-kv/cairn/internal/logging"
)

// Config configures a Node.
type Config struct {
	// ID is this member's raft ID.
	ID uint64
	// Peers bootstraps a new cluster; empty when restarting from a data dir.
	Peers []raft.Peer
	// TickInterval is the heartbeat interval; ElectionTicks and
	// HeartbeatTicks are counted in it.
	TickInterval   time.Duration
	ElectionTicks  int
	HeartbeatTicks int
	// SnapshotCount is how many applied entries beyond CatchUpEntries
	// accumulate before the log is truncated (at most maxTruncateStep);
	// CatchUpEntries of them stay for slow followers.
	SnapshotCount  uint64
	CatchUpEntries uint64
	// Applied is the state machine's applied index at start.
	Applied uint64
	// MaxSizePerMsg bounds the entries per append message.
	MaxSizePerMsg uint64
	// OnFsync, when set, observes each synced log append; OnAppend
	// observes every append, synced or not.
	OnFsync  func(time.Duration)
	OnAppend func(time.Duration)
	// OnLateHeartbeat, when set, counts a heartbeat the leader sent more
	// than twice the heartbeat interval after the previous one to that
	// member (etcd's heartbeat send failures).
	OnLateHeartbeat func()
	// PreVote runs raft's pre-vote phase before elections.
	PreVote bool
	// NoFsync never waits for the log to reach the disk (etcd's
	// --unsafe-no-fsync): a crash of the machine loses acknowledged writes.
	NoFsync bool
	// AdvanceTicks fast-forwards the election clock at start (etcd's
	// --initial-election-tick-advance), so that a cluster coming up elects
	// a leader without waiting out a whole election timeout.
	AdvanceTicks int
}

// Transport sends raft messages to other members.
type Transport interface {
	Send(msgs []*raftpb.Message)
}

// Committed is what the applier must apply next, in log order: a state
// snapshot to install, or a group of committed entries. The applier closes
// Done once it is applied.
type Committed struct {
	Snapshot *raftpb.Snapshot
	Entries  []*raftpb.Entry
	Done     chan struct{}
}

// Node is a running raft member.
//
// It drives raft's RawNode itself rather than through raft.Node: a
// proposal, a read index request or a peer message steps raft in the
// caller's goroutine under mu and wakes the loop, and the loop takes the
// next Ready right after Advance. raft.Node routes each of these through a
// goroutine of its own, a hop per proposal and two per Ready, and with one
// client each hop is a thread wake-up on the path of every write.
type Node struct {
	cfg   Config
	lg    *slog.Logger
	store *LogStore
	tr    Transport

	// mu guards raw and the fields below it.
	mu  sync.Mutex
	raw *raft.RawNode
	// changed is closed and replaced when the leader or this member's
	// membership changes; proposals made while none can be taken wait on
	// it, as raft.Node's proposals do.
	changed chan struct{}
	// removed is set once a configuration without this member is applied.
	removed bool

	// wakec tells the loop that raft may have something ready.
	wakec chan struct{}
	// heartbeats watches the leader's heartbeats for lateness (loop only).
	heartbeats *heartbeatWatch

	committedC chan Committed
	readStateC chan raft.ReadState
	// leaderChangedC receives a value when this member's view of the leader
	// changes; the server re-arms waits that depend on leadership.
	leaderChangedC chan struct{}

	leader  atomic.Uint64
	term    atomic.Uint64
	commit  atomic.Uint64
	applied atomic.Uint64

	// campaign is set while a sole voter should start an election as soon
	// as its applied index reaches campaignAt.
	campaign   bool
	campaignAt uint64

	stopc chan struct{}
	donec chan struct{}
}

// Start starts the raft member over store. The caller must drain Committed
// and ReadStates.
func Start(cfg Config, store *LogStore, tr Transport, lg *slog.Logger) (*Node, error) {
	if cfg.MaxSizePerMsg == 0 {
		cfg.MaxSizePerMsg = 1 << 20
	}
	rc := &raft.Config{
		ID:                        cfg.ID,
		ElectionTick:              cfg.ElectionTicks,
		HeartbeatTick:             cfg.HeartbeatTicks,
		Storage:                   store,
		Applied:                   cfg.Applied,
		MaxSizePerMsg:             cfg.MaxSizePerMsg,
		MaxInflightMsgs:           512,
		MaxUncommittedEntriesSize: 1 << 30,
		CheckQuorum:               true,
		PreVote:                   cfg.PreVote,
		Logger:                    logging.RaftLogger(lg.With("component", "raft")),
	}
	n := &Node{
		cfg:            cfg,
		lg:             lg,
		store:          store,
		tr:             tr,
		changed:        make(chan struct{}),
		wakec:          make(chan struct{}, 1),
		heartbeats:     newHeartbeatWatch(cfg.TickInterval * time.Duration(max(cfg.HeartbeatTicks, 1))),
		committedC:     make(chan Committed, 64),
		readStateC:     make(chan raft.ReadState, 64),
		leaderChangedC: make(chan struct{}, 1),
		stopc:          make(chan struct{}),
		donec:          make(chan struct{}),
	}
	n.applied.Store(cfg.Applied)
	store.RaiseCommit(cfg.Applied)
	hs, cs, _ := store.InitialState()
	n.term.Store(hs.GetTerm())
	n.commit.Store(hs.GetCommit())
	raw, err := raft.NewRawNode(rc)
	if err != nil {
		return nil, err
	}
	if len(cfg.Peers) > 0 {
		if err := raw.Bootstrap(cfg.Peers); err != nil {
			return nil, fmt.Errorf("raftnode: bootstrap: %w", err)
		}
	}
	n.raw = raw
	if n.soleVoter(cs) {
		// Nobody else can win an election, so skip the election timeout:
		// campaign once the bootstrap configuration is applied (raft
		// refuses to campaign while conf changes are pending).
		n.campaignAt = uint64(len(cfg.Peers))
		n.campaign = true
	}
	for range cfg.AdvanceTicks {
		n.raw.Tick()
	}
	go n.run()
	return n, nil
}

func (n *Node) soleVoter(cs *raftpb.ConfState) bool {
	if len(n.cfg.Peers) > 0 {
		return len(n.cfg.Peers) == 1 && n.cfg.Peers[0].ID == n.cfg.ID
	}
	v := cs.GetVoters()
	return len(v) == 1 && v[0] == n.cfg.ID
}

// Committed delivers committed entries in log order.
func (n *Node) Committed() <-chan Committed { return n.committedC }

// ReadStates delivers the results of ReadIndex requests.
func (n *Node) ReadStates() <-chan raft.ReadState { return n.readStateC }

// LeaderChanged receives a value after each change of leader.
func (n *Node) LeaderChanged() <-chan struct{} { return n.leaderChangedC }

// Propose proposes data to the log; it returns once raft accepted it for
// replication, not once it is committed. Without a leader (or once this
// member is removed) it waits for one until ctx ends.
func (n *Node) Propose(ctx context.Context, data []byte) error {
	return n.propose(ctx, func(raw *raft.RawNode) error { return raw.Propose(data) })
}

// ProposeConfChange proposes a membership change.
func (n *Node) ProposeConfChange(ctx context.Context, cc raftpb.ConfChangeI) error {
	return n.propose(ctx, func(raw *raft.RawNode) error { return raw.ProposeConfChange(cc) })
}

func (n *Node) propose(ctx context.Context, step func(*raft.RawNode) error) error {
	for {
		if n.stopped() {
			return raft.ErrStopped
		}
		n.mu.Lock()
		if !n.removed && n.raw.BasicStatus().Lead != raft.None {
			err := step(n.raw)
			n.mu.Unlock()
			n.wake()
			return err
		}
		changed := n.changed
		n.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-n.stopc:
			return raft.ErrStopped
		}
	}
}

// ReadIndex asks for the commit index a linearizable read must wait for.
func (n *Node) ReadIndex(ctx context.Context, rctx []byte) error {
	return n.with(func(raw *raft.RawNode) { raw.ReadIndex(rctx) })
}

// ApplyConfChange applies a committed conf change to raft's configuration.
func (n *Node) ApplyConfChange(cc raftpb.ConfChangeI) *raftpb.ConfState {
	n.mu.Lock()
	before := n.tracked()
	cs := n.raw.ApplyConfChange(cc)
	// raft tracks the progress of every voter (incoming and outgoing) and
	// learner: a member it stopped tracking was removed.
	if before && !n.tracked() {
		// Proposals wait from now on, as a removed member's do in raft.Node.
		n.removed = true
		n.signalChanged()
	}
	n.mu.Unlock()
	n.wake()
	return cs
}

// tracked reports whether raft tracks this member's progress. Callers hold mu.
func (n *Node) tracked() bool {
	found := false
	n.raw.WithProgress(func(id uint64, _ raft.ProgressType, _ tracker.Progress) {
		found = found || id == n.cfg.ID
	})
	return found
}

// Step feeds a message received from a peer. Messages raft must not take
// from the network, and responses from members it does not know, are
// dropped, as raft.Node drops them. A forwarded proposal waits for a
// leader as a local one does.
func (n *Node) Step(ctx context.Context, m *raftpb.Message) error {
	if m == nil {
		return errors.New("raftnode: nil message")
	}
	if m.GetType() == raftpb.MsgProp {
		return n.propose(ctx, func(raw *raft.RawNode) error { return raw.Step(m) })
	}
	var err error
	if e := n.with(func(raw *raft.RawNode) { err = raw.Step(m) }); e != nil {
		return e
	}
	if errors.Is(err, raft.ErrStepLocalMsg) || errors.Is(err, raft.ErrStepPeerNotFound) {
		return nil
	}
	return err
}

// ReportUnreachable tells raft a message to id could not be delivered.
func (n *Node) ReportUnreachable(id uint64) {
	_ = n.with(func(raw *raft.RawNode) { raw.ReportUnreachable(id) })
}

// ReportSnapshot tells raft how sending a snapshot to id ended.
func (n *Node) ReportSnapshot(id uint64, status raft.SnapshotStatus) {
	_ = n.with(func(raw *raft.RawNode) { raw.ReportSnapshot(id, status) })
}

// TransferLeadership asks the leader to hand leadership to transferee.
func (n *Node) TransferLeadership(ctx context.Context, transferee uint64) {
	_ = n.with(func(raw *raft.RawNode) { raw.TransferLeader(transferee) })
}

// with runs f on raft under mu and wakes the loop to collect what f made
// ready. It fails once the node is stopped.
func (n *Node) with(f func(*raft.RawNode)) error {
	if n.stopped() {
		return raft.ErrStopped
	}
	n.mu.Lock()
	f(n.raw)
	n.mu.Unlock()
	n.wake()
	return nil
}

func (n *Node) wake() {
	select {
	case n.wakec <- struct{}{}:
	default:
	}
}

func (n *Node) stopped() bool {
	select {
	case <-n.stopc:
		return true
	default:
		return false
	}
}

// signalChanged wakes proposals waiting for a leader. Callers hold mu.
func (n *Node) signalChanged() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// SetApplied records the applied index once the applier committed it.
func (n *Node) SetApplied(index uint64) { n.applied.Store(index) }

// Applied is the last applied index.
func (n *Node) Applied() uint64 { return n.applied.Load() }

// Leader is the current leader's ID, 0 if none is known.
func (n *Node) Leader() uint64 { return n.leader.Load() }

// IsLeader reports whether this member leads.
func (n *Node) IsLeader() bool { return n.leader.Load() == n.cfg.ID }

// Term is the current raft term.
func (n *Node) Term() uint64 { return n.term.Load() }

// CommitIndex is the last known commit index.
func (n *Node) CommitIndex() uint64 { return n.commit.Load() }

// ID is this member's raft ID.
func (n *Node) ID() uint64 { return n.cfg.ID }

// Status is raft's full status.
func (n *Node) Status() raft.Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.raw.Status()
}

// Stop stops the loop and raft.
func (n *Node) Stop() {
	select {
	case <-n.stopc:
	default:
		close(n.stopc)
	}
	<-n.donec
}

func (n *Node) run() {
	defer close(n.donec)
	ticker := time.NewTicker(n.cfg.TickInterval)
	defer ticker.Stop()
	for {
		// Ticks and stops come first even while Readies keep coming, so
		// that a busy leader still sends heartbeats.
		select {
		case <-n.stopc:
			return
		case <-ticker.C:
			n.tick()
		default:
		}
		if rd, ok := n.ready(); ok {
			if !n.handleReady(rd) {
				return
			}
			continue
		}
		select {
		case <-ticker.C:
			n.tick()
		case <-n.wakec:
		case <-n.stopc:
			return
		}
	}
}

func (n *Node) tick() {
	n.mu.Lock()
	n.raw.Tick()
	n.mu.Unlock()
	n.maybeCampaign()
}

// ready takes raft's next Ready, if it has one.
func (n *Node) ready() (raft.Ready, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.raw.HasReady() {
		return raft.Ready{}, false
	}
	rd := n.raw.Ready()
	if rd.SoftState != nil {
		n.signalChanged()
	}
	return rd, true
}

// handleReady persists, sends and hands off one Ready. It returns false when
// the node is stopping.
func (n *Node) handleReady(rd raft.Ready) bool {
	if rd.SoftState != nil {
		n.setLeader(rd.SoftState.Lead)
	}
	if rd.HardState != nil && !raft.IsEmptyHardState(rd.HardState) {
		n.term.Store(rd.HardState.GetTerm())
		n.commit.Store(rd.HardState.GetCommit())
	}
	for _, rs := range rd.ReadStates {
		n.deliverReadState(rs)
	}
	// A leader may send before persisting (its own log write happens in
	// parallel with the followers'); a follower must persist first.
	leader := n.IsLeader()
	if leader {
		n.send(rd.Messages)
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		// The snapshot is persisted before the entries that follow it, and
		// installed before any of them is applied.
		if err := n.store.ApplySnapshot(rd.Snapshot); err != nil {
			panic(fmt.Sprintf("raftnode: persist snapshot: %v", err))
		}
	}
	// Committed entries that are already on this member's disk go to the
	// applier before this Ready's own write, so applying them overlaps the
	// fsync instead of waiting for it: on a leader that is every committed
	// entry, as raft counts the leader's own vote only once an entry was
	// persisted by an earlier Ready. Entries committed but still in this
	// Ready's Entries (a follower catching up) wait for the write: the
	// applied index must never pass the durable log.
	early, late := splitDurable(rd, n.store)
	earlyDone, ok := n.hand(early)
	if !ok {
		return false
	}
	// raft's MustSync compares its hard state with the last one handed
	// out; a Ready without a new hard state (nil) and without entries
	// needs no sync.
	sync := rd.MustSync && !n.cfg.NoFsync
	start := time.Now()
	if err := n.store.Append(rd.HardState, rd.Entries, sync); err != nil {
		panic(fmt.Sprintf("raftnode: persist raft log: %v", err))
	}
	took := time.Since(start)
	if sync && n.cfg.OnFsync != nil {
		n.cfg.OnFsync(took)
	}
	if n.cfg.OnAppend != nil {
		n.cfg.OnAppend(took)
	}
	if !leader {
		n.send(rd.Messages)
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		c := Committed{Snapshot: rd.Snapshot, Done: make(chan struct{})}
		select {
		case n.committedC <- c:
		case <-n.stopc:
			return false
		}
		select {
		case <-c.Done:
		case <-n.stopc:
			return false
		}
	}
	lateDone, ok := n.hand(late)
	if !ok {
		return false
	}
	// Raft must see a new configuration before the next Ready.
	for _, done := range []<-chan struct{}{earlyDone, lateDone} {
		if done == nil {
			continue
		}
		select {
		case <-done:
		case <-n.stopc:
			return false
		}
	}
	n.mu.Lock()
	n.raw.Advance(rd)
	n.mu.Unlock()
	n.maybeTruncate()
	n.maybeCampaign()
	return true
}

// splitDurable splits a Ready's committed entries into those already durable
// in the log (at or below the persisted last index and below any entry this
// Ready rewrites) and the rest. With a snapshot to install, none count as
// durable: the snapshot goes first.
func splitDurable(rd raft.Ready, store *LogStore) (durable, rest []*raftpb.Entry) {
	ents := rd.CommittedEntries
	if len(ents) == 0 {
		return nil, nil
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		return nil, ents
	}
	bound, _ := store.LastIndex()
	if len(rd.Entries) > 0 {
		bound = min(bound, rd.Entries[0].GetIndex()-1)
	}
	i := sort.Search(len(ents), func(i int) bool { return ents[i].GetIndex() > bound })
	return ents[:i], ents[i:]
}

// hand passes committed entries to the applier. It returns a channel to
// wait on when they hold a configuration change (nil otherwise), and false
// when the node is stopping.
func (n *Node) hand(ents []*raftpb.Entry) (<-chan struct{}, bool) {
	if len(ents) == 0 {
		return nil, true
	}
	c := Committed{Entries: ents, Done: make(chan struct{})}
	select {
	case n.committedC <- c:
	case <-n.stopc:
		return nil, false
	}
	if hasConfChange(ents) {
		return c.Done, true
	}
	return nil, true
}

func (n *Node) maybeCampaign() {
	if !n.campaign || n.applied.Load() < n.campaignAt {
		return
	}
	n.campaign = false
	if n.leader.Load() != 0 {
		return
	}
	n.mu.Lock()
	err := n.raw.Campaign()
	n.mu.Unlock()
	if err != nil {
		n.lg.Warn("cannot start election", "error", err)
	}
}

// deliverReadState hands a ReadIndex answer to the reader without ever
// blocking the raft loop: when the reader is not keeping up (answers to
// requests it retried or gave up on pile up after a partition heals), the
// oldest answer makes room. A reader whose answer is dropped retries.
func (n *Node) deliverReadState(rs raft.ReadState) {
	for {
		select {
		case n.readStateC <- rs:
			return
		default:
		}
		select {
		case <-n.readStateC:
		default:
		}
	}
}

// watchHeartbeats warns about, and counts, heartbeats that leave later
// than twice the heartbeat interval after the previous one.
func (n *Node) watchHeartbeats(msgs []*raftpb.Message) {
	now := time.Now()
	for _, m := range msgs {
		if m.GetType() != raftpb.MsgHeartbeat {
			continue
		}
		late := n.heartbeats.sent(m.GetTo(), now)
		if late == 0 {
			continue
		}
		n.lg.Warn("leader failed to send out heartbeat on time; took too long, leader is overloaded likely from slow disk",
			"to", fmt.Sprintf("%x", m.GetTo()), "heartbeat-interval", n.heartbeats.max/2,
			"expected-duration", n.heartbeats.max, "exceeded-duration", late)
		if n.cfg.OnLateHeartbeat != nil {
			n.cfg.OnLateHeartbeat()
		}
	}
}

func (n *Node) setLeader(lead uint64) {
	if n.leader.Swap(lead) == lead {
		return
	}
	n.heartbeats.reset()
	n.lg.Info("raft leader changed", "leader", fmt.Sprintf("%x", lead), "term", n.term.Load())
	select {
	case n.leaderChangedC <- struct{}{}:
	default:
	}
}

func (n *Node) send(msgs []*raftpb.Message) {
	if len(msgs) == 0 || n.tr == nil {
		return
	}
	n.watchHeartbeats(msgs)
	n.tr.Send(coalesceAppends(msgs, n.cfg.MaxSizePerMsg))
}

// maxTruncateStep bounds how many applied entries beyond CatchUpEntries
// pile up before a truncation. The log shares the engine's memtable with the
// state machine: entries truncated before a flush are dropped from it,
// while entries still live are written to tables and compacted again, so
// frequent small truncations save the engine work (measured: about a tenth
// of a member's CPU under 10-put txns with 256-byte values).
const maxTruncateStep = 1000

// maybeTruncate drops applied log entries, keeping CatchUpEntries for
// followers that lag a little.
func (n *Node) maybeTruncate() {
	first, _ := n.store.FirstIndex()
	index, ok := truncateIndex(n.applied.Load(), first, n.cfg.SnapshotCount, n.cfg.CatchUpEntries)
	if !ok {
		return
	}
	if err := n.store.Truncate(index); err != nil {
		panic(fmt.Sprintf("raftnode: truncate raft log: %v", err))
	}
	n.lg.Debug("truncated raft log", "index", index, "applied", index+n.cfg.CatchUpEntries)
}

// truncateIndex says up to which index to truncate a log starting at first
// with applied entries applied: once catchUp entries plus a step (the
// snapshot count, at most maxTruncateStep) are applied, all but the newest
// catchUp go. A snapshot count of 0 never truncates.
func truncateIndex(applied, first, snapshotCount, catchUp uint64) (uint64, bool) {
	if snapshotCount == 0 || applied <= catchUp {
		return 0, false
	}
	step := min(snapshotCount, maxTruncateStep)
	if applied-(first-1) < catchUp+step {
		return 0, false
	}
	return applied - catchUp, true
}

func hasConfChange(ents []*raftpb.Entry) bool {
	for _, e := range ents {
		switch e.GetType() {
		case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
			return true
		}
	}
	return false
}
