// Package metrics holds the member's Prometheus metrics, under the names
// etcd exports, so that existing dashboards and alerts work unchanged. Each
// member has its own registry (tests run several members in one process).
// Every method is safe on a nil *Metrics, so components run without them.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are one member's collectors.
type Metrics struct {
	reg *prometheus.Registry

	hasLeader        prometheus.Gauge
	isLeader         prometheus.Gauge
	leaderChanges    prometheus.Counter
	proposalsFailed  prometheus.Counter
	walFsync         prometheus.Histogram
	backendCommit    prometheus.Histogram
	defrag           prometheus.Histogram
	backendSnapshot  prometheus.Histogram
	applyDuration    *prometheus.HistogramVec
	slowApplies      prometheus.Counter
	lateHeartbeats   prometheus.Counter
	slowReadIndexes  prometheus.Counter
	readIndexFailed  prometheus.Counter
	healthSuccess    prometheus.Counter
	healthFailures   prometheus.Counter
	peerRTT          *prometheus.HistogramVec
	peerSent         *prometheus.CounterVec
	peerReceived     *prometheus.CounterVec
	peerSendFailed   *prometheus.CounterVec
	snapshotSent     *prometheus.CounterVec
	snapshotReceived *prometheus.CounterVec
	mvccPut          prometheus.Counter
	mvccDelete       prometheus.Counter
	mvccRange        prometheus.Counter
	mvccTxn          prometheus.Counter
	leaseGranted     prometheus.Counter
	leaseRevoked     prometheus.Counter
	leaseRenewed     prometheus.Counter
	leaseExpired     prometheus.Counter
	leaseTTL         prometheus.Histogram
	rangeOK          prometheus.Observer // range_duration_seconds{success="true"}
	rangeFailed      prometheus.Observer
	promotions       prometheus.Counter
	walWrite         prometheus.Histogram
	defragInflight   prometheus.Gauge
	snapshotApplying prometheus.Gauge
	compactionKeys   prometheus.Counter
	compactionLast   prometheus.Gauge
	compactionPause  prometheus.Histogram
	compactionTotal  prometheus.Histogram
	hashDuration     prometheus.Histogram
	hashKVDuration   prometheus.Histogram
	grpc             *grpcMetrics
	clientBytes      *clientBytes
}

// Sources are values read when Prometheus scrapes.
type Sources struct {
	DBSize       func() float64
	DBSizeInUse  func() float64
	DBQuota      func() float64
	Keys         func() float64
	CurrentRev   func() float64
	CompactRev   func() float64
	Committed    func() float64
	Applied      func() float64
	Pending      func() float64
	Watchers     func() float64
	SlowWatchers func() float64
	WatchStreams func() float64
	// EventsSent and EventsPending count watch events handed to streams
	// and queued for watchers.
	EventsSent    func() float64
	EventsPending func() float64
	// PutBytes is the size of the keys and values put.
	PutBytes func() float64
	// WALBytes is the size of everything appended to the raft log.
	WALBytes     func() float64
	IsLearner    func() bool
	AuthRevision func() float64
	// Peers returns the IDs of the members this one knows, itself included.
	Peers      func() []string
	ServerID   string
	Version    string
	ClusterVer func() string
	Extensive  bool // --metrics extensive: gRPC latency histograms
	// Engine, when set, reads the storage engine's statistics (one call
	// per scrape), exported as cairn_engine_*.
	Engine func() EngineStats
	// V2Store, when set, reads the v2 store's operation counts (one call
	// per scrape), exported as etcd_debugging_store_*.
	V2Store func() V2StoreCounts
}

