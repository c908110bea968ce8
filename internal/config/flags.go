package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// flagSpec declares one etcd flag: its name, default (in flag syntax), help
// text and the Config field it fills. Each flag is declared here once; the
// command line, the environment, the config file, the help text and the
// defaults are all driven from this table.
type flagSpec struct {
	name  string
	def   string // default, in the syntax the flag accepts
	shown string // default as help shows it, when it differs from def
	group string // help section
	usage string
	// bind returns the flag's value bound to its field in c.
	bind func(c *Config) value
	// cmdOnly flags (--config-file, --version, --help) steer Load itself;
	// they have no ETCD_* form (except ETCD_CONFIG_FILE, read by Load) and
	// no config-file key.
	cmdOnly bool
	// fileKey is where etcd's config files keep a TLS flag, under one of
	// the transport security mappings: "client-transport-security.cert-file".
	// The flag's own name is accepted at the top level as well.
	fileKey string
}

const (
	groupMember     = "Member"
	groupClustering = "Clustering"
	groupSecurity   = "Security"
	groupLogging    = "Logging"
	groupAuth       = "Auth"
	groupCommand    = "Command"
)

// flagTable lists every flag Cairn's etcd accepts, in help order.
var flagTable = []flagSpec{
	{name: "name", def: DefaultName, group: groupMember,
		usage: "Human-readable name of this member; must be unique within the cluster.",
		bind:  func(c *Config) value { return &stringValue{&c.Name} }},
	{name: "data-dir", def: "", shown: "${name}.etcd", group: groupMember,
		usage: "Directory holding this member's data.",
		bind:  func(c *Config) value { return &stringValue{&c.DataDir} }},
	{name: "snapshot-count", def: "10000", group: groupMember,
		usage: "Number of committed entries after which the raft log is snapshotted and truncated.",
		bind:  func(c *Config) value { return &uint64Value{&c.SnapshotCount} }},
	{name: "experimental-snapshot-catchup-entries", def: "5000", group: groupMember,
		usage: "Number of applied entries kept in the raft log after a truncation, so slightly slow followers catch up without a snapshot.",
		bind:  func(c *Config) value { return &uint64Value{&c.SnapshotCatchUpEntries} }},
	{name: "heartbeat-interval", def: "100", group: groupMember,
		usage: "Leader heartbeat interval, in milliseconds.",
		bind:  func(c *Config) value { return &millisValue{&c.HeartbeatInterval} }},
	{name: "election-timeout", def: "1000", group: groupMember,
		usage: "Time in milliseconds a follower waits without hearing from a leader before it campaigns; at least 5x the heartbeat interval.",
		bind:  func(c *Config) value { return &millisValue{&c.ElectionTimeout} }},
	{name: "listen-peer-urls", def: DefaultListenPeerURLs, group: groupMember,
		usage: "Comma-separated URLs to listen on for traffic from other members.",
		bind:  func(c *Config) value { return &urlsValue{&c.ListenPeerURLs} }},
	{name: "listen-client-urls", def: DefaultListenClientURLs, group: groupMember,
		usage: "Comma-separated URLs to listen on for client gRPC and HTTP traffic.",
		bind:  func(c *Config) value { return &urlsValue{&c.ListenClientURLs} }},
	{name: "quota-backend-bytes", def: "0", group: groupMember,
		usage: "Size in bytes at which the backend raises the NOSPACE alarm and refuses writes; 0 means the 2 GiB default.",
		bind:  func(c *Config) value { return &int64Value{&c.QuotaBackendBytes} }},
	{name: "max-txn-ops", def: "128", group: groupMember,
		usage: "Largest number of operations allowed in one transaction.",
		bind:  func(c *Config) value { return &uintValue{&c.MaxTxnOps} }},
	{name: "max-request-bytes", def: "1572864", group: groupMember,
		usage: "Largest client request, in bytes, the server accepts.",
		bind:  func(c *Config) value { return &uintValue{&c.MaxRequestBytes} }},
	{name: "enable-v2", def: "true", group: groupMember,
		usage: "Serve the v2 API (/v2/keys, /v2/members, /v2/stats, /v2/machines) on the client URLs; on by default so tools written for etcd's v2 API keep working.",
		bind:  func(c *Config) value { return &boolValue{&c.EnableV2} }},

	{name: "watch-progress-notify-interval", def: "10m", group: groupMember,
		usage: "Interval of progress notifications to watchers that asked for them (a Go duration, e.g. 5s).",
		bind:  func(c *Config) value { return &durationValue{&c.WatchProgressNotifyInterval} }},
	{name: "experimental-watch-progress-notify-interval", def: "0s", group: groupMember,
		usage: "Deprecated name of --watch-progress-notify-interval; when set it takes precedence.",
		bind:  func(c *Config) value { return &durationValue{&c.ExperimentalWatchProgressNotifyInterval} }},

	{name: "initial-advertise-peer-urls", def: DefaultInitialAdvertiseURL, group: groupClustering,
		usage: "Comma-separated peer URLs of this member, as other members should reach it.",
		bind:  func(c *Config) value { return &urlsValue{&c.InitialAdvertisePeerURLs} }},
	{name: "initial-cluster", def: DefaultInitialCluster, group: groupClustering,
		usage: "Members of the cluster at bootstrap, as name=peer-url pairs separated by commas (a name may repeat for several URLs).",
		bind:  func(c *Config) value { return &clusterValue{&c.InitialCluster} }},
	{name: "initial-cluster-state", def: ClusterStateNew, group: groupClustering,
		usage: "'new' to bootstrap a new cluster, 'existing' to join a running one. Ignored once the member has data.",
		bind: func(c *Config) value {
			return &enumValue{p: &c.InitialClusterState, allowed: []string{ClusterStateNew, ClusterStateExisting}}
		}},
	{name: "initial-cluster-token", def: DefaultInitialClusterToken, group: groupClustering,
		usage: "Token mixed into the cluster and member IDs at bootstrap, so that separate clusters with the same members stay apart.",
		bind:  func(c *Config) value { return &stringValue{&c.InitialClusterToken} }},
	{name: "auto-compaction-mode", def: "periodic", group: groupClustering,
		usage: "Interpretation of --auto-compaction-retention: 'periodic' (a time window) or 'revision' (a number of revisions).",
		bind: func(c *Config) value {
			return &enumValue{p: &c.AutoCompactionMode, allowed: []string{"periodic", "revision"}}
		}},
	{name: "auto-compaction-retention", def: "0", group: groupClustering,
		usage: "History to keep with auto-compaction: a duration or a number of hours (periodic), or revisions (revision); 0 disables it.",
		bind:  func(c *Config) value { return &stringValue{&c.AutoCompactionRetention} }},
	{name: "strict-reconfig-check", def: "true", group: groupClustering,
		usage: "Reject membership changes that would leave fewer started members than a quorum.",
		bind:  func(c *Config) value { return &boolValue{&c.StrictReconfigCheck} }},
	{name: "advertise-client-urls", def: DefaultAdvertiseClientURLs, group: groupClustering,
		usage: "Comma-separated client URLs of this member, as clients should reach it. Required when --listen-client-urls is given.",
		bind:  func(c *Config) value { return &urlsValue{&c.AdvertiseClientURLs} }},

	{name: "cert-file", def: "", group: groupSecurity, fileKey: clientSecurity + ".cert-file",
		usage: "PEM certificate (chain) the client listener serves.",
		bind:  func(c *Config) value { return &stringValue{&c.CertFile} }},
	{name: "key-file", def: "", group: groupSecurity, fileKey: clientSecurity + ".key-file",
		usage: "PEM private key of --cert-file.",
		bind:  func(c *Config) value { return &stringValue{&c.KeyFile} }},
	{name: "client-cert-auth", def: "false", group: groupSecurity, fileKey: clientSecurity + ".client-cert-auth",
		usage: "Require clients to present a certificate signed by a CA in --trusted-ca-file.",
		bind:  func(c *Config) value { return &boolValue{&c.ClientCertAuth} }},
	{name: "client-cert-file", def: "", group: groupSecurity, fileKey: clientSecurity + ".client-cert-file",
		usage: "PEM certificate this member presents when it connects to a client listener itself; defaults to --cert-file.",
		bind:  func(c *Config) value { return &stringValue{&c.ClientCertFile} }},
	{name: "client-key-file", def: "", group: groupSecurity, fileKey: clientSecurity + ".client-key-file",
		usage: "PEM private key of --client-cert-file.",
		bind:  func(c *Config) value { return &stringValue{&c.ClientKeyFile} }},
	{name: "client-crl-file", def: "", group: groupSecurity, fileKey: clientSecurity + ".crl-file",
		usage: "Certificate revocation list (PEM or DER); clients presenting a revoked certificate are refused.",
		bind:  func(c *Config) value { return &stringValue{&c.ClientCRLFile} }},
	{name: "client-cert-allowed-hostname", def: "", group: groupSecurity, fileKey: clientSecurity + ".allowed-hostname",
		usage: "Comma-separated host names; when set, a client certificate must be valid for one of them.",
		bind:  func(c *Config) value { return &csvValue{&c.ClientCertAllowedHostname} }},
	{name: "trusted-ca-file", def: "", group: groupSecurity, fileKey: clientSecurity + ".trusted-ca-file",
		usage: "PEM bundle of the CAs that sign client certificates; giving it requires client certificates.",
		bind:  func(c *Config) value { return &stringValue{&c.TrustedCAFile} }},
	{name: "auto-tls", def: "false", group: groupSecurity, fileKey: clientSecurity + ".auto-tls",
		usage: "Serve clients with a generated self-signed certificate when --cert-file and --key-file are not given.",
		bind:  func(c *Config) value { return &boolValue{&c.AutoTLS} }},
	{name: "peer-cert-file", def: "", group: groupSecurity, fileKey: peerSecurity + ".cert-file",
		usage: "PEM certificate (chain) the peer listener serves and, unless --peer-client-cert-file is given, this member presents to its peers.",
		bind:  func(c *Config) value { return &stringValue{&c.PeerCertFile} }},
	{name: "peer-key-file", def: "", group: groupSecurity, fileKey: peerSecurity + ".key-file",
		usage: "PEM private key of --peer-cert-file.",
		bind:  func(c *Config) value { return &stringValue{&c.PeerKeyFile} }},
	{name: "peer-client-cert-auth", def: "false", group: groupSecurity, fileKey: peerSecurity + ".client-cert-auth",
		usage: "Require members connecting to the peer listener to present a certificate signed by a CA in --peer-trusted-ca-file.",
		bind:  func(c *Config) value { return &boolValue{&c.PeerClientCertAuth} }},
	{name: "peer-client-cert-file", def: "", group: groupSecurity, fileKey: peerSecurity + ".client-cert-file",
		usage: "PEM certificate this member presents to its peers; defaults to --peer-cert-file.",
		bind:  func(c *Config) value { return &stringValue{&c.PeerClientCertFile} }},
	{name: "peer-client-key-file", def: "", group: groupSecurity, fileKey: peerSecurity + ".client-key-file",
		usage: "PEM private key of --peer-client-cert-file.",
		bind:  func(c *Config) value { return &stringValue{&c.PeerClientKeyFile} }},
	{name: "peer-trusted-ca-file", def: "", group: groupSecurity, fileKey: peerSecurity + ".trusted-ca-file",
		usage: "PEM bundle of the CAs that sign peer certificates; giving it requires peer client certificates.",
		bind:  func(c *Config) value { return &stringValue{&c.PeerTrustedCAFile} }},
	{name: "peer-cert-allowed-cn", def: "", group: groupSecurity, fileKey: peerSecurity + ".allowed-cn",
		usage: "Comma-separated common names; when set, a peer certificate must carry one of them (or match --peer-cert-allowed-hostname).",
		bind:  func(c *Config) value { return &csvValue{&c.PeerCertAllowedCN} }},
	{name: "peer-cert-allowed-hostname", def: "", group: groupSecurity, fileKey: peerSecurity + ".allowed-hostname",
		usage: "Comma-separated host names; when set, a peer certificate must be valid for one of them (or match --peer-cert-allowed-cn).",
		bind:  func(c *Config) value { return &csvValue{&c.PeerCertAllowedHostname} }},
	{name: "peer-auto-tls", def: "false", group: groupSecurity, fileKey: peerSecurity + ".auto-tls",
		usage: "Serve and dial peers with a generated self-signed certificate when --peer-cert-file and --peer-key-file are not given; peers are then not verified.",
		bind:  func(c *Config) value { return &boolValue{&c.PeerAutoTLS} }},
	{name: "self-signed-cert-validity", def: "1", group: groupSecurity,
		usage: "Validity, in years, of the certificates --auto-tls and --peer-auto-tls generate.",
		bind:  func(c *Config) value { return &uintValue{&c.SelfSignedCertValidity} }},
	{name: "peer-crl-file", def: "", group: groupSecurity, fileKey: peerSecurity + ".crl-file",
		usage: "Certificate revocation list (PEM or DER); peers presenting a revoked certificate are refused.",
		bind:  func(c *Config) value { return &stringValue{&c.PeerCRLFile} }},
	{name: "peer-skip-client-san-verification", def: "false", group: groupSecurity, fileKey: peerSecurity + ".skip-client-san-verification",
		usage: "Accept peer certificates whose IP addresses and DNS names do not match the address the connection comes from.",
		bind:  func(c *Config) value { return &boolValue{&c.PeerSkipClientSANVerification} }},
	{name: "cipher-suites", def: "", group: groupSecurity,
		usage: "Comma-separated TLS 1.2 cipher suites (Go's names) allowed on both listeners; empty means Go's defaults.",
		bind:  func(c *Config) value { return &csvValue{&c.CipherSuites} }},
	{name: "tls-min-version", def: DefaultTLSMinVersion, group: groupSecurity,
		usage: "Lowest TLS version accepted: TLS1.2 or TLS1.3.",
		bind:  func(c *Config) value { return &stringValue{&c.TLSMinVersion} }},
	{name: "tls-max-version", def: "", group: groupSecurity,
		usage: "Highest TLS version accepted: TLS1.2 or TLS1.3; empty means Go's default.",
		bind:  func(c *Config) value { return &stringValue{&c.TLSMaxVersion} }},

	{name: "auth-token", def: "simple", group: groupAuth,
		usage: "Auth token type and its options: 'simple', or 'jwt,pub-key=<path>,priv-key=<path>,sign-method=<alg>,ttl=<duration>'.",
		bind:  func(c *Config) value { return &stringValue{&c.AuthToken} }},
	{name: "auth-token-ttl", def: "300", group: groupAuth,
		usage: "Time to live of simple auth tokens, in seconds.",
		bind:  func(c *Config) value { return &uintValue{&c.AuthTokenTTL} }},
	{name: "bcrypt-cost", def: "10", group: groupAuth,
		usage: "bcrypt cost for hashing auth passwords (4 to 31).",
		bind:  func(c *Config) value { return &uintValue{&c.BcryptCost} }},
	{name: "listen-metrics-urls", def: "", group: groupLogging,
		usage: "Comma-separated URLs to also serve /metrics and the health endpoints on (plain HTTP or HTTPS).",
		bind:  func(c *Config) value { return &urlsValue{&c.ListenMetricsURLs} }},
	{name: "metrics", def: "basic", group: groupLogging,
		usage: "Set of metrics exposed: 'basic', or 'extensive' to add gRPC latency histograms.",
		bind:  func(c *Config) value { return &enumValue{p: &c.Metrics, allowed: []string{"basic", "extensive"}} }},
	{name: "enable-pprof", def: "false", group: groupLogging,
		usage: "Serve runtime profiling data over HTTP at /debug/pprof/ on the client URLs.",
		bind:  func(c *Config) value { return &boolValue{&c.EnablePprof} }},
	{name: "logger", def: "zap", group: groupLogging,
		usage: "Logger implementation; only 'zap' (structured logging) is accepted, for compatibility.",
		bind:  func(c *Config) value { return &stringValue{&c.Logger} }},
	{name: "log-outputs", def: "default", group: groupLogging,
		usage: "Comma-separated log destinations: 'default' or 'stderr' (standard error), 'stdout', or file paths.",
		bind:  func(c *Config) value { return &listValue{&c.LogOutputs} }},
	{name: "log-level", def: "info", group: groupLogging,
		usage: "Lowest level logged: debug, info, warn, error, panic or fatal.",
		bind:  func(c *Config) value { return &stringValue{&c.LogLevel} }},
	{name: "log-format", def: "json", group: groupLogging,
		usage: "Log line format: json (one object per line) or console (human-readable).",
		bind:  func(c *Config) value { return &stringValue{&c.LogFormat} }},

	{name: "config-file", def: "", group: groupCommand, cmdOnly: true,
		usage: "YAML configuration file. When given, all other flags and ETCD_* variables are ignored.",
		bind:  func(c *Config) value { return &stringValue{&c.ConfigFile} }},
	{name: "version", def: "false", group: groupCommand, cmdOnly: true,
		usage: "Print the version and exit.",
		bind:  func(c *Config) value { return &boolValue{&c.ShowVersion} }},
	{name: "help", def: "false", group: groupCommand, cmdOnly: true,
		usage: "Print this help and exit (also -h).",
		bind:  func(c *Config) value { return &boolValue{&c.ShowHelp} }},
}

