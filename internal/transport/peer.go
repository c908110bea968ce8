package transport

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/protobuf/proto"
)

const (
	// maxFrameMessages and maxFrameBytes bound one frame of raft messages.
	maxFrameMessages = 512
	maxFrameBytes    = 4 << 20
	// snapshotChunk is the size of a snapshot data frame.
	snapshotChunk = 1 << 20
	// backoff bounds between reconnection attempts.
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
	// reachableWait is how long a stream to a peer heard from within that
	// time waits for its connection, instead of failing at once.
	reachableWait = time.Second
)

var raftStreamDesc = &grpc.StreamDesc{StreamName: "Raft", ClientStreams: true}

const raftMethod = "/" + serviceName + "/Raft"

var snapshotStreamDesc = &grpc.StreamDesc{StreamName: "Snapshot", ClientStreams: true}

// peer sends to one remote member.
type peer struct {
	t    *Transport
	id   uint64
	msgc chan *raftpb.Message

	mu struct {
		sync.Mutex
		urls []string
		conn *grpc.ClientConn
	}
	snapshotting atomic.Bool
	// activeSince is when the peer last became reachable (unix nanos), 0
	// while it is not: set by a frame or ping that went through, cleared
	// by a broken stream or a failed ping.
	activeSince atomic.Int64
	// unsent counts messages queued or taken for a frame but not yet
	// handed to gRPC (or lost with a broken stream).
	unsent atomic.Int64
	// heardAt is when a raft frame last came from the peer (unix nanos).
	heardAt atomic.Int64
	// streaming is set while a raft stream to the peer is open.
	streaming atomic.Bool
	// retry cuts short the run loop's wait between stream attempts.
	retry  chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newPeer(t *Transport, id uint64, urls []string) *peer {
	ctx, cancel := context.WithCancel(context.Background())
	p := &peer{t: t, id: id, msgc: make(chan *raftpb.Message, t.cfg.QueueSize), retry: make(chan struct{}, 1),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
	p.mu.urls = append([]string(nil), urls...)
	return p
}

func (p *peer) start() {
	go p.run()
	go p.probe()
}

// probe measures the round trip to the peer at once and then now and
// then; it also keeps the peer's reachability current between members that
// have no raft traffic to exchange (two followers). While the peer cannot
// be reached it is probed more often, backing off up to the interval, so
// that a peer that comes up counts as reachable soon.
func (p *peer) probe() {
	retry := minBackoff
	for {
		conn, err := p.connection()
		if err == nil {
			var rtt time.Duration
			rtt, err = p.ping(p.ctx, conn, p.t.cfg.ProbeInterval)
			if err == nil && p.t.cfg.OnRTT != nil {
				p.t.cfg.OnRTT(p.id, rtt)
			}
			p.t.checkRemoved(err)
			p.t.checkForeign(p.id, err)
		}
		p.setActive(err == nil)
		wait := p.t.cfg.ProbeInterval
		if err != nil {
			wait = min(retry, wait)
			retry = min(2*retry, p.t.cfg.ProbeInterval)
		} else {
			retry = minBackoff
		}
		if err != nil {
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		if p.waitDropped(conn, wait) {
			// The connection broke (the peer died or closed it): the
			// peer is unreachable until a probe gets through again.
			p.setActive(false)
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(minBackoff):
			}
			continue
		}
		if p.ctx.Err() != nil {
			return
		}
	}
}

// ping sends the peer a Ping over conn, waiting at most timeout, and
// returns the round trip.
func (p *peer) ping(ctx context.Context, conn *grpc.ClientConn, timeout time.Duration, opts ...grpc.CallOption) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	err := conn.Invoke(p.t.outgoing(ctx), "/"+serviceName+"/Ping", &Frame{}, &Frame{}, opts...)
	return time.Since(start), err
}

// waitDropped waits for d, or until the ready connection conn leaves the
// ready state, which it reports: a peer that dies is noticed at once, not
// at the next probe.
func (p *peer) waitDropped(conn *grpc.ClientConn, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	if conn.GetState() != connectivity.Ready {
		<-ctx.Done()
		return false
	}
	return conn.WaitForStateChange(ctx, connectivity.Ready)
}

// setActive records whether the peer was just reached.
func (p *peer) setActive(ok bool) {
	if !ok {
		p.activeSince.Store(0)
		return
	}
	p.activeSince.CompareAndSwap(0, time.Now().UnixNano())
}

// heard records a raft frame from the peer. The peer is reachable, so a
// connection to it that is waiting out a redial backoff (the peer was down
// or cut off) dials again now, and the sender stops waiting between
// attempts. Without this, after a partition heals, this member hears the
// leader at once but its own connection to the leader may stay backed off
// for up to a second, failing the proposals it forwards meanwhile: their
// clients then wait for the request timeout.
func (p *peer) heard() {
	p.setActive(true)
	p.heardAt.Store(time.Now().UnixNano())
	if p.streaming.Load() {
		return
	}
	p.mu.Lock()
	conn := p.mu.conn
	p.mu.Unlock()
	if conn != nil && conn.GetState() == connectivity.TransientFailure {
		conn.ResetConnectBackoff()
	}
	select {
	case p.retry <- struct{}{}:
	default:
	}
}

// heardRecently reports whether a raft frame came from the peer within
// reachableWait.
func (p *peer) heardRecently() bool {
	return time.Since(time.Unix(0, p.heardAt.Load())) < reachableWait
}

// drain waits until the peer's queue is empty, timeout passes or closed is
// closed.
func (p *peer) drain(timeout time.Duration, closed <-chan struct{}) {
	deadline := time.After(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for p.unsent.Load() > 0 {
		select {
		case <-tick.C:
		case <-deadline:
			return
		case <-closed:
			return
		}
	}
}

func (p *peer) stop() {
	p.cancel()
	<-p.done
	p.mu.Lock()
	if p.mu.conn != nil {
		p.mu.conn.Close()
		p.mu.conn = nil
	}
	p.mu.Unlock()
}

// setURLs changes where the peer is reached. The connection is dropped only
// when the URLs changed: membership updates re-announce every member, and
// closing a live connection would break the streams and calls on it.
func (p *peer) setURLs(urls []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if slices.Equal(p.mu.urls, urls) {
		return
	}
	p.mu.urls = append([]string(nil), urls...)
	if p.mu.conn != nil {
		p.mu.conn.Close()
		p.mu.conn = nil
	}
}

func (p *peer) enqueue(m *raftpb.Message) bool {
	select {
	case p.msgc <- m:
		p.unsent.Add(1)
		return true
	default:
		return false
	}
}

// connection returns the peer's client connection, dialing its first URL
// on first use. gRPC reconnects by itself afterwards.
func (p *peer) connection() (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.conn != nil {
		return p.mu.conn, nil
	}
	var lastErr error
	for _, u := range p.mu.urls {
		conn, err := dial(u, p.t.cfg.TLS)
		if err == nil {
			p.mu.conn = conn
			return conn, nil
		}
		lastErr = err
	}
	if lastErr == nil {
		lastErr = errors.New("transport: peer has no URL")
	}
	return nil, lastErr
}

// run keeps a raft stream open to the peer and writes queued messages to
// it, several to a frame.
func (p *peer) run() {
	defer close(p.done)
	backoff := minBackoff
	for p.ctx.Err() == nil {
		err := p.stream()
		if p.ctx.Err() != nil {
			return
		}
		p.setActive(false)
		dropped := p.dropQueued()
		p.t.lg.Debug("raft stream to peer broke; reconnecting", "peer", p.id, "error", err, "dropped", dropped)
		p.t.reporter.ReportUnreachable(p.id)
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, maxBackoff)
		case <-p.retry:
			backoff = minBackoff
		case <-p.ctx.Done():
			return
		}
	}
}

