package transport

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// Peer connections are probed this often, and given up after this long
// without an answer.
const (
	keepaliveTime    = 10 * time.Second // gRPC refuses to ping more often
	keepaliveTimeout = 3 * time.Second
)

// Reporter is raft's side of delivery failures.
type Reporter interface {
	ReportUnreachable(id uint64)
	ReportSnapshot(id uint64, status raft.SnapshotStatus)
}

// SnapshotSource produces the state snapshot to send with a MsgSnap: it
// returns the message with its snapshot metadata describing exactly that
// state, and the state's data.
type SnapshotSource interface {
	OpenSnapshot(m *raftpb.Message) (*raftpb.Message, io.ReadCloser, error)
}

// Config configures a Transport.
type Config struct {
	LocalID   uint64
	ClusterID uint64
	// QueueSize bounds each peer's outgoing message queue.
	QueueSize int
	// TLS is the client configuration for https peer URLs.
	TLS *tls.Config
	// OnRTT, when set, observes round trips to each peer, measured every
	// ProbeInterval.
	OnRTT         func(peer uint64, d time.Duration)
	ProbeInterval time.Duration
	// OnSent and OnReceived, when set, count the bytes of raft message
	// frames (and snapshot data) sent to and received from each peer.
	OnSent     func(peer uint64, bytes int)
	OnReceived func(peer uint64, bytes int)
	// OnSendFailed, when set, counts messages to a peer that were lost: a
	// full queue dropped them or a broken stream took them.
	OnSendFailed func(peer uint64, messages int)
	// OnSnapshot, when set, counts state snapshots sent to (sent) or
	// received from a peer successfully.
	OnSnapshot func(peer uint64, sent bool)
	// OnRemoved, when set, is called (once) when a peer refuses this
	// member because it was removed from the cluster: a removed member may
	// never apply its own removal, as the leader stops replicating to it.
	OnRemoved func()
}

// Transport sends raft messages to peers and serves theirs.
type Transport struct {
	cfg      Config
	lg       *slog.Logger
	reporter Reporter
	snaps    SnapshotSource
	gs       *grpc.Server
	srv      *server

	mu struct {
		sync.Mutex
		peers map[uint64]*peer
	}
	closed  chan struct{}
	wg      sync.WaitGroup
	removed sync.Once
	// foreign holds the peers (sending side) and remote senders
	// (receiving side) already logged as belonging to another cluster, so
	// that each is logged once, not at every reconnection.
	foreign sync.Map
}

// ErrRemoved is what peers answer a member that was removed from the
// cluster.
const errRemovedText = "was removed from the cluster"

// checkRemoved reports a peer's refusal of this member as removed.
func (t *Transport) checkRemoved(err error) {
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), errRemovedText) {
		return
	}
	if t.cfg.OnRemoved != nil {
		t.removed.Do(t.cfg.OnRemoved)
	}
}

// checkForeign logs, once per peer, that the peer refused this member as
// one of another cluster: this member's data dir (whose cluster ID it
// keeps across restarts, whatever the --initial-* flags say) belongs to
// another cluster than the member now at the peer's URLs.
func (t *Transport) checkForeign(peer uint64, err error) {
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), ErrClusterMismatch.Error()) {
		return
	}
	if _, logged := t.foreign.LoadOrStore(fmt.Sprintf("to %x", peer), true); logged {
		return
	}
	t.lg.Error("a peer refused this member: the member at its URLs belongs to another cluster than this data dir",
		"peer", fmt.Sprintf("%x", peer), "local-cluster-id", fmt.Sprintf("%x", t.cfg.ClusterID), "error", status.Convert(err).Message())
}

// Fixed flow-control windows on both ends of a peer connection. With
// gRPC's default (a small window grown by bandwidth estimation) the
// receiver of every raft message that follows an answered estimate sends a
// window update and a ping, which the sender must read and acknowledge:
// at a light load, two more writes and wake-ups for each message. A stream
// window of several maximal appends keeps a stream from waiting on window
// updates.
const (
	streamWindowBytes = 8 << 20
	connWindowBytes   = 32 << 20
)

// New creates a transport; Serve starts receiving, AddPeer starts sending.
func New(cfg Config, h Handler, r Reporter, snaps SnapshotSource, lg *slog.Logger) *Transport {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.ProbeInterval <= 0 {
		cfg.ProbeInterval = 5 * time.Second
	}
	t := &Transport{cfg: cfg, lg: lg, reporter: r, snaps: snaps, closed: make(chan struct{})}
	t.mu.peers = map[uint64]*peer{}
	t.srv = &server{t: t, h: h}
	t.gs = grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.MaxRecvMsgSize(64<<20),
		grpc.InitialWindowSize(streamWindowBytes), grpc.InitialConnWindowSize(connWindowBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveTime / 2, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}))
	t.gs.RegisterService(&serviceDesc, t.srv)
	return t
}