// flagAliases maps short spellings to table names.
var flagAliases = map[string]string{"h": "help"}

// lookupFlag finds a flag by the name used on the command line.
func lookupFlag(name string) *flagSpec {
	if n, ok := flagAliases[name]; ok {
		name = n
	}
	for i := range flagTable {
		if flagTable[i].name == name {
			return &flagTable[i]
		}
	}
	return nil
}

// envName is the environment variable for a flag: ETCD_ and the name in
// upper case with dashes as underscores.
func envName(flag string) string {
	return "ETCD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// value is one flag bound to its Config field.
type value interface {
	// set parses s in flag syntax and stores it.
	set(s string) error
	// String formats the stored value in flag syntax, so that
	// set(String()) restores it.
	String() string
}

// listSetter is implemented by values that also accept a YAML sequence.
type listSetter interface {
	setList(items []string) error
}

// boolFlag marks values that need no argument on the command line.
type boolFlag interface{ isBool() }

// yamlValuer gives the value to write in a YAML config file, when the flag
// string would be the wrong YAML type.
type yamlValuer interface{ yamlValue() any }

// The errors Go's flag package uses for unparsable numbers; etcd reports
// them in these words.
var (
	errParse = errors.New("parse error")
	errRange = errors.New("value out of range")
)

func numError(err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return errRange
	}
	return errParse
}

