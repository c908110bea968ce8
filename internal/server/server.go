// Package server wires one member together: storage, the MVCC store, the
// raft node, the applier and the client listeners. It decides nothing
// itself: behaviour lives in the packages it wires.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"

	"github.com/cairn-kv/cairn/internal/alarm"
	"github.com/cairn-kv/cairn/internal/apply"
	"github.com/cairn-kv/cairn/internal/auth"
	"github.com/cairn-kv/cairn/internal/compactor"
	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/httpapi"
	"github.com/cairn-kv/cairn/internal/lease"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/metrics"
	"github.com/cairn-kv/cairn/internal/mvcc"
	"github.com/cairn-kv/cairn/internal/raftnode"
	"github.com/cairn-kv/cairn/internal/storage"
	"github.com/cairn-kv/cairn/internal/tlsutil"
	"github.com/cairn-kv/cairn/internal/transport"
	"github.com/cairn-kv/cairn/internal/watch"
)

// Server is one Cairn member.
type Server struct {
	cfg *config.Config
	lg  *slog.Logger

	eng       *storage.Engine
	kv        *mvcc.Store
	lessor    *lease.Lessor
	alarms    *alarm.Store
	auth      *auth.Store
	tokenKind auth.TokenKind // the kind of token --auth-token selects
	hub       *watch.Hub
	compactor *compactor.Compactor
	metrics   *metrics.Metrics
	cluster   *membership.Cluster
	logStore  *raftnode.LogStore
	node      *raftnode.Node
	// liveNode is node once raft runs: the peer transport serves before
	// raft starts and reads it from its own goroutines.
	liveNode atomic.Pointer[raftnode.Node]
	applier  *apply.Applier
	v2       *v2Member
	// slowReads logs the reads served without raft that take longer than
	// --warning-apply-duration.
	slowReads apply.SlowLog

	memberID, clusterID uint64
	bootPeers           []raft.Peer // set only when bootstrapping a new cluster
	joinMembers         []*membership.Member
	transport           *transport.Transport
	peerListeners       []net.Listener
	ids                 *idGen
	wait                *waitRegistry
	applied             *appliedNotifier
	reqTimeout          time.Duration
	// deadlines ends proposals reqTimeout after they start (roughly).
	deadlines *sharedDeadlines

	readMu   sync.Mutex
	nextRead *readRound
	readKick chan struct{}

	// leaderChanged fans the raft node's leader changes out to the lease
	// loop.
	leaderChanged chan struct{}

	grpc        *grpc.Server
	health      *health.Server
	http        *http.Server
	tlsHTTP     []*http.Server
	metricsHTTP *http.Server
	selfConn    *grpc.ClientConn
	innerConn   *grpc.ClientConn // the lock and election services' own
	listeners   []net.Listener
	clientURL   []string

	stopping  chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	// done is closed when close finished; removed when this member learned
	// it was removed from the cluster, which removedOnce guards.
	done        chan struct{}
	removed     chan struct{}
	removedOnce sync.Once
}

// New prepares a member from cfg; it opens nothing until Start.
func New(cfg *config.Config, lg *slog.Logger) (*Server, error) {
	reqTimeout := 5*time.Second + 2*cfg.ElectionTimeout
	wait := newWaitRegistry()
	return &Server{
		cfg:           cfg,
		lg:            lg,
		wait:          wait,
		nextRead:      newReadRound(),
		readKick:      make(chan struct{}, 1),
		leaderChanged: make(chan struct{}, 1),
		stopping:      make(chan struct{}),
		done:          make(chan struct{}),
		removed:       make(chan struct{}),
		reqTimeout:    reqTimeout,
		deadlines:     newSharedDeadlines(reqTimeout, wait.expire),
	}, nil
}

// Start opens storage, starts raft, publishes this member and serves
// clients. It returns once the client listeners serve, after logging
// "ready to serve client requests"; on error everything opened is closed.
func (s *Server) Start(ctx context.Context) error {
	if err := s.start(ctx); err != nil {
		_ = s.Close()
		return err
	}
	return nil
}

