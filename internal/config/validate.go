package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cairn-kv/cairn/internal/compactor"
)

// LogLevels are the values --log-level accepts, lowest first.
var LogLevels = []string{"debug", "info", "warn", "error", "panic", "fatal"}

// LogFormats are the values --log-format accepts.
var LogFormats = []string{"json", "console"}

// maxElectionTimeout is etcd's ceiling for --election-timeout.
const maxElectionTimeout = 50 * time.Second

// Validate checks the configuration as a whole and returns every problem at
// once (errors.Join), one line each, or nil. Messages follow etcd's where
// etcd has one. It checks the member name and URLs, --initial-cluster against this
// member, the cluster state, the raft timeouts, the logging settings (log
// rotation included), the TLS settings (without reading the certificate
// files), the limits etcd checks on the serving and background flags,
// that no discovery is asked for, and
// that the data directory exists or can be created, and is writable; a
// directory created for that check is removed again, so Validate leaves the
// filesystem as it found it.
func (c *Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	if err := checkMemberName(c.Name); err != nil {
		add(fmt.Errorf("invalid value %q for --name: %w", c.Name, err))
	}
	if c.DataDir == "" {
		add(errors.New("--data-dir must not be empty"))
	} else if err := checkDataDir(c.DataDir); err != nil {
		add(fmt.Errorf("cannot access data directory: %w", err))
	}

	for _, l := range []struct {
		flag string
		urls []url.URL
	}{
		{"listen-peer-urls", c.ListenPeerURLs},
		{"listen-client-urls", c.ListenClientURLs},
		{"listen-client-http-urls", c.ListenClientHTTPURLs},
		{"initial-advertise-peer-urls", c.InitialAdvertisePeerURLs},
		{"advertise-client-urls", c.AdvertiseClientURLs},
	} {
		for _, u := range l.urls {
			add(checkURLFlag(l.flag, u))
		}
	}
	if c.explicit["listen-client-urls"] && !c.explicit["advertise-client-urls"] {
		add(errors.New("--advertise-client-urls is required when --listen-client-urls is set explicitly"))
	}
	for _, u := range c.AdvertiseClientURLs {
		// Clients dial these: a unix socket URL must still look like
		// host:port so that client libraries can parse it.
		if u.Scheme == "unix" || u.Scheme == "unixs" {
			if _, _, err := net.SplitHostPort(u.Host); err != nil {
				add(fmt.Errorf("--advertise-client-urls %q must be \"host:port\" (%v)", u.String(), err))
			}
		}
	}

	if _, _, err := compactor.ParseRetention(c.AutoCompactionMode, c.AutoCompactionRetention); err != nil {
		add(err)
	}

	errs = append(errs, c.checkInitialCluster()...)
	if c.InitialClusterState != ClusterStateNew && c.InitialClusterState != ClusterStateExisting {
		add(fmt.Errorf("invalid value %q for --initial-cluster-state: valid values are %s, %s",
			c.InitialClusterState, ClusterStateNew, ClusterStateExisting))
	}

	errs = append(errs, c.checkTimeouts()...)
	errs = append(errs, c.checkLogging()...)
	errs = append(errs, c.checkTLS()...)
	errs = append(errs, c.checkServing()...)
	errs = append(errs, c.checkDiscovery()...)
	return errors.Join(errs...)
}

func checkURLFlag(flag string, u url.URL) error {
	if err := checkURL(&u, u.String()); err != nil {
		return fmt.Errorf("invalid value %q for --%s: %w", u.String(), flag, err)
	}
	return nil
}

// checkTimeouts applies etcd's limits on the raft timing flags: both
// positive, an election timeout of at least five heartbeats (fewer and
// followers campaign on ordinary jitter) and at most 50 s.
func (c *Config) checkTimeouts() []error {
	var errs []error
	hb, el := c.HeartbeatInterval.Milliseconds(), c.ElectionTimeout.Milliseconds()
	if c.HeartbeatInterval <= 0 {
		errs = append(errs, fmt.Errorf("--heartbeat-interval must be >0 (set to %dms)", hb))
	}
	if c.ElectionTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--election-timeout must be >0 (set to %dms)", el))
	}
	if c.HeartbeatInterval > 0 && c.ElectionTimeout > 0 && 5*c.HeartbeatInterval > c.ElectionTimeout {
		errs = append(errs, fmt.Errorf("--election-timeout[%dms] should be at least as 5 times as --heartbeat-interval[%dms]", el, hb))
	}
	if c.ElectionTimeout > maxElectionTimeout {
		errs = append(errs, fmt.Errorf("--election-timeout[%dms] is too long, and should be set less than %dms",
			el, maxElectionTimeout.Milliseconds()))
	}
	return errs
}

func (c *Config) checkLogging() []error {
	var errs []error
	switch c.Logger {
	case "zap":
	case "capnslog":
		errs = append(errs, errors.New("--logger=capnslog is removed in v3.5"))
	default:
		errs = append(errs, fmt.Errorf("unknown logger option %q", c.Logger))
	}
	if !slices.Contains(LogLevels, c.LogLevel) {
		errs = append(errs, fmt.Errorf("unknown log level: %s, supported values %s", c.LogLevel, strings.Join(LogLevels, ", ")))
	}
	if !slices.Contains(LogFormats, c.LogFormat) {
		errs = append(errs, fmt.Errorf("unknown log format: %s, supported values %s", c.LogFormat, strings.Join(LogFormats, ", ")))
	}
	if len(c.LogOutputs) == 0 {
		errs = append(errs, errors.New("--log-outputs must name at least one output"))
	}
	if c.EnableLogRotation {
		errs = append(errs, c.checkLogRotation()...)
	}
	return errs
}

