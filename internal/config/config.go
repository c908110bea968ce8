package config

import (
	"log/slog"
	"net/url"
	"time"
)

// Config is the whole server configuration. YAML tags are etcd's flag names,
// so existing etcd.conf.yml files load unchanged; the YAML encoding itself
// goes through the flag table (see UnmarshalYAML), so the tags document the
// mapping and a test keeps them in step with the table.
type Config struct {
	Name    string `yaml:"name"`
	DataDir string `yaml:"data-dir"`
	// WALDir, when set, is a separate directory for the write-ahead log
	// (etcd's --wal-dir); empty keeps it inside DataDir.
	WALDir string `yaml:"wal-dir"`

	ListenClientURLs    []url.URL `yaml:"listen-client-urls"`
	AdvertiseClientURLs []url.URL `yaml:"advertise-client-urls"`
	// ListenClientHTTPURLs, when set, serve the client HTTP endpoints
	// (the JSON gateway, /health, /metrics, /version, pprof) alone; the
	// ListenClientURLs then serve gRPC only.
	ListenClientHTTPURLs     []url.URL `yaml:"listen-client-http-urls"`
	ListenPeerURLs           []url.URL `yaml:"listen-peer-urls"`
	InitialAdvertisePeerURLs []url.URL `yaml:"initial-advertise-peer-urls"`

	// InitialCluster maps member name to its peer URLs, parsed from
	// --initial-cluster ("name=url,name=url").
	InitialCluster      map[string][]url.URL `yaml:"initial-cluster"`
	InitialClusterToken string               `yaml:"initial-cluster-token"`
	// InitialClusterState is "new" or "existing".
	InitialClusterState string `yaml:"initial-cluster-state"`

	// AutoCompactionMode and AutoCompactionRetention configure automatic
	// compaction on the leader.
	AutoCompactionMode      string `yaml:"auto-compaction-mode"`
	AutoCompactionRetention string `yaml:"auto-compaction-retention"`
	// AutoCompactionRevisionInterval is how often revision mode compacts;
	// zero means etcd's five minutes. No flag sets it: tests shorten it.
	AutoCompactionRevisionInterval time.Duration `yaml:"-"`

	// StrictReconfigCheck rejects membership changes that would leave fewer
	// started members than a quorum.
	StrictReconfigCheck bool `yaml:"strict-reconfig-check"`

	// TLS of the client listener (ClientTLSInfo gathers it). In a config
	// file these also go under client-transport-security: (see tls.go).
	CertFile                  string   `yaml:"cert-file"`
	KeyFile                   string   `yaml:"key-file"`
	ClientCertAuth            bool     `yaml:"client-cert-auth"`
	ClientCertFile            string   `yaml:"client-cert-file"`
	ClientKeyFile             string   `yaml:"client-key-file"`
	ClientCRLFile             string   `yaml:"client-crl-file"`
	ClientCertAllowedHostname []string `yaml:"client-cert-allowed-hostname"`
	TrustedCAFile             string   `yaml:"trusted-ca-file"`
	AutoTLS                   bool     `yaml:"auto-tls"`

	// TLS of the peer listener and of connections to other members
	// (PeerTLSInfo); in a config file also under peer-transport-security:.
	PeerCertFile                  string   `yaml:"peer-cert-file"`
	PeerKeyFile                   string   `yaml:"peer-key-file"`
	PeerClientCertAuth            bool     `yaml:"peer-client-cert-auth"`
	PeerClientCertFile            string   `yaml:"peer-client-cert-file"`
	PeerClientKeyFile             string   `yaml:"peer-client-key-file"`
	PeerTrustedCAFile             string   `yaml:"peer-trusted-ca-file"`
	PeerCertAllowedCN             []string `yaml:"peer-cert-allowed-cn"`
	PeerCertAllowedHostname       []string `yaml:"peer-cert-allowed-hostname"`
	PeerAutoTLS                   bool     `yaml:"peer-auto-tls"`
	PeerCRLFile                   string   `yaml:"peer-crl-file"`
	PeerSkipClientSANVerification bool     `yaml:"peer-skip-client-san-verification"`
	// ExperimentalPeerSkipClientSANVerification is the deprecated name of
	// PeerSkipClientSANVerification, which Load sets from it.
	ExperimentalPeerSkipClientSANVerification bool `yaml:"experimental-peer-skip-client-san-verification"`

	// TLS settings shared by both listeners.
	SelfSignedCertValidity uint     `yaml:"self-signed-cert-validity"` // years
	CipherSuites           []string `yaml:"cipher-suites"`
	TLSMinVersion          string   `yaml:"tls-min-version"`
	TLSMaxVersion          string   `yaml:"tls-max-version"`

	SnapshotCount uint64 `yaml:"snapshot-count"`
	// SnapshotCatchUpEntries is how many applied entries the raft log
	// keeps after a truncation, so that slow followers catch up without a
	// snapshot (--snapshot-catchup-entries, or its experimental name).
	SnapshotCatchUpEntries             uint64        `yaml:"snapshot-catchup-entries"`
	ExperimentalSnapshotCatchUpEntries uint64        `yaml:"experimental-snapshot-catchup-entries"`
	HeartbeatInterval                  time.Duration `yaml:"heartbeat-interval"` // flag in milliseconds
	ElectionTimeout                    time.Duration `yaml:"election-timeout"`   // flag in milliseconds
	// InitialElectionTickAdvance fast-forwards the election clock of a
	// starting member, so that a cluster without a leader elects one
	// sooner; off, a restarted member waits a full election timeout.
	InitialElectionTickAdvance bool `yaml:"initial-election-tick-advance"`
	// PreVote runs raft's pre-vote phase, so that a member rejoining after
	// a partition does not depose a working leader.
	PreVote bool `yaml:"pre-vote"`

	QuotaBackendBytes int64 `yaml:"quota-backend-bytes"`
	MaxRequestBytes   uint  `yaml:"max-request-bytes"`
	MaxTxnOps         uint  `yaml:"max-txn-ops"`

	// WatchProgressNotifyInterval is how often watchers that asked for
	// progress notifications get one (ProgressNotifyInterval). Load sets
	// it from the experimental name when only that one is given.
	WatchProgressNotifyInterval             time.Duration `yaml:"watch-progress-notify-interval"`
	ExperimentalWatchProgressNotifyInterval time.Duration `yaml:"experimental-watch-progress-notify-interval"`

	// LeaseCheckpointInterval is how often the leader replicates the
	// remaining TTL of every lease; 0 means 5 minutes. Not a flag.
	LeaseCheckpointInterval time.Duration `yaml:"-"`

	// AuthToken, AuthTokenTTL (seconds) and BcryptCost configure auth.
	AuthToken    string `yaml:"auth-token"`
	AuthTokenTTL uint   `yaml:"auth-token-ttl"`
	BcryptCost   uint   `yaml:"bcrypt-cost"`

	// ListenMetricsURLs also serve /metrics and the health endpoints.
	ListenMetricsURLs []url.URL `yaml:"listen-metrics-urls"`
	// Metrics is "basic" or "extensive".
	Metrics string `yaml:"metrics"`

	// EnablePprof serves /debug/pprof/ on the client URLs.
	EnablePprof bool `yaml:"enable-pprof"`

	// EnableV2 serves the v2 HTTP API on the client URLs. etcd 3.4 and 3.5
	// default it to off and 3.6 removed it; Cairn keeps it on so that old
	// scripts and v2 clients work against a drop-in replacement. The v2
	// key space is replicated either way: the flag only decides serving.
	EnableV2 bool `yaml:"enable-v2"`

	LogLevel   string   `yaml:"log-level"`
	Logger     string   `yaml:"logger"`
	LogFormat  string   `yaml:"log-format"`
	LogOutputs []string `yaml:"log-outputs"`

	// The client listeners' gRPC and HTTP settings.
	//
	// MaxConcurrentStreams caps the concurrent HTTP/2 streams of one client
	// connection. The gRPC server sends a ping after GRPCKeepAliveInterval
	// without activity and closes a connection that stays silent for
	// GRPCKeepAliveTimeout more (0 disables either); clients pinging more
	// often than GRPCKeepAliveMinTime are sent away. EnableGRPCGateway
	// serves the JSON gateway (/v3/...). SocketReusePort and
	// SocketReuseAddress set SO_REUSEPORT and SO_REUSEADDR on every
	// listener. CORS lists the origins allowed to call the HTTP endpoints
	// and HostWhitelist the Host headers accepted over plain HTTP; "*" (or
	// an empty list) allows all.
	MaxConcurrentStreams  uint32        `yaml:"max-concurrent-streams"`
	GRPCKeepAliveMinTime  time.Duration `yaml:"grpc-keepalive-min-time"`
	GRPCKeepAliveInterval time.Duration `yaml:"grpc-keepalive-interval"`
	GRPCKeepAliveTimeout  time.Duration `yaml:"grpc-keepalive-timeout"`
	EnableGRPCGateway     bool          `yaml:"enable-grpc-gateway"`
	SocketReusePort       bool          `yaml:"socket-reuse-port"`
	SocketReuseAddress    bool          `yaml:"socket-reuse-address"`
	CORS                  []string      `yaml:"cors"`
	HostWhitelist         []string      `yaml:"host-whitelist"`

	// RaftReadTimeout and RaftWriteTimeout bound each read from and write
	// to a peer connection; Load raises values under 5s to 5s, as etcd
	// does.
	RaftReadTimeout  time.Duration `yaml:"raft-read-timeout"`
	RaftWriteTimeout time.Duration `yaml:"raft-write-timeout"`

	// FeatureGates holds the gates --feature-gates named (and those Load
	// set from the experimental flags they replaced); read them with
	// Feature, which applies the defaults.
	FeatureGates map[string]bool `yaml:"feature-gates"`

	// Background checks and compaction pacing. CorruptCheckTime is the
	// period of the check that compares this member's hash with its
	// peers' (0: never); CompactHashCheckTime that of the leader's check of
	// the followers' compaction hashes (when CompactHashCheck). A
	// compaction deletes at most CompactionBatchLimit revisions per batch
	// and sleeps CompactionSleepInterval between batches (0: the
	// compactor's default). DowngradeCheckTime is how often the leader
	// checks whether a downgrade it started is complete.
	CorruptCheckTime        time.Duration `yaml:"corrupt-check-time"`
	CompactHashCheckTime    time.Duration `yaml:"compact-hash-check-time"`
	CompactionBatchLimit    int           `yaml:"compaction-batch-limit"`
	CompactionSleepInterval time.Duration `yaml:"compaction-sleep-interval"`
	DowngradeCheckTime      time.Duration `yaml:"downgrade-check-time"`

	// WarningApplyDuration and WarningUnaryRequestDuration are the
	// durations past which applying an entry, or serving a unary request,
	// is logged as slow.
	WarningApplyDuration        time.Duration `yaml:"warning-apply-duration"`
	WarningUnaryRequestDuration time.Duration `yaml:"warning-unary-request-duration"`

	// MaxLearners is the most learners the membership may hold at once.
	MaxLearners int `yaml:"max-learners"`

	// ForceNewCluster restarts the member as a one-member cluster, keeping
	// its data and dropping every other member (disaster recovery).
	// UnsafeNoFsync never syncs writes to disk: a crash loses data.
	ForceNewCluster bool `yaml:"force-new-cluster"`
	UnsafeNoFsync   bool `yaml:"unsafe-no-fsync"`

	// Flags etcd accepts that have no effect in Cairn (Load warns when one
	// is changed from its default; see noEffect in flags.go): bbolt and
	// WAL file tuning, memory locking, log rotation, tracing.
	MaxSnapshots                      uint          `yaml:"max-snapshots"`
	MaxWALs                           uint          `yaml:"max-wals"`
	MemoryMlock                       bool          `yaml:"memory-mlock"`
	BackendBboltFreelistType          string        `yaml:"backend-bbolt-freelist-type"`
	BackendBatchInterval              time.Duration `yaml:"backend-batch-interval"`
	BackendBatchLimit                 int           `yaml:"backend-batch-limit"`
	BootstrapDefragThresholdMegabytes uint          `yaml:"bootstrap-defrag-threshold-megabytes"`
	EnableLogRotation                 bool          `yaml:"enable-log-rotation"`
	LogRotationConfigJSON             string        `yaml:"log-rotation-config-json"`
	EnableDistributedTracing          bool          `yaml:"enable-distributed-tracing"`
	DistributedTracingAddress         string        `yaml:"distributed-tracing-address"`
	DistributedTracingServiceName     string        `yaml:"distributed-tracing-service-name"`
	DistributedTracingInstanceID      string        `yaml:"distributed-tracing-instance-id"`
	DistributedTracingSamplingRate    int           `yaml:"distributed-tracing-sampling-rate"` // per million spans

	// V2Deprecation is the v2 store deprecation stage. etcd 3.6 accepts
	// the flag but enforces its default, "write-only", and so does Load.
	V2Deprecation string `yaml:"v2-deprecation"`

	// The --discovery* flags. Cairn bootstraps from --initial-cluster only:
	// Validate refuses a discovery source; the tuning flags are accepted
	// and have no effect.
	Discovery                      string        `yaml:"discovery"`
	DiscoveryToken                 string        `yaml:"discovery-token"`
	DiscoveryEndpoints             []string      `yaml:"discovery-endpoints"`
	DiscoveryDialTimeout           time.Duration `yaml:"discovery-dial-timeout"`
	DiscoveryRequestTimeout        time.Duration `yaml:"discovery-request-timeout"`
	DiscoveryKeepAliveTime         time.Duration `yaml:"discovery-keepalive-time"`
	DiscoveryKeepAliveTimeout      time.Duration `yaml:"discovery-keepalive-timeout"`
	DiscoveryInsecureTransport     bool          `yaml:"discovery-insecure-transport"`
	DiscoveryInsecureSkipTLSVerify bool          `yaml:"discovery-insecure-skip-tls-verify"`
	DiscoveryCert                  string        `yaml:"discovery-cert"`
	DiscoveryKey                   string        `yaml:"discovery-key"`
	DiscoveryCACert                string        `yaml:"discovery-cacert"`
	DiscoveryUser                  string        `yaml:"discovery-user"`
	DiscoveryPassword              string        `yaml:"discovery-password"`
	DiscoveryFallback              string        `yaml:"discovery-fallback"`
	DiscoveryProxy                 string        `yaml:"discovery-proxy"`
	DiscoverySRV                   string        `yaml:"discovery-srv"`
	DiscoverySRVName               string        `yaml:"discovery-srv-name"`

	// The deprecated --experimental-* flags etcd 3.6 still accepts, as
	// given. Load folds each into its successor (the field of the same
	// name without the prefix, or a feature gate) and warns; read the
	// successors, not these.
	ExperimentalInitialCorruptCheck               bool          `yaml:"experimental-initial-corrupt-check"`
	ExperimentalCorruptCheckTime                  time.Duration `yaml:"experimental-corrupt-check-time"`
	ExperimentalCompactHashCheckEnabled           bool          `yaml:"experimental-compact-hash-check-enabled"`
	ExperimentalCompactHashCheckTime              time.Duration `yaml:"experimental-compact-hash-check-time"`
	ExperimentalEnableLeaseCheckpoint             bool          `yaml:"experimental-enable-lease-checkpoint"`
	ExperimentalEnableLeaseCheckpointPersist      bool          `yaml:"experimental-enable-lease-checkpoint-persist"`
	ExperimentalCompactionBatchLimit              int           `yaml:"experimental-compaction-batch-limit"`
	ExperimentalCompactionSleepInterval           time.Duration `yaml:"experimental-compaction-sleep-interval"`
	ExperimentalWarningApplyDuration              time.Duration `yaml:"experimental-warning-apply-duration"`
	ExperimentalWarningUnaryRequestDuration       time.Duration `yaml:"experimental-warning-unary-request-duration"`
	ExperimentalTxnModeWriteWithSharedBuffer      bool          `yaml:"experimental-txn-mode-write-with-shared-buffer"`
	ExperimentalBootstrapDefragThresholdMegabytes uint          `yaml:"experimental-bootstrap-defrag-threshold-megabytes"`
	ExperimentalMaxLearners                       int           `yaml:"experimental-max-learners"`
	ExperimentalDowngradeCheckTime                time.Duration `yaml:"experimental-downgrade-check-time"`
	ExperimentalMemoryMlock                       bool          `yaml:"experimental-memory-mlock"`
	ExperimentalStopGRPCServiceOnDefrag           bool          `yaml:"experimental-stop-grpc-service-on-defrag"`
	ExperimentalEnableDistributedTracing          bool          `yaml:"experimental-enable-distributed-tracing"`
	ExperimentalDistributedTracingAddress         string        `yaml:"experimental-distributed-tracing-address"`
	ExperimentalDistributedTracingServiceName     string        `yaml:"experimental-distributed-tracing-service-name"`
	ExperimentalDistributedTracingInstanceID      string        `yaml:"experimental-distributed-tracing-instance-id"`
	ExperimentalDistributedTracingSamplingRate    int           `yaml:"experimental-distributed-tracing-sampling-rate"`

	// Effective feature switches, resolved by Load from --feature-gates
	// and the experimental flags they replaced (see Feature). Not flags.
	//
	// InitialCorruptCheck compares this member's data with its peers'
	// before serving. CompactHashCheck makes the leader check the
	// followers' hashes every CompactHashCheckTime. LeaseCheckpoint makes
	// the leader replicate the remaining TTL of leases, and
	// LeaseCheckpointPersist also stores it, so that TTLs survive a
	// restart.
	InitialCorruptCheck    bool `yaml:"-"`
	CompactHashCheck       bool `yaml:"-"`
	LeaseCheckpoint        bool `yaml:"-"`
	LeaseCheckpointPersist bool `yaml:"-"`

	// ConfigFile is the YAML file the configuration was read from
	// (--config-file or ETCD_CONFIG_FILE), empty when none was given.
	ConfigFile string `yaml:"-"`
	// ShowVersion and ShowHelp record --version and --help (-h); the
	// caller prints and exits instead of serving.
	ShowVersion bool `yaml:"-"`
	ShowHelp    bool `yaml:"-"`
	// Warnings are non-fatal findings of Load (unrecognised ETCD_*
	// variables, defaulted values) for the caller to log once a logger
	// exists. Load cannot log: the logger is built from this Config.
	Warnings []Warning `yaml:"-"`

	// explicit holds the names of flags set on the command line or through
	// the environment (not by a config file); Validate uses it for checks
	// that etcd applies only to explicitly given flags.
	explicit map[string]bool
	// given holds the names of flags set by any source, the config file
	// included: the deprecated-flag rules (resolve.go) depend on it.
	given map[string]bool
}