// New creates a member's metrics.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	g := func(sub, name, help string) prometheus.Gauge {
		c := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: sub, Name: name, Help: help})
		m.reg.MustRegister(c)
		return c
	}
	c := func(sub, name, help string) prometheus.Counter {
		x := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "etcd", Subsystem: sub, Name: name, Help: help})
		m.reg.MustRegister(x)
		return x
	}
	h := func(sub, name, help string, buckets []float64) prometheus.Histogram {
		x := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "etcd", Subsystem: sub, Name: name, Help: help, Buckets: buckets})
		m.reg.MustRegister(x)
		return x
	}
	diskBuckets := prometheus.ExponentialBuckets(0.001, 2, 14)
	m.hasLeader = g("server", "has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.")
	m.isLeader = g("server", "is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.")
	m.leaderChanges = c("server", "leader_changes_seen_total", "The number of leader changes seen.")
	m.proposalsFailed = c("server", "proposals_failed_total", "The total number of failed proposals seen.")
	m.walFsync = h("disk", "wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.", diskBuckets)
	m.defrag = h("disk", "backend_defrag_duration_seconds", "The latency distribution of backend defragmentation.", prometheus.ExponentialBuckets(.1, 2, 13))
	m.backendSnapshot = h("disk", "backend_snapshot_duration_seconds", "The latency distribution of backend snapshots.", prometheus.ExponentialBuckets(.01, 2, 17))
	m.backendCommit = h("disk", "backend_commit_duration_seconds", "The latency distributions of commit called by backend.", diskBuckets)
	m.walWrite = h("disk", "wal_write_duration_seconds", "The latency distributions of write called by WAL.", diskBuckets)
	m.defragInflight = g("disk", "defrag_inflight", "Whether or not defrag is active on the member. 1 means active, 0 means not.")
	m.snapshotApplying = g("server", "snapshot_apply_in_progress_total", "1 if the server is applying the incoming snapshot. 0 if none.")
	m.compactionKeys = c("debugging_mvcc", "db_compaction_keys_total", "Total number of db keys compacted.")
	m.compactionLast = g("debugging_mvcc", "db_compaction_last", "The unix time of the last db compaction. Resets to 0 on start.")
	m.compactionPause = h("debugging_mvcc", "db_compaction_pause_duration_milliseconds", "Bucketed histogram of db compaction pause duration.", prometheus.ExponentialBuckets(1, 2, 13))
	m.compactionTotal = h("debugging_mvcc", "db_compaction_total_duration_milliseconds", "Bucketed histogram of db compaction total duration.", prometheus.ExponentialBuckets(100, 2, 14))
	// etcd's help text, which still says v2 although it times every
	// applied request.
	m.applyDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "etcd", Subsystem: "server", Name: "apply_duration_seconds",
		Help: "The latency distributions of v2 apply called by backend.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 20)},
		[]string{"version", "op", "success"})
	m.reg.MustRegister(m.applyDuration)
	m.healthSuccess = c("server", "health_success", "The total number of successful health checks")
	m.healthFailures = c("server", "health_failures", "The total number of failed health checks")
	m.slowReadIndexes = c("server", "slow_read_indexes_total", "The total number of pending read indexes not in sync with leader's or timed out read index requests.")
	m.readIndexFailed = c("server", "read_indexes_failed_total", "The total number of failed read indexes seen.")
	m.slowApplies = c("server", "slow_apply_total", "The total number of slow apply requests (likely overloaded from slow disk).")
	m.lateHeartbeats = c("server", "heartbeat_send_failures_total", "The total number of leader heartbeat send failures (likely overloaded from slow disk).")
	m.peerRTT = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "etcd", Subsystem: "network", Name: "peer_round_trip_time_seconds",
		Help: "Round-Trip-Time histogram between peers", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, []string{"To"})
	m.peerSent = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "network", Name: "peer_sent_bytes_total",
		Help: "The total number of bytes sent to peers."}, []string{"To"})
	m.peerReceived = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "network", Name: "peer_received_bytes_total",
		Help: "The total number of bytes received from peers."}, []string{"From"})
	m.peerSendFailed = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "network", Name: "peer_sent_failures_total",
		Help: "The total number of send failures from peers."}, []string{"To"})
	m.snapshotSent = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "network", Name: "snapshot_send_success",
		Help: "Total number of successful snapshot sends"}, []string{"To"})
	m.snapshotReceived = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "network", Name: "snapshot_receive_success",
		Help: "Total number of successful snapshot receives"}, []string{"From"})
	m.reg.MustRegister(m.peerRTT, m.peerSent, m.peerReceived, m.peerSendFailed, m.snapshotSent, m.snapshotReceived)
	m.mvccPut = c("mvcc", "put_total", "Total number of puts seen by this member.")
	m.mvccDelete = c("mvcc", "delete_total", "Total number of deletes seen by this member.")
	m.mvccRange = c("mvcc", "range_total", "Total number of ranges seen by this member.")
	m.mvccTxn = c("mvcc", "txn_total", "Total number of txns seen by this member.")
	m.leaseGranted = c("debugging_lease", "granted_total", "The total number of granted leases.")
	m.leaseRevoked = c("debugging_lease", "revoked_total", "The total number of revoked leases.")
	m.leaseRenewed = c("debugging_lease", "renewed_total", "The number of renewed leases seen by the leader.")
	m.leaseExpired = c("debugging_server", "lease_expired_total", "The total number of expired leases.")
	m.leaseTTL = h("debugging_lease", "ttl_total", "Bucketed histogram of lease TTLs.", prometheus.ExponentialBuckets(1, 2, 14))
	rangeDuration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "etcd", Subsystem: "server", Name: "range_duration_seconds",
		Help: "The latency distributions of txn.Range", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 20)}, []string{"success"})
	m.reg.MustRegister(rangeDuration)
	m.rangeOK, m.rangeFailed = rangeDuration.WithLabelValues("true"), rangeDuration.WithLabelValues("false")
	m.promotions = c("server", "learner_promote_successes", "The total number of successful learner promotions while this member is leader.")
	hashBuckets := prometheus.ExponentialBuckets(.01, 2, 15)
	m.hashDuration = h("mvcc", "hash_duration_seconds", "The latency distribution of storage hash operation.", hashBuckets)
	m.hashKVDuration = h("mvcc", "hash_rev_duration_seconds", "The latency distribution of storage hash by revision operation.", hashBuckets)
	m.registerSources(src)
	if src.Engine != nil {
		m.reg.MustRegister(engineCollector(src.Engine))
	}
	if src.V2Store != nil {
		m.reg.MustRegister(&v2StoreCollector{read: src.V2Store})
	}
	m.grpc = newGRPCMetrics(m.reg, src.Extensive)
	m.clientBytes = newClientBytes(m.reg)
	return m
}

