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

	ListenClientURLs         []url.URL `yaml:"listen-client-urls"`
	AdvertiseClientURLs      []url.URL `yaml:"advertise-client-urls"`
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

	// TLS settings shared by both listeners.
	SelfSignedCertValidity uint     `yaml:"self-signed-cert-validity"` // years
	CipherSuites           []string `yaml:"cipher-suites"`
	TLSMinVersion          string   `yaml:"tls-min-version"`
	TLSMaxVersion          string   `yaml:"tls-max-version"`

	SnapshotCount          uint64        `yaml:"snapshot-count"`
	SnapshotCatchUpEntries uint64        `yaml:"experimental-snapshot-catchup-entries"`
	HeartbeatInterval      time.Duration `yaml:"heartbeat-interval"` // flag in milliseconds
	ElectionTimeout        time.Duration `yaml:"election-timeout"`   // flag in milliseconds

	QuotaBackendBytes int64 `yaml:"quota-backend-bytes"`
	MaxRequestBytes   uint  `yaml:"max-request-bytes"`
	MaxTxnOps         uint  `yaml:"max-txn-ops"`

	// WatchProgressNotifyInterval is how often watchers that asked for
	// progress notifications get one; the experimental name, when set,
	// takes precedence (ProgressNotifyInterval).
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
// member alone when the member is not named "default".
func derive(c *Config) {
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
// interval.
func (c *Config) ProgressNotifyInterval() time.Duration {
	if c.ExperimentalWatchProgressNotifyInterval > 0 {
		return c.ExperimentalWatchProgressNotifyInterval
	}
	return c.WatchProgressNotifyInterval
}

func (c *Config) warn(msg string, attrs ...slog.Attr) {
	c.Warnings = append(c.Warnings, Warning{Msg: msg, Attrs: attrs})
}