// Warning is a non-fatal finding of Load, shaped for structured logging:
// lg.LogAttrs(ctx, slog.LevelWarn, w.Msg, w.Attrs...).
type Warning struct {
	Msg   string
	Attrs []slog.Attr
}

// Member URL and cluster defaults, as etcd has them.
const (
	DefaultName                = "default"
	DefaultListenClientURLs    = "http://localhost:2379"
	DefaultAdvertiseClientURLs = "http://localhost:2379"
	DefaultListenPeerURLs      = "http://localhost:2380"
	DefaultInitialAdvertiseURL = "http://localhost:2380"
	DefaultInitialCluster      = DefaultName + "=" + DefaultInitialAdvertiseURL
	DefaultInitialClusterToken = "etcd-cluster"
	DefaultMaxRequestBytes     = 1572864
	DefaultMaxTxnOps           = 128
	DefaultSnapshotCount       = 10000
	DefaultHeartbeatInterval   = 100 * time.Millisecond
	DefaultElectionTimeout     = 1000 * time.Millisecond
	DefaultTLSMinVersion       = "TLS1.2"

	// DefaultLogRotationConfig is etcd's --log-rotation-config-json
	// default.
	DefaultLogRotationConfig = `{"maxsize": 100, "maxage": 0, "maxbackups": 0, "localtime": false, "compress": false}`

	// ClusterStateNew and ClusterStateExisting are the values of
	// --initial-cluster-state.
	ClusterStateNew      = "new"
	ClusterStateExisting = "existing"
)