// SetClusterID fixes the cluster ID once a joining member learned it.
func (t *Transport) SetClusterID(id uint64) { t.cfg.ClusterID = id }

// Serve serves peers on l until Close; with tlsCfg the listener speaks TLS
// (its certificate checks are the peer server settings). tlsCfg must offer
// ALPN "h2", which gRPC clients require.
func (t *Transport) Serve(l net.Listener, tlsCfg *tls.Config) {
	if tlsCfg != nil {
		l = tls.NewListener(l, tlsCfg)
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		_ = t.gs.Serve(l)
	}()
}

// Close stops sending and serving.
func (t *Transport) Close() {
	close(t.closed)
	t.mu.Lock()
	for _, p := range t.mu.peers {
		p.stop()
	}
	t.mu.peers = map[uint64]*peer{}
	t.mu.Unlock()
	stopped := make(chan struct{})
	go func() { t.gs.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(time.Second):
		t.gs.Stop()
	}
	t.wg.Wait()
}

// AddPeer starts a sender to member id at urls; an existing peer gets the
// new URLs.
func (t *Transport) AddPeer(id uint64, urls []string) {
	if id == t.cfg.LocalID {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	select {
	case <-t.closed:
		return
	default:
	}
	if p, ok := t.mu.peers[id]; ok {
		p.setURLs(urls)
		return
	}
	p := newPeer(t, id, urls)
	t.mu.peers[id] = p
	p.start()
}

// RemovePeer stops sending to member id.
func (t *Transport) RemovePeer(id uint64) {
	t.mu.Lock()
	p, ok := t.mu.peers[id]
	delete(t.mu.peers, id)
	t.mu.Unlock()
	if !ok {
		return
	}
	// Messages already queued (the commit of the member's own removal
	// among them) still go out, for a moment, so the removed member
	// usually learns of its removal by applying it.
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		p.drain(removeDrainTimeout, t.closed)
		p.stop()
	}()
}

// removeDrainTimeout bounds how long a removed peer's queue may drain.
const removeDrainTimeout = time.Second

// Send queues messages for their peers. It never blocks: a full queue drops
// the message and reports the peer unreachable.
func (t *Transport) Send(msgs []*raftpb.Message) {
	for _, m := range msgs {
		to := m.GetTo()
		t.mu.Lock()
		p, ok := t.mu.peers[to]
		t.mu.Unlock()
		if !ok {
			continue
		}
		if m.GetType() == raftpb.MsgSnap {
			p.sendSnapshot(m)
			continue
		}
		if !p.enqueue(m) {
			t.sendFailed(to, 1)
			t.reporter.ReportUnreachable(to)
		}
	}
}

func (t *Transport) sendFailed(peer uint64, n int) {
	if t.cfg.OnSendFailed != nil && n > 0 {
		t.cfg.OnSendFailed(peer, n)
	}
}

func (t *Transport) sent(peer uint64, n int) {
	if t.cfg.OnSent != nil {
		t.cfg.OnSent(peer, n)
	}
}

func (t *Transport) received(peer uint64, n int) {
	if t.cfg.OnReceived != nil {
		t.cfg.OnReceived(peer, n)
	}
}

func (t *Transport) snapshotDone(peer uint64, sent bool) {
	if t.cfg.OnSnapshot != nil {
		t.cfg.OnSnapshot(peer, sent)
	}
}

// ActiveSince is when member id last became reachable from here, the zero
// time while it is not (or is not a known peer). A peer counts as reached
// when a raft frame or a probe went through, or a raft frame came from it.
func (t *Transport) ActiveSince(id uint64) time.Time {
	p, ok := t.lookup(id)
	if !ok {
		return time.Time{}
	}
	ns := p.activeSince.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Reachable reports whether member id can be reached now: at once when it
// is known to be, otherwise by pinging it, so that a caller deciding on
// reachability (the strict reconfiguration check) does not take a peer
// that merely had no traffic with this member yet (two followers, just
// started) for one that is down.
func (t *Transport) Reachable(ctx context.Context, id uint64) bool {
	if !t.ActiveSince(id).IsZero() {
		return true
	}
	p, ok := t.lookup(id)
	if !ok {
		return false
	}
	conn, err := p.connection()
	if err != nil {
		return false
	}
	// A connection whose dials failed while the peer was starting waits
	// out gRPC's reconnect backoff: dial again now, and wait for it.
	conn.ResetConnectBackoff()
	if _, err := p.ping(ctx, conn, time.Second, grpc.WaitForReady(true)); err != nil {
		return false
	}
	p.setActive(true)
	return true
}

// lookup returns the peer of member id, if it is a known one.
func (t *Transport) lookup(id uint64) (*peer, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.mu.peers[id]
	return p, ok
}

// heardFrom records that member id just reached this member.
func (t *Transport) heardFrom(id uint64) {
	p, ok := t.lookup(id)
	if ok {
		p.heard()
	}
}

func (t *Transport) outgoing(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx,
		mdCluster, strconv.FormatUint(t.cfg.ClusterID, 16),
		mdFrom, strconv.FormatUint(t.cfg.LocalID, 16))
}