// checkLogRotation applies etcd's checks of --enable-log-rotation, though
// Cairn does not rotate logs: a configuration etcd refuses is refused here
// too, so that it does not fail only once moved back to etcd.
func (c *Config) checkLogRotation() []error {
	var errs []error
	if len(c.LogOutputs) != 1 || slices.Contains([]string{"default", "stderr", "stdout"}, c.LogOutputs[0]) {
		errs = append(errs, errors.New("--log-outputs requires a single file path when --log-rotate-config-json is defined"))
	}
	var rotation logRotationConfig
	if err := json.Unmarshal([]byte(c.LogRotationConfigJSON), &rotation); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			errs = append(errs, fmt.Errorf("improperly formatted log rotation config: %w", err))
		} else {
			errs = append(errs, fmt.Errorf("invalid log rotation config: %w", err))
		}
	}
	return errs
}

// logRotationConfig is the shape of --log-rotation-config-json.
type logRotationConfig struct {
	MaxSize    int  `json:"maxsize"`    // megabytes
	MaxAge     int  `json:"maxage"`     // days; 0: no limit
	MaxBackups int  `json:"maxbackups"` // 0: no limit
	LocalTime  bool `json:"localtime"`
	Compress   bool `json:"compress"`
}

// checkServing applies etcd's checks of the serving and background-task
// flags.
func (c *Config) checkServing() []error {
	var errs []error
	// Listeners bind to addresses, not names (except localhost). etcd
	// checks this for the peer, client and metrics URLs too, where Cairn
	// lets the listener report it.
	for _, u := range c.ListenClientHTTPURLs {
		if u.Scheme == "unix" || u.Scheme == "unixs" {
			continue
		}
		if host, _, err := net.SplitHostPort(u.Host); err == nil && host != "localhost" && net.ParseIP(host) == nil {
			errs = append(errs, fmt.Errorf("expected IP in URL for binding (%s)", u.String()))
		}
	}
	if c.CompactHashCheckTime <= 0 {
		errs = append(errs, fmt.Errorf("--compact-hash-check-time must be >0 (set to %v)", c.CompactHashCheckTime))
	}
	// etcd takes a negative value and then fails to bootstrap ("membership:
	// too many learner members in cluster").
	if c.MaxLearners < 0 {
		errs = append(errs, fmt.Errorf("--max-learners must be >= 0 (set to %d)", c.MaxLearners))
	}
	if c.LeaseCheckpointPersist && !c.LeaseCheckpoint {
		errs = append(errs, errors.New("enabling feature gate LeaseCheckpointPersist requires enabling feature gate LeaseCheckpoint"))
	}
	if c.EnableDistributedTracing {
		// etcd's words, misspelling included.
		const invalid = "distributed tracing configurition is not valid: (tracing sampling rate must be %s)"
		switch rate := c.DistributedTracingSamplingRate; {
		case rate < 0:
			errs = append(errs, fmt.Errorf(invalid, "positive"))
		case rate > 1000000:
			errs = append(errs, fmt.Errorf(invalid, "less than 1000000"))
		}
	}
	return errs
}

// checkDiscovery refuses the discovery flags: Cairn bootstraps a cluster
// from --initial-cluster only. The tuning flags, which do nothing without
// a discovery source, are accepted (Load warns when they are changed).
func (c *Config) checkDiscovery() []error {
	var errs []error
	var given []string
	for _, d := range []struct {
		flag string
		set  bool
	}{
		{"discovery", c.Discovery != ""},
		{"discovery-token", c.DiscoveryToken != ""},
		{"discovery-endpoints", len(c.DiscoveryEndpoints) > 0},
		{"discovery-cert", c.DiscoveryCert != ""},
		{"discovery-key", c.DiscoveryKey != ""},
		{"discovery-cacert", c.DiscoveryCACert != ""},
		{"discovery-user", c.DiscoveryUser != ""},
		{"discovery-password", c.DiscoveryPassword != ""},
		{"discovery-proxy", c.DiscoveryProxy != ""},
		{"discovery-srv", c.DiscoverySRV != ""},
		{"discovery-srv-name", c.DiscoverySRVName != ""},
	} {
		if d.set {
			given = append(given, "--"+d.flag)
		}
	}
	if len(given) > 0 {
		errs = append(errs, fmt.Errorf("discovery is not supported: Cairn bootstraps a cluster from --initial-cluster only; remove %s",
			strings.Join(given, ", ")))
	}
	if c.DiscoveryFallback == "proxy" {
		errs = append(errs, errors.New(`v2 proxy is deprecated, and --discovery-fallback can't be configured as "proxy"`))
	}
	return errs
}

// checkDataDir reports whether dir is, or can be made, a writable
// directory. A directory that does not exist is created to find out (so the
// error is the one the server would meet) and then removed again, with any
// parents created along the way.
func checkDataDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return probeWritable(dir)
	}
	// Missing, or unreachable: creating it gives the error the server
	// would meet ("mkdir x: not a directory", "... permission denied").

	// Note the missing directories, deepest first, to remove them after.
	var created []string
	for d := filepath.Clean(dir); ; {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		created = append(created, d)
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	defer func() {
		for _, d := range created {
			_ = os.Remove(d) // only succeeds while empty: never removes others' files
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return probeWritable(dir)
}

// probeWritable creates and removes a file in dir. Permission bits alone
// cannot answer the question (root, read-only mounts, ACLs).
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".cairn-probe-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