// Default returns the configuration etcd runs with when given no flags:
// member "default" in "default.etcd", serving clients on localhost:2379 and
// peers on localhost:2380.
func Default() *Config {
	c := defaults()
	derive(c)
	return c
}

// defaults fills a Config from the flag table's defaults, before the
// derivations that depend on other values (data dir, initial cluster).
func defaults() *Config {
	c := &Config{}
	for _, f := range flagTable {
		v := f.bind(c)
		if v == nil {
			continue
		}
		if err := v.set(f.def); err != nil {
			panic("config: bad default for --" + f.name + ": " + err.Error())
		}
	}
	return c
}

// derive computes the values etcd derives from others when they were left
// at their defaults: an empty data dir becomes "<name>.etcd", and the
// initial cluster, while it still holds its default value, becomes this
// member alone when the member is not named "default". It also sets the
// effective feature switches from the feature gates.
func derive(c *Config) {
	c.InitialCorruptCheck = c.Feature(FeatureInitialCorruptCheck)
	c.CompactHashCheck = c.Feature(FeatureCompactHashCheck)
	c.LeaseCheckpoint = c.Feature(FeatureLeaseCheckpoint)
	c.LeaseCheckpointPersist = c.Feature(FeatureLeaseCheckpointPersist)
	if c.DataDir == "" {
		c.DataDir = c.Name + ".etcd"
	}
	if c.Name != DefaultName && FormatInitialCluster(c.InitialCluster) == DefaultInitialCluster {
		ic := make(map[string][]url.URL, 1)
		ic[c.Name] = append([]url.URL(nil), c.InitialAdvertisePeerURLs...)
		c.InitialCluster = ic
	}
}

// ProgressNotifyInterval is the effective watch progress notification
// interval: WatchProgressNotifyInterval, which Load sets from
// --experimental-watch-progress-notify-interval when only that is given.
func (c *Config) ProgressNotifyInterval() time.Duration {
	return c.WatchProgressNotifyInterval
}

// markGiven records that a source set the flag named name.
func (c *Config) markGiven(name string) {
	if c.given == nil {
		c.given = make(map[string]bool)
	}
	c.given[name] = true
}

func (c *Config) warn(msg string, attrs ...slog.Attr) {
	c.Warnings = append(c.Warnings, Warning{Msg: msg, Attrs: attrs})
}