// dropQueued discards the messages queued for a peer that cannot be
// reached and returns how many. Raft recovers from lost messages (it
// probes a follower and sends again), while a queue kept through an outage
// would deliver proposals and appends long after they were made: a
// proposal whose client gave up would take effect once the link is back.
func (p *peer) dropQueued() int {
	n := 0
	for {
		select {
		case <-p.msgc:
			n++
		default:
			p.lost(n)
			return n
		}
	}
}

// lost accounts for n messages taken off the queue that will not be sent.
func (p *peer) lost(n int) {
	p.unsent.Add(-int64(n))
	p.t.sendFailed(p.id, n)
}

func (p *peer) stream() error {
	conn, err := p.connection()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(p.t.outgoing(p.ctx))
	defer cancel()
	// Do not open the stream (and wait on a dead peer) before there is
	// something to say.
	var first *raftpb.Message
	select {
	case first = <-p.msgc:
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
	st, err := p.openStream(ctx, cancel, conn)
	if err != nil {
		p.lost(1) // first
		p.t.reporter.ReportUnreachable(p.id)
		return err
	}
	p.streaming.Store(true)
	defer p.streaming.Store(false)
	batch := []*raftpb.Message{first}
	// Whatever is still in batch when the stream ends is lost.
	defer func() { p.lost(len(batch)) }()
	for {
		batch = p.fill(batch)
		// A fresh buffer per frame: gRPC may still be writing the previous
		// one after SendMsg returns.
		buf, err := encodeMessages(nil, batch)
		if err != nil {
			return err
		}
		if err := st.SendMsg(&Frame{B: buf}); err != nil {
			if errors.Is(err, io.EOF) {
				// The peer ended the stream: its status says why.
				err = st.RecvMsg(&Frame{})
				p.t.checkRemoved(err)
				p.t.checkForeign(p.id, err)
			}
			return err
		}
		p.unsent.Add(-int64(len(batch)))
		p.t.sent(p.id, len(buf))
		p.setActive(true)
		batch = batch[:0]
		select {
		case m := <-p.msgc:
			batch = append(batch, m)
		case <-p.ctx.Done():
			_ = st.CloseSend()
			return p.ctx.Err()
		}
	}
}

// openStream opens a raft stream on conn. A stream to a peer not heard from
// fails at once while the connection is down, so messages for an
// unreachable peer are dropped without delay; a peer heard from recently is
// reachable, and the stream waits up to reachableWait for a connection that
// is being redialed. cancel ends ctx, the stream's context.
func (p *peer) openStream(ctx context.Context, cancel context.CancelFunc, conn *grpc.ClientConn) (grpc.ClientStream, error) {
	if !p.heardRecently() {
		return conn.NewStream(ctx, raftStreamDesc, raftMethod)
	}
	timer := time.AfterFunc(reachableWait, cancel)
	st, err := conn.NewStream(ctx, raftStreamDesc, raftMethod, grpc.WaitForReady(true))
	if !timer.Stop() && err == nil {
		// The wait ran out just as the stream opened: ctx is cancelled.
		return nil, context.DeadlineExceeded
	}
	return st, err
}

// fill adds whatever else is already queued to batch, within bounds.
func (p *peer) fill(batch []*raftpb.Message) []*raftpb.Message {
	size := 0
	for _, m := range batch {
		size += proto.Size(m)
	}
	for len(batch) < maxFrameMessages && size < maxFrameBytes {
		select {
		case m := <-p.msgc:
			batch = append(batch, m)
			size += proto.Size(m)
		default:
			return batch
		}
	}
	return batch
}

// sendSnapshot streams a state snapshot to the peer in the background; one
// at a time per peer (raft does not send another before it hears back).
func (p *peer) sendSnapshot(m *raftpb.Message) {
	if !p.snapshotting.CompareAndSwap(false, true) {
		return
	}
	p.t.wg.Add(1)
	go func() {
		defer p.t.wg.Done()
		defer p.snapshotting.Store(false)
		err := p.streamSnapshot(m)
		status := raft.SnapshotFinish
		if err != nil {
			status = raft.SnapshotFailure
			p.t.lg.Warn("cannot send snapshot to peer", "peer", p.id, "error", err)
		}
		p.t.reporter.ReportSnapshot(p.id, status)
	}()
}

func (p *peer) streamSnapshot(m *raftpb.Message) error {
	m, data, err := p.t.snaps.OpenSnapshot(m)
	if err != nil {
		return err
	}
	defer data.Close()
	conn, err := p.connection()
	if err != nil {
		return err
	}
	st, err := conn.NewStream(p.t.outgoing(p.ctx), snapshotStreamDesc, "/"+serviceName+"/Snapshot")
	if err != nil {
		return err
	}
	head, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	if err := st.SendMsg(&Frame{B: head}); err != nil {
		return err
	}
	p.t.sent(p.id, len(head))
	var sent int64
	for {
		buf := make([]byte, snapshotChunk) // not reused: gRPC may still hold the last one
		n, rerr := io.ReadFull(data, buf)
		if n > 0 {
			if err := st.SendMsg(&Frame{B: buf[:n]}); err != nil {
				return err
			}
			p.t.sent(p.id, n)
			sent += int64(n)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	if err := st.RecvMsg(&Frame{}); err != nil {
		return err
	}
	p.t.snapshotDone(p.id, true)
	p.t.lg.Info("sent snapshot to peer", "peer", p.id, "index", m.GetSnapshot().GetMetadata().GetIndex(), "bytes", sent)
	return nil
}