func (m *Metrics) registerSources(src Sources) {
	gf := func(sub, name, help string, f func() float64) {
		if f == nil {
			return
		}
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: sub, Name: name, Help: help}, f))
	}
	gf("mvcc", "db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", src.DBSize)
	gf("mvcc", "db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.", src.DBSizeInUse)
	gf("server", "quota_backend_bytes", "Current backend storage quota size in bytes.", src.DBQuota)
	gf("debugging_mvcc", "keys_total", "Total number of keys.", src.Keys)
	gf("debugging_mvcc", "current_revision", "The current revision of store.", src.CurrentRev)
	gf("debugging_mvcc", "compact_revision", "The revision of the last compaction in store.", src.CompactRev)
	gf("debugging_mvcc", "watch_stream_total", "Total number of watch streams.", src.WatchStreams)
	gf("debugging_mvcc", "pending_events_total", "Total number of pending events to be sent.", src.EventsPending)
	gf("debugging_mvcc", "total_put_size_in_bytes", "The total size of put kv pairs seen by this member.", src.PutBytes)
	cf := func(sub, name, help string, f func() float64) {
		if f != nil {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "etcd", Subsystem: sub, Name: name, Help: help}, f))
		}
	}
	cf("debugging_mvcc", "events_total", "Total number of events sent by this member.", src.EventsSent)
	cf("disk", "wal_write_bytes_total", "Total number of bytes written in WAL.", src.WALBytes)
	if src.IsLearner != nil {
		gf("server", "is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.", func() float64 { return b2f(src.IsLearner()) })
	}
	gf("debugging_auth", "revision", "The current revision of auth store.", src.AuthRevision)
	if src.Peers != nil {
		m.reg.MustRegister(&knownPeers{local: src.ServerID, peers: src.Peers})
	}
	registerFDs(m.reg)
	gf("server", "proposals_committed_total", "The total number of consensus proposals committed.", src.Committed)
	gf("server", "proposals_applied_total", "The total number of consensus proposals applied.", src.Applied)
	gf("server", "proposals_pending", "The current number of pending proposals to commit.", src.Pending)
	gf("debugging_mvcc", "watcher_total", "Total number of watchers.", src.Watchers)
	gf("debugging_mvcc", "slow_watcher_total", "Total number of unsynced slow watchers.", src.SlowWatchers)
	if src.Version != "" {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "server", Name: "version",
			Help: "Which version is running. 1 for 'server_version' label with current version."}, []string{"server_version"})
		v.WithLabelValues(src.Version).Set(1)
		m.reg.MustRegister(v)
	}
	goVersion := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "server", Name: "go_version",
		Help: "Which Go version server is running with. 1 for 'server_go_version' label with current version."}, []string{"server_go_version"})
	goVersion.WithLabelValues(runtime.Version()).Set(1)
	m.reg.MustRegister(goVersion)
	if src.ServerID != "" {
		id := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "server", Name: "id",
			Help: "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID."}, []string{"server_id"})
		id.WithLabelValues(src.ServerID).Set(1)
		m.reg.MustRegister(id)
	}
	if src.ClusterVer != nil {
		m.reg.MustRegister(&clusterVersion{f: src.ClusterVer})
	}
}