// dial opens a client connection to a peer URL; https URLs use tlsCfg
// (the member's peer client certificate and trusted CA).
func dial(rawURL string, tlsCfg *tls.Config) (*grpc.ClientConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	switch u.Scheme {
	case "http":
	case "https":
		if tlsCfg == nil {
			return nil, fmt.Errorf("transport: peer URL %s needs TLS, and no peer TLS is configured", rawURL)
		}
		c := tlsCfg.Clone()
		c.NextProtos = []string{"h2"}
		creds = credentials.NewTLS(c)
	default:
		return nil, fmt.Errorf("transport: peer URL %s: unsupported scheme %q", rawURL, u.Scheme)
	}
	return grpc.NewClient(u.Host,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.MaxCallRecvMsgSize(64<<20)),
		grpc.WithInitialWindowSize(streamWindowBytes), grpc.WithInitialConnWindowSize(connWindowBytes),
		// A connection that went silent (a peer frozen, or a network that
		// drops packets) is noticed within seconds and redialed; without
		// this, writes into a dead TCP connection would never fail.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout, PermitWithoutStream: true}),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: redialBackoff}))
}

// redialBackoff paces the dials to a peer that cannot be reached. gRPC's
// default backoff grows to two minutes, so a member cut off for a while
// stayed cut off that long after the network healed; raft needs its peers
// back within an election timeout or so, and a failed dial to a peer is
// cheap.
var redialBackoff = backoff.Config{
	BaseDelay:  100 * time.Millisecond,
	Multiplier: 1.6,
	Jitter:     0.2,
	MaxDelay:   time.Second,
}

// FetchClusterInfo asks the members at urls to describe their cluster; a
// member joining an existing cluster calls it before it knows the cluster
// ID (so its calls carry none).
func FetchClusterInfo(ctx context.Context, urls []string, tlsCfg *tls.Config) ([]byte, error) {
	var lastErr error
	for _, u := range urls {
		conn, err := dial(u, tlsCfg)
		if err != nil {
			lastErr = err
			continue
		}
		out := &Frame{}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = conn.Invoke(cctx, "/"+serviceName+"/ClusterInfo", &Frame{}, out)
		cancel()
		conn.Close()
		if err == nil {
			return out.B, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// peerConn returns the connection to known member id.
func (t *Transport) peerConn(id uint64) (*grpc.ClientConn, error) {
	p, ok := t.lookup(id)
	if !ok {
		return nil, fmt.Errorf("transport: unknown peer %x", id)
	}
	return p.connection()
}

func (t *Transport) invoke(ctx context.Context, to uint64, method string, in []byte) ([]byte, error) {
	conn, err := t.peerConn(to)
	if err != nil {
		return nil, err
	}
	out := &Frame{}
	if err := conn.Invoke(t.outgoing(ctx), "/"+serviceName+"/"+method, &Frame{B: in}, out); err != nil {
		return nil, err
	}
	return out.B, nil
}

// LeaseRenew forwards a keepalive to member to (the leader).
func (t *Transport) LeaseRenew(ctx context.Context, to uint64, id int64) (int64, error) {
	out, err := t.invoke(ctx, to, "LeaseRenew", binary.BigEndian.AppendUint64(nil, uint64(id)))
	if err != nil {
		return 0, err
	}
	if len(out) != 8 {
		return 0, fmt.Errorf("transport: malformed lease renew answer")
	}
	return int64(binary.BigEndian.Uint64(out)), nil
}

// LeaseTimeToLive forwards a TTL query to member to (the leader).
func (t *Transport) LeaseTimeToLive(ctx context.Context, to uint64, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	in, err := proto.Marshal(r)
	if err != nil {
		return nil, err
	}
	out, err := t.invoke(ctx, to, "LeaseTimeToLive", in)
	if err != nil {
		return nil, err
	}
	resp := &pb.LeaseTimeToLiveResponse{}
	return resp, proto.Unmarshal(out, resp)
}

// HashKV asks member to for the hash of its key-value history up to rev.
func (t *Transport) HashKV(ctx context.Context, to uint64, rev int64) (*pb.HashKVResponse, error) {
	out, err := t.invoke(ctx, to, "HashKV", binary.BigEndian.AppendUint64(nil, uint64(rev)))
	if err != nil {
		return nil, err
	}
	resp := &pb.HashKVResponse{}
	return resp, proto.Unmarshal(out, resp)
}

// MemberPromote forwards a learner promotion to member to (the leader).
func (t *Transport) MemberPromote(ctx context.Context, to uint64, id uint64) error {
	_, err := t.invoke(ctx, to, "MemberPromote", binary.BigEndian.AppendUint64(nil, id))
	return err
}