type stringValue struct{ p *string }

func (v *stringValue) set(s string) error { *v.p = s; return nil }
func (v *stringValue) String() string     { return *v.p }

// enumValue is a string restricted to a fixed set, checked as it is parsed.
type enumValue struct {
	p       *string
	allowed []string
}

func (v *enumValue) set(s string) error {
	if !slices.Contains(v.allowed, s) {
		return fmt.Errorf("valid values are %s", strings.Join(v.allowed, ", "))
	}
	*v.p = s
	return nil
}
func (v *enumValue) String() string { return *v.p }

type boolValue struct{ p *bool }

func (v *boolValue) set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errParse
	}
	*v.p = b
	return nil
}
func (v *boolValue) String() string { return strconv.FormatBool(*v.p) }
func (v *boolValue) isBool()        {}
func (v *boolValue) yamlValue() any { return *v.p }

type uint64Value struct{ p *uint64 }

func (v *uint64Value) set(s string) error {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return numError(err)
	}
	*v.p = n
	return nil
}
func (v *uint64Value) String() string { return strconv.FormatUint(*v.p, 10) }
func (v *uint64Value) yamlValue() any { return *v.p }

type uintValue struct{ p *uint }

func (v *uintValue) set(s string) error {
	n, err := strconv.ParseUint(s, 0, strconv.IntSize)
	if err != nil {
		return numError(err)
	}
	*v.p = uint(n)
	return nil
}
func (v *uintValue) String() string { return strconv.FormatUint(uint64(*v.p), 10) }
func (v *uintValue) yamlValue() any { return uint64(*v.p) }