// knownPeers reports etcd_network_known_peers{Local, Remote} 1 for every
// member, this one included.
type knownPeers struct {
	local string
	peers func() []string
}

var knownPeersDesc = prometheus.NewDesc("etcd_network_known_peers", "The current number of known peers.", []string{"Local", "Remote"}, nil)

func (k *knownPeers) Describe(ch chan<- *prometheus.Desc) { ch <- knownPeersDesc }
func (k *knownPeers) Collect(ch chan<- prometheus.Metric) {
	for _, p := range k.peers() {
		ch <- prometheus.MustNewConstMetric(knownPeersDesc, prometheus.GaugeValue, 1, k.local, p)
	}
}

// clusterVersion reports etcd_cluster_version{cluster_version="3.6"} 1.
type clusterVersion struct{ f func() string }

var clusterVersionDesc = prometheus.NewDesc("etcd_cluster_version",
	"Which version is running. 1 for 'cluster_version' label with current cluster version", []string{"cluster_version"}, nil)

func (c *clusterVersion) Describe(ch chan<- *prometheus.Desc) { ch <- clusterVersionDesc }
func (c *clusterVersion) Collect(ch chan<- prometheus.Metric) {
	v := c.f()
	if v == "" {
		return
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		v = parts[0] + "." + parts[1]
	}
	ch <- prometheus.MustNewConstMetric(clusterVersionDesc, prometheus.GaugeValue, 1, v)
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Leader records this member's view of leadership.
func (m *Metrics) Leader(has, self, changed bool) {
	if m == nil {
		return
	}
	m.hasLeader.Set(b2f(has))
	m.isLeader.Set(b2f(self))
	if changed && has {
		m.leaderChanges.Inc()
	}
}

// ProposalFailed counts a proposal that did not make it.
func (m *Metrics) ProposalFailed() {
	if m != nil {
		m.proposalsFailed.Inc()
	}
}

// WALFsync records a synced raft log append.
func (m *Metrics) WALFsync(d time.Duration) {
	if m != nil {
		m.walFsync.Observe(d.Seconds())
	}
}

// BackendCommit records an applier batch commit.
func (m *Metrics) BackendCommit(d time.Duration) {
	if m != nil {
		m.backendCommit.Observe(d.Seconds())
	}
}

// Applied records one applied request: op as etcd names it ("Put",
// "Txn", ...), whether it succeeded, and how long it took.
func (m *Metrics) Applied(op string, success bool, d time.Duration) {
	if m != nil {
		m.applyDuration.WithLabelValues("v3", op, strconv.FormatBool(success)).Observe(d.Seconds())
	}
}

// Health counts a /health answer.
func (m *Metrics) Health(healthy bool) {
	if m == nil {
		return
	}
	if healthy {
		m.healthSuccess.Inc()
		return
	}
	m.healthFailures.Inc()
}

// SlowReadIndex counts a read index not answered in time.
func (m *Metrics) SlowReadIndex() {
	if m != nil {
		m.slowReadIndexes.Inc()
	}
}

// ReadIndexFailed counts a read index raft refused.
func (m *Metrics) ReadIndexFailed() {
	if m != nil {
		m.readIndexFailed.Inc()
	}
}

// SlowApply counts a request logged as "apply request took too long".
func (m *Metrics) SlowApply() {
	if m != nil {
		m.slowApplies.Inc()
	}
}

// LateHeartbeat counts a heartbeat the leader sent late.
func (m *Metrics) LateHeartbeat() {
	if m != nil {
		m.lateHeartbeats.Inc()
	}
}

// Defrag records a defragmentation (a full engine compaction).
func (m *Metrics) Defrag(d time.Duration) {
	if m != nil {
		m.defrag.Observe(d.Seconds())
	}
}

// BackendSnapshot records writing a snapshot for a client.
func (m *Metrics) BackendSnapshot(d time.Duration) {
	if m != nil {
		m.backendSnapshot.Observe(d.Seconds())
	}
}

// PeerRTT records a round trip to peer to.
func (m *Metrics) PeerRTT(to string, d time.Duration) {
	if m != nil {
		m.peerRTT.WithLabelValues(to).Observe(d.Seconds())
	}
}

// PeerTraffic counts bytes sent to or received from a peer.
func (m *Metrics) PeerTraffic(peer string, sent, received int) {
	if m == nil {
		return
	}
	if sent > 0 {
		m.peerSent.WithLabelValues(peer).Add(float64(sent))
	}
	if received > 0 {
		m.peerReceived.WithLabelValues(peer).Add(float64(received))
	}
}

// PeerSendFailed counts n messages to a peer that were lost.
func (m *Metrics) PeerSendFailed(peer string, n int) {
	if m != nil && n > 0 {
		m.peerSendFailed.WithLabelValues(peer).Add(float64(n))
	}
}

// Snapshot counts a state snapshot sent to or received from a peer.
func (m *Metrics) Snapshot(peer string, sent bool) {
	if m == nil {
		return
	}
	if sent {
		m.snapshotSent.WithLabelValues(peer).Inc()
		return
	}
	m.snapshotReceived.WithLabelValues(peer).Inc()
}

// KV counts one applied KV operation by kind: "put", "delete", "range",
// "txn".
func (m *Metrics) KV(kind string) {
	if m == nil {
		return
	}
	switch kind {
	case "put":
		m.mvccPut.Inc()
	case "delete":
		m.mvccDelete.Inc()
	case "range":
		m.mvccRange.Inc()
	case "txn":
		m.mvccTxn.Inc()
	}
}

// Lease counts lease events: "granted", "revoked", "renewed", "expired".
func (m *Metrics) Lease(event string) {
	if m == nil {
		return
	}
	switch event {
	case "granted":
		m.leaseGranted.Inc()
	case "revoked":
		m.leaseRevoked.Inc()
	case "renewed":
		m.leaseRenewed.Inc()
	case "expired":
		m.leaseExpired.Inc()
	}
}

// WALWrite observes a raft log append.
func (m *Metrics) WALWrite(d time.Duration) {
	if m == nil {
		return
	}
	m.walWrite.Observe(d.Seconds())
}

// DefragInflight marks a defragmentation running or over.
func (m *Metrics) DefragInflight(running bool) {
	if m == nil {
		return
	}
	m.defragInflight.Set(b2f(running))
}

// SnapshotApplying marks the apply of a snapshot from the leader running
// or over.
func (m *Metrics) SnapshotApplying(running bool) {
	if m == nil {
		return
	}
	m.snapshotApplying.Set(b2f(running))
}

// CompactionBatch observes one batch of a background compaction: how long
// it took and how many versions it removed.
func (m *Metrics) CompactionBatch(d time.Duration, removed int) {
	if m == nil {
		return
	}
	m.compactionPause.Observe(float64(d.Milliseconds()))
	m.compactionKeys.Add(float64(removed))
}

// CompactionDone observes a finished background compaction.
func (m *Metrics) CompactionDone(d time.Duration) {
	if m == nil {
		return
	}
	m.compactionTotal.Observe(float64(d.Milliseconds()))
	m.compactionLast.Set(float64(time.Now().Unix()))
}

// Range observes how long the store took to read a range.
func (m *Metrics) Range(success bool, d time.Duration) {
	if m == nil {
		return
	}
	if success {
		m.rangeOK.Observe(d.Seconds())
		return
	}
	m.rangeFailed.Observe(d.Seconds())
}

// LearnerPromoted counts a learner promotion this member (the leader) made.
func (m *Metrics) LearnerPromoted() {
	if m == nil {
		return
	}
	m.promotions.Inc()
}

// LeaseTTL observes the TTL of a granted lease.
func (m *Metrics) LeaseTTL(seconds int64) {
	if m == nil {
		return
	}
	m.leaseTTL.Observe(float64(seconds))
}

// Hash observes how long a hash of the whole store (byRev false) or a
// HashKV (byRev true) took.
func (m *Metrics) Hash(byRev bool, d time.Duration) {
	if m == nil {
		return
	}
	if byRev {
		m.hashKVDuration.Observe(d.Seconds())
		return
	}
	m.hashDuration.Observe(d.Seconds())
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