func (s *Server) start(ctx context.Context) error {
	if err := checkClientURLs(s.cfg); err != nil {
		return err
	}
	if err := s.openStorage(ctx); err != nil {
		return err
	}
	if err := s.startTransport(); err != nil {
		return err
	}
	if err := s.startRaft(); err != nil {
		return err
	}
	if err := s.publish(ctx); err != nil {
		return err
	}
	if s.cfg.InitialCorruptCheck {
		if err := s.initialCorruptCheck(ctx); err != nil {
			return err
		}
	}
	s.startCorruptChecks()
	if err := s.startAutoCompaction(); err != nil {
		return err
	}
	if err := s.serveClients(); err != nil {
		return err
	}
	if err := s.serveMetrics(); err != nil {
		return err
	}
	s.lg.Info("ready to serve client requests", "client-urls", s.clientURL)
	return nil
}

func (s *Server) openStorage(ctx context.Context) error {
	if err := checkForeignDataDir(s.cfg.DataDir); err != nil {
		return err
	}
	if err := os.RemoveAll(snapshotTempDir(s.cfg.DataDir)); err != nil {
		return err
	}
	eng, err := storage.Open(memberDir(s.cfg.DataDir), storage.Options{WALDir: s.cfg.WALDir}, s.lg.With("component", "storage"))
	if err != nil {
		return err
	}
	s.eng = eng
	id, fresh, err := s.loadOrBootstrap(ctx, eng.DB())
	if err != nil {
		return err
	}
	s.memberID, s.clusterID = id.memberID, id.clusterID
	s.lg = s.lg.With("member", membership.IDString(s.memberID))
	s.ids = newIDGen(s.memberID, time.Now())
	if s.cluster, err = membership.Load(eng.DB(), s.clusterID, s.memberID); err != nil {
		return err
	}
	if s.kv, err = mvcc.New(eng, s.lg.With("component", "mvcc")); err != nil {
		return err
	}
	s.kv.SetCompactionPacing(s.cfg.CompactionBatchLimit, s.cfg.CompactionSleepInterval)
	if s.lessor, err = lease.New(eng.DB(), lease.Config{MinTTL: minLeaseTTL(s.cfg.ElectionTimeout)}); err != nil {
		return err
	}
	s.kv.SetLeases(s.lessor)
	if s.alarms, err = alarm.New(eng.DB()); err != nil {
		return err
	}
	if err := s.openAuth(); err != nil {
		return err
	}
	s.hub = watch.New(s.kv, watch.Config{ProgressInterval: s.cfg.ProgressNotifyInterval()}, s.lg.With("component", "watch"))
	s.kv.SetObserver(s.hub)
	s.metrics = s.newMetrics()
	s.kv.SetCompactionObserver(s.metrics)
	if s.logStore, err = raftnode.OpenLogStore(eng.DB()); err != nil {
		return err
	}
	if s.v2, err = openV2(eng.DB()); err != nil {
		return err
	}
	if s.applier, err = apply.New(apply.Config{
		Engine: eng, KV: s.kv, Lessor: s.lessor, Alarms: s.alarms, Auth: s.auth, Cluster: s.cluster, Raft: raftHooks{s}, ConfState: s.logStore, Wait: s.wait, V2: s.v2.store,
		OnMembership:         s.syncPeers,
		OnSnapshot:           s.metrics.SnapshotApplying,
		OnCommit:             s.metrics.BackendCommit,
		OnApplied:            s.metrics.Applied,
		WarningApplyDuration: s.cfg.WarningApplyDuration,
		OnSlowApply:          s.metrics.SlowApply,
	}, s.lg.With("component", "apply")); err != nil {
		return err
	}
	s.slowReads = apply.SlowLog{Logger: s.lg.With("component", "apply"), Threshold: s.cfg.WarningApplyDuration, OnSlow: s.metrics.SlowApply}
	// A state snapshot received before a crash is installed before raft
	// starts (raft already moved past it).
	if err := s.applier.InstallPending(); err != nil {
		return err
	}
	s.applied = newAppliedNotifier(s.applier.AppliedIndex())
	if fresh {
		s.bootPeers = id.peers
	}
	s.lg.Info("opened data dir", "data-dir", s.cfg.DataDir, "new-cluster", fresh,
		"cluster-id", membership.IDString(s.clusterID), "applied-index", s.applier.AppliedIndex(), "rev", s.kv.Rev())
	return nil
}