type int64Value struct{ p *int64 }

func (v *int64Value) set(s string) error {
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return numError(err)
	}
	*v.p = n
	return nil
}
func (v *int64Value) String() string { return strconv.FormatInt(*v.p, 10) }
func (v *int64Value) yamlValue() any { return *v.p }

// millisValue is a duration given as a whole number of milliseconds, the
// unit of etcd's --heartbeat-interval and --election-timeout, both on the
// command line and in the config file.
type millisValue struct{ p *time.Duration }

// maxMillis keeps n*time.Millisecond from overflowing.
const maxMillis = uint64(1<<63-1) / uint64(time.Millisecond)

func (v *millisValue) set(s string) error {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return numError(err)
	}
	if n > maxMillis {
		return errRange
	}
	*v.p = time.Duration(n) * time.Millisecond
	return nil
}
func (v *millisValue) String() string {
	return strconv.FormatInt(int64(*v.p/time.Millisecond), 10)
}
func (v *millisValue) yamlValue() any { return int64(*v.p / time.Millisecond) }

// durationValue is a Go duration ("5s", "10m") on the command line; a bare
// integer counts nanoseconds, which is how etcd's YAML config files give
// durations.
type durationValue struct{ p *time.Duration }

func (v *durationValue) set(s string) error {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return errRange
		}
		*v.p = time.Duration(n)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return errParse
	}
	if d < 0 {
		return errRange
	}
	*v.p = d
	return nil
}
func (v *durationValue) String() string { return v.p.String() }
func (v *durationValue) yamlValue() any { return int64(*v.p) }