// openAuth opens the auth store with --auth-token, --auth-token-ttl and
// --bcrypt-cost.
func (s *Server) openAuth() error {
	tc, err := auth.ParseTokenConfig(s.cfg.AuthToken, time.Duration(s.cfg.AuthTokenTTL)*time.Second)
	if err != nil {
		return fmt.Errorf("--auth-token: %w", err)
	}
	s.tokenKind = tc.Kind
	s.auth, err = auth.New(s.eng.DB(), auth.Config{BcryptCost: int(s.cfg.BcryptCost), Token: tc}, s.lg.With("component", "auth"))
	return err
}

// startTransport listens on the peer URLs and starts the transport towards the
// known members.
func (s *Server) startTransport() error {
	serverTLS, clientTLS, err := s.peerTLS()
	if err != nil {
		return err
	}
	var secure []bool
	for _, u := range s.cfg.ListenPeerURLs {
		l, err := s.listenURL(u)
		if err != nil {
			return fmt.Errorf("peer URL: %w", err)
		}
		s.peerListeners = append(s.peerListeners, l)
		secure = append(secure, u.Scheme == "https" || u.Scheme == "unixs")
	}
	s.transport = transport.New(transport.Config{LocalID: s.memberID, ClusterID: s.clusterID, OnRTT: s.observeRTT, TLS: clientTLS,
		OnRemoved: s.onRemoved, OnSent: s.observeSent, OnReceived: s.observeReceived, OnSendFailed: s.observeSendFailed,
		OnSnapshot: s.observeSnapshot},
		peerHandler{s}, raftReporter{s}, s, s.lg.With("component", "transport"))
	for i, l := range s.peerListeners {
		if secure[i] {
			s.transport.Serve(l, serverTLS)
		} else {
			s.transport.Serve(l, nil)
		}
	}
	for _, p := range s.bootPeers {
		m := &membership.Member{}
		if err := json.Unmarshal(p.Context, m); err == nil {
			s.transport.AddPeer(m.ID, m.PeerURLs)
		}
	}
	for _, m := range s.joinMembers {
		s.transport.AddPeer(m.ID, m.PeerURLs)
	}
	s.syncPeers()
	return nil
}

// peerTLS builds the peer listener's and the peer dialer's TLS settings,
// when peer TLS is configured at all.
func (s *Server) peerTLS() (server, client *tls.Config, err error) {
	info := s.cfg.PeerTLSInfo()
	if info.CertFile == "" && info.KeyFile == "" && !info.AutoTLS {
		return nil, nil, nil
	}
	if server, err = tlsutil.ServerConfig(info, s.lg.With("component", "peer-tls")); err != nil {
		return nil, nil, err
	}
	server.NextProtos = []string{"h2"}
	if client, err = tlsutil.ClientConfig(info); err != nil {
		return nil, nil, err
	}
	return server, client, nil
}

// syncPeers makes the transport's peers the applied members.
func (s *Server) syncPeers() {
	members := s.cluster.Members()
	if len(members) == 0 {
		return // nothing applied yet: keep the bootstrap or join peers
	}
	for _, m := range members {
		s.transport.AddPeer(m.ID, m.PeerURLs)
	}
	for _, id := range s.cluster.RemovedIDs() {
		s.transport.RemovePeer(id)
	}
	if s.cluster.IsRemoved(s.memberID) {
		s.onRemoved()
	}
}

// onRemoved stops a member that learned it was removed from the cluster,
// by applying its removal or from a peer's refusal, as etcd stops: its data
// dir can never serve this cluster again. Done is closed once it stopped.
func (s *Server) onRemoved() {
	s.removedOnce.Do(func() {
		close(s.removed)
		s.lg.Error("the member has been permanently removed from the cluster")
		s.lg.Error("the data-dir used by this member must be removed", "data-dir", s.cfg.DataDir)
		// A short delay lets the answers already on their way reach the
		// clients (the removal's own, when it was proposed here).
		time.AfterFunc(10*s.cfg.HeartbeatInterval, func() {
			if err := s.Close(); err != nil {
				s.lg.Warn("error while stopping the removed member", "error", err)
			}
		})
	})
}

// Done is closed when the server stopped: after Close, or on its own when
// it was removed from the cluster.
func (s *Server) Done() <-chan struct{} { return s.done }

// MemberID is this member's ID (known once Start opened the data dir).
func (s *Server) MemberID() uint64 { return s.memberID }

// advanceTicks is how far the election clock starts ahead: with
// --initial-election-tick-advance, all but two ticks of the election
// timeout, so a member that hears from no leader campaigns after about two
// heartbeats (raft randomizes the timeout on top, which keeps members
// restarted together from splitting the vote), while a live leader's first
// heartbeat still arrives in time.
func (s *Server) advanceTicks(electionTicks int) int {
	if !s.cfg.InitialElectionTickAdvance {
		return 0
	}
	return max(electionTicks-2, 0)
}

// raftReporter passes transport delivery failures to raft.
type raftReporter struct{ s *Server }

func (r raftReporter) ReportUnreachable(id uint64) {
	if n := r.s.liveNode.Load(); n != nil {
		n.ReportUnreachable(id)
	}
}

func (r raftReporter) ReportSnapshot(id uint64, st raft.SnapshotStatus) {
	if n := r.s.liveNode.Load(); n != nil {
		n.ReportSnapshot(id, st)
	}
}

// raftHooks lets the applier reach the raft node, which starts after it.
type raftHooks struct{ s *Server }

func (h raftHooks) ApplyConfChange(cc raftpb.ConfChangeI) *raftpb.ConfState {
	return h.s.node.ApplyConfChange(cc)
}

func (h raftHooks) SetApplied(index uint64) {
	h.s.node.SetApplied(index)
	h.s.applied.advance(index)
}

func (s *Server) startRaft() error {
	ticks := int(s.cfg.ElectionTimeout / s.cfg.HeartbeatInterval)
	if s.cfg.ForceNewCluster && len(s.bootPeers) == 0 {
		if err := s.forceNewCluster(); err != nil {
			return err
		}
	}
	node, err := raftnode.Start(raftnode.Config{
		ID:              s.memberID,
		Peers:           s.bootPeers,
		TickInterval:    s.cfg.HeartbeatInterval,
		ElectionTicks:   ticks,
		HeartbeatTicks:  1,
		SnapshotCount:   s.cfg.SnapshotCount,
		CatchUpEntries:  s.cfg.SnapshotCatchUpEntries,
		Applied:         s.applier.AppliedIndex(),
		OnFsync:         s.metrics.WALFsync,
		OnAppend:        s.metrics.WALWrite,
		OnLateHeartbeat: s.metrics.LateHeartbeat,
		PreVote:         s.cfg.PreVote,
		NoFsync:         s.cfg.UnsafeNoFsync,
		AdvanceTicks:    s.advanceTicks(ticks),
	}, s.logStore, s.transport, s.lg)
	if err != nil {
		return err
	}
	s.node = node
	s.liveNode.Store(node)
	s.kv.Start(context.Background())
	s.hub.Start()
	s.wg.Add(4)
	go func() {
		defer s.wg.Done()
		s.applier.Run(node.Committed(), s.stopping)
	}()
	go s.readLoop()
	go s.forwardLeaderChanges()
	go s.leaseLoop()
	s.startV2Sync()
	return nil
}

// serveMetrics serves /metrics and the health endpoints on
// --listen-metrics-urls, as kubeadm's probes expect.
func (s *Server) serveMetrics() error {
	if len(s.cfg.ListenMetricsURLs) == 0 {
		return nil
	}
	s.metricsHTTP = &http.Server{Handler: httpapi.Handler(httpMember{s}, httpapi.Options{Metrics: s.metrics.Handler(), OnHealth: s.metrics.Health}), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: tlsutil.ErrorLog(s.lg.With("component", "metrics"))}
	var tlsCfg *tls.Config
	for _, u := range s.cfg.ListenMetricsURLs {
		l, err := s.listenURL(u)
		if err != nil {
			return fmt.Errorf("metrics URL: %w", err)
		}
		if isSecure(u) {
			// As etcd: https and unixs metrics URLs serve with the client
			// TLS settings (--cert-file, --key-file, --trusted-ca-file...).
			if info := s.cfg.ClientTLSInfo(); info.CertFile == "" && info.KeyFile == "" && !info.AutoTLS {
				l.Close()
				return errors.New("client TLS key/cert (--cert-file, --key-file) must be provided for metrics secure url")
			}
			if tlsCfg == nil {
				if tlsCfg, err = tlsutil.ServerConfig(s.cfg.ClientTLSInfo(), s.lg.With("component", "tls")); err != nil {
					l.Close()
					return fmt.Errorf("metrics URL %s: %w", u.String(), err)
				}
			}
			l = tls.NewListener(l, tlsCfg)
		}
		s.listeners = append(s.listeners, l)
		s.wg.Add(1)
		go func() { defer s.wg.Done(); _ = s.metricsHTTP.Serve(l) }()
	}
	return nil
}