// csvValue is a comma-separated list of strings kept in the order given,
// items verbatim (etcd's --cipher-suites and --peer-cert-allowed-cn behave
// so). The empty string is the empty list.
type csvValue struct{ p *[]string }

func (v *csvValue) set(s string) error {
	if s == "" {
		*v.p = nil
		return nil
	}
	return v.setList(strings.Split(s, ","))
}
func (v *csvValue) setList(items []string) error {
	*v.p = nil
	if len(items) > 0 {
		*v.p = slices.Clone(items)
	}
	return nil
}

// String joins the list with commas. Items holding commas (possible from
// a config file's list) do not survive set(String()); the YAML list form
// keeps them.
func (v *csvValue) String() string { return strings.Join(*v.p, ",") }
func (v *csvValue) yamlValue() any {
	if *v.p == nil {
		return []string{}
	}
	return slices.Clone(*v.p)
}

// urlsValue is a comma-separated list of URLs, stored sorted as etcd does.
type urlsValue struct{ p *[]url.URL }

func (v *urlsValue) set(s string) error {
	us, err := ParseURLs(s)
	if err != nil {
		return err
	}
	*v.p = us
	return nil
}
func (v *urlsValue) setList(items []string) error { return v.set(strings.Join(items, ",")) }
func (v *urlsValue) String() string               { return FormatURLs(*v.p) }

// clusterValue is --initial-cluster.
type clusterValue struct{ p *map[string][]url.URL }

func (v *clusterValue) set(s string) error {
	m, err := ParseInitialCluster(s)
	if err != nil {
		return err
	}
	*v.p = m
	return nil
}
func (v *clusterValue) setList(items []string) error { return v.set(strings.Join(items, ",")) }
func (v *clusterValue) String() string               { return FormatInitialCluster(*v.p) }

// listValue is a comma-separated list of strings, stored sorted and without
// duplicates (etcd's --log-outputs behaves so).
type listValue struct{ p *[]string }

func (v *listValue) set(s string) error { return v.setList(strings.Split(s, ",")) }
func (v *listValue) setList(items []string) error {
	out := slices.Clone(items)
	slices.Sort(out)
	*v.p = slices.Compact(out)
	return nil
}

// String joins the list with commas. A list whose items contain commas (a
// file path, say) does not survive set(String()); the config file's YAML
// list form keeps such items intact.
func (v *listValue) String() string { return strings.Join(*v.p, ",") }
func (v *listValue) yamlValue() any { return slices.Clone(*v.p) }