// ClientAddrs are the bound client listener addresses (useful with port 0).
func (s *Server) ClientAddrs() []net.Addr {
	out := make([]net.Addr, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = l.Addr()
	}
	return out
}

// Close stops serving, stops raft and the applier, and closes storage.
// In-flight requests get "server stopped".
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.close()
		close(s.done)
	})
	return s.closeErr
}

func (s *Server) close() error {
	if s.health != nil {
		s.health.Shutdown()
	}
	for _, l := range s.listeners {
		l.Close()
	}
	for _, l := range s.peerListeners {
		if s.transport == nil {
			l.Close()
		}
	}
	if s.grpc != nil {
		stopGRPC(s.grpc, 2*time.Second)
	}
	for _, c := range []*grpc.ClientConn{s.selfConn, s.innerConn} {
		if c != nil {
			c.Close()
		}
	}
	for _, hs := range append([]*http.Server{s.http, s.metricsHTTP}, s.tlsHTTP...) {
		if hs == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = hs.Shutdown(ctx)
		cancel()
	}
	if s.compactor != nil {
		s.compactor.Stop()
	}
	s.checkpointOnStop()
	s.handOverLeadership()
	close(s.stopping)
	s.wait.stop()
	if s.node != nil {
		s.node.Stop()
	}
	if s.transport != nil {
		s.transport.Close()
	}
	s.wg.Wait()
	if s.hub != nil {
		s.hub.Close()
	}
	if s.kv != nil {
		s.kv.Close()
	}
	var err error
	if s.eng != nil {
		err = s.eng.Close()
	}
	s.lg.Info("stopped serving")
	return err
}

// forwardLeaderChanges passes the raft node's leader changes on.
func (s *Server) forwardLeaderChanges() {
	defer s.wg.Done()
	for {
		select {
		case <-s.node.LeaderChanged():
			l := s.node.Leader()
			s.metrics.Leader(l != 0, l == s.memberID, true)
			select {
			case s.leaderChanged <- struct{}{}:
			default:
			}
		case <-s.stopping:
			return
		}
	}
}

// handOverLeadership transfers leadership to another voter before a leader
// stops, so the cluster does not wait an election timeout for a new one.
func (s *Server) handOverLeadership() {
	if s.node == nil || !s.node.IsLeader() {
		return
	}
	var target uint64
	var best uint64
	st := s.node.Status()
	for _, m := range s.cluster.Voters() {
		if m.ID == s.memberID {
			continue
		}
		if pr, ok := st.Progress[m.ID]; ok && pr.Match >= best && s.started(m.ID) {
			target, best = m.ID, pr.Match
		}
	}
	if target == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*s.cfg.ElectionTimeout)
	defer cancel()
	if err := s.transferLeadership(ctx, target); err != nil {
		s.lg.Warn("cannot hand over leadership before stopping", "transferee", membership.IDString(target), "error", err)
		return
	}
	s.lg.Info("handed over leadership before stopping", "transferee", membership.IDString(target))
}

// checkpointOnStop replicates the remaining lease TTLs before a leader
// stops, so that leases neither lose nor gain time across a restart.
func (s *Server) checkpointOnStop() {
	if s.node == nil || s.lessor == nil || !s.lessor.IsPrimary() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.checkpointLeases(ctx)
}

// stopGRPC drains in-flight RPCs for a while, then cuts the rest (long
// streams never finish on their own).
func stopGRPC(gs *grpc.Server, grace time.Duration) {
	done := make(chan struct{})
	go func() { gs.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		gs.Stop()
		<-done
	}
}
