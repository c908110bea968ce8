package config

import (
	"errors"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeFile writes a config file into a fresh temp dir and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "etcd.conf.yml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustLoad(t *testing.T, args, env []string) *Config {
	t.Helper()
	c, err := Load(args, env)
	if err != nil {
		t.Fatalf("Load(%q, %q): %v", args, env, err)
	}
	return c
}

func mustURLs(t *testing.T, ss ...string) []url.URL {
	t.Helper()
	var us []url.URL
	for _, s := range ss {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		us = append(us, *u)
	}
	return us
}

func warningMsgs(c *Config) []string {
	var ms []string
	for _, w := range c.Warnings {
		ms = append(ms, w.Msg)
	}
	return ms
}

func TestLoadDefaults(t *testing.T) {
	got := mustLoad(t, nil, nil)
	want := &Config{
		Name:                        "default",
		DataDir:                     "default.etcd",
		ListenClientURLs:            mustURLs(t, "http://localhost:2379"),
		AdvertiseClientURLs:         mustURLs(t, "http://localhost:2379"),
		ListenPeerURLs:              mustURLs(t, "http://localhost:2380"),
		InitialAdvertisePeerURLs:    mustURLs(t, "http://localhost:2380"),
		InitialCluster:              map[string][]url.URL{"default": mustURLs(t, "http://localhost:2380")},
		InitialClusterToken:         "etcd-cluster",
		InitialClusterState:         "new",
		SnapshotCount:               10000,
		HeartbeatInterval:           100 * time.Millisecond,
		WatchProgressNotifyInterval: 10 * time.Minute,
		StrictReconfigCheck:         true,
		Metrics:                     "basic",
		AuthToken:                   "simple",
		AuthTokenTTL:                300,
		BcryptCost:                  10,
		AutoCompactionMode:          "periodic",
		AutoCompactionRetention:     "0",
		SnapshotCatchUpEntries:      5000,
		ElectionTimeout:             time.Second,
		QuotaBackendBytes:           0,
		MaxRequestBytes:             1572864,
		MaxTxnOps:                   128,
		LogLevel:                    "info",
		Logger:                      "zap",
		LogFormat:                   "json",
		LogOutputs:                  []string{"default"},
		SelfSignedCertValidity:      1,
		TLSMinVersion:               "TLS1.2",
		EnableV2:                    true,

		InitialElectionTickAdvance:    true,
		PreVote:                       true,
		MaxSnapshots:                  5,
		MaxWALs:                       5,
		BackendBboltFreelistType:      "map",
		MaxConcurrentStreams:          math.MaxUint32,
		GRPCKeepAliveMinTime:          5 * time.Second,
		GRPCKeepAliveInterval:         2 * time.Hour,
		GRPCKeepAliveTimeout:          20 * time.Second,
		EnableGRPCGateway:             true,
		RaftReadTimeout:               5 * time.Second,
		RaftWriteTimeout:              5 * time.Second,
		DiscoveryDialTimeout:          2 * time.Second,
		DiscoveryRequestTimeout:       5 * time.Second,
		DiscoveryKeepAliveTime:        2 * time.Second,
		DiscoveryKeepAliveTimeout:     6 * time.Second,
		DiscoveryInsecureTransport:    true,
		DiscoveryFallback:             "exit",
		V2Deprecation:                 "write-only",
		CORS:                          []string{"*"},
		HostWhitelist:                 []string{"*"},
		LogRotationConfigJSON:         DefaultLogRotationConfig,
		WarningUnaryRequestDuration:   300 * time.Millisecond,
		DistributedTracingAddress:     "localhost:4317",
		DistributedTracingServiceName: "etcd",
		CompactHashCheckTime:          time.Minute,
		CompactionBatchLimit:          1000,
		WarningApplyDuration:          100 * time.Millisecond,
		MaxLearners:                   1,
		DowngradeCheckTime:            5 * time.Second,

		ExperimentalDistributedTracingAddress:     "localhost:4317",
		ExperimentalDistributedTracingServiceName: "etcd",
		ExperimentalCompactHashCheckTime:          time.Minute,
		ExperimentalCompactionBatchLimit:          1000,
		ExperimentalWatchProgressNotifyInterval:   10 * time.Minute,
		ExperimentalWarningApplyDuration:          100 * time.Millisecond,
		ExperimentalTxnModeWriteWithSharedBuffer:  true,
		ExperimentalMaxLearners:                   1,
		ExperimentalDowngradeCheckTime:            5 * time.Second,
		ExperimentalSnapshotCatchUpEntries:        5000,
	}
	got.Warnings, got.explicit, got.given = nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(nil, nil) =\n%+v\nwant\n%+v", got, want)
	}
	def := Default()
	if !reflect.DeepEqual(def, want) {
		t.Errorf("Default() =\n%+v\nwant\n%+v", def, want)
	}
}

// flagSamples holds, for every flag that sets configuration, a value to set
// it to and the value's canonical form (what the flag's String gives back).
var flagSamples = map[string]struct{ in, want string }{
	"name":                                  {"m1", "m1"},
	"data-dir":                              {"/var/lib/cairn", "/var/lib/cairn"},
	"snapshot-count":                        {"5000", "5000"},
	"heartbeat-interval":                    {"50", "50"},
	"watch-progress-notify-interval":        {"5s", "5s"},
	"strict-reconfig-check":                 {"false", "false"},
	"auto-compaction-mode":                  {"revision", "revision"},
	"auto-compaction-retention":             {"1000", "1000"},
	"enable-pprof":                          {"true", "true"},
	"enable-v2":                             {"false", "false"},
	"auth-token":                            {"jwt,sign-method=RS256", "jwt,sign-method=RS256"},
	"auth-token-ttl":                        {"60", "60"},
	"bcrypt-cost":                           {"12", "12"},
	"metrics":                               {"extensive", "extensive"},
	"listen-metrics-urls":                   {"http://127.0.0.1:2381", "http://127.0.0.1:2381"},
	"experimental-snapshot-catchup-entries": {"100", "100"},
	"experimental-watch-progress-notify-interval": {"1m30s", "1m30s"},
	"election-timeout":                            {"600", "600"},
	"listen-peer-urls":                            {"https://b:2380, http://a:2380", "http://a:2380,https://b:2380"},
	"listen-client-urls":                          {"unix://sock:0,http://10.0.0.1:2379", "http://10.0.0.1:2379,unix://sock:0"},
	"quota-backend-bytes":                         {"8589934592", "8589934592"},
	"max-txn-ops":                                 {"1024", "1024"},
	"max-request-bytes":                           {"0x100000", "1048576"},
	"initial-advertise-peer-urls":                 {"http://m1:2380", "http://m1:2380"},
	"initial-cluster":                             {"m2=http://m2:2380,m1=http://m1:2380", "m1=http://m1:2380,m2=http://m2:2380"},
	"initial-cluster-state":                       {"existing", "existing"},
	"initial-cluster-token":                       {"tok-1", "tok-1"},
	"advertise-client-urls":                       {"http://m1:2379,http://m1:22379", "http://m1:22379,http://m1:2379"},
	"logger":                                      {"other", "other"},
	"log-outputs":                                 {"stdout,/tmp/x.log,stdout", "/tmp/x.log,stdout"},
	"log-level":                                   {"debug", "debug"},
	"log-format":                                  {"console", "console"},
	"cert-file":                                   {"/etc/etcd/server.crt", "/etc/etcd/server.crt"},
	"key-file":                                    {"/etc/etcd/server.key", "/etc/etcd/server.key"},
	"client-cert-auth":                            {"true", "true"},
	"client-cert-file":                            {"/etc/etcd/client.crt", "/etc/etcd/client.crt"},
	"client-key-file":                             {"/etc/etcd/client.key", "/etc/etcd/client.key"},
	"client-crl-file":                             {"/etc/etcd/client.crl", "/etc/etcd/client.crl"},
	"client-cert-allowed-hostname":                {"b.example,a.example", "b.example,a.example"},
	"trusted-ca-file":                             {"/etc/etcd/ca.crt", "/etc/etcd/ca.crt"},
	"auto-tls":                                    {"true", "true"},
	"peer-cert-file":                              {"/etc/etcd/peer.crt", "/etc/etcd/peer.crt"},
	"peer-key-file":                               {"/etc/etcd/peer.key", "/etc/etcd/peer.key"},
	"peer-client-cert-auth":                       {"true", "true"},
	"peer-client-cert-file":                       {"/etc/etcd/pc.crt", "/etc/etcd/pc.crt"},
	"peer-client-key-file":                        {"/etc/etcd/pc.key", "/etc/etcd/pc.key"},
	"peer-trusted-ca-file":                        {"/etc/etcd/peer-ca.crt", "/etc/etcd/peer-ca.crt"},
	"peer-cert-allowed-cn":                        {"m2,m1", "m2,m1"},
	"peer-cert-allowed-hostname":                  {"m1.example", "m1.example"},
	"peer-auto-tls":                               {"true", "true"},
	"self-signed-cert-validity":                   {"10", "10"},
	"peer-crl-file":                               {"/etc/etcd/peer.crl", "/etc/etcd/peer.crl"},
	"peer-skip-client-san-verification":           {"true", "true"},
	"cipher-suites":                               {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
	"tls-min-version":                             {"TLS1.3", "TLS1.3"},
	"tls-max-version":                             {"TLS1.3", "TLS1.3"},

	"wal-dir":                              {"/var/lib/cairn/wal", "/var/lib/cairn/wal"},
	"initial-election-tick-advance":        {"false", "false"},
	"listen-client-http-urls":              {"http://127.0.0.1:2382,http://10.0.0.1:2382", "http://10.0.0.1:2382,http://127.0.0.1:2382"},
	"max-snapshots":                        {"0", "0"},
	"max-wals":                             {"10", "10"},
	"memory-mlock":                         {"true", "true"},
	"backend-bbolt-freelist-type":          {"array", "array"},
	"backend-batch-interval":               {"10ms", "10ms"},
	"backend-batch-limit":                  {"100", "100"},
	"max-concurrent-streams":               {"0x100", "256"},
	"grpc-keepalive-min-time":              {"1s", "1s"},
	"grpc-keepalive-interval":              {"1h", "1h0m0s"},
	"grpc-keepalive-timeout":               {"0", "0s"},
	"socket-reuse-port":                    {"true", "true"},
	"socket-reuse-address":                 {"true", "true"},
	"enable-grpc-gateway":                  {"false", "false"},
	"raft-read-timeout":                    {"7s", "7s"},
	"raft-write-timeout":                   {"8s", "8s"},
	"feature-gates":                        {"StopGRPCServiceOnDefrag=true, InitialCorruptCheck=true", "InitialCorruptCheck=true,StopGRPCServiceOnDefrag=true"},
	"discovery":                            {"https://discovery.etcd.io/x", "https://discovery.etcd.io/x"},
	"discovery-token":                      {"tok", "tok"},
	"discovery-endpoints":                  {"10.0.0.9:2379,10.0.0.8:2379", "10.0.0.9:2379,10.0.0.8:2379"},
	"discovery-dial-timeout":               {"3s", "3s"},
	"discovery-request-timeout":            {"3s", "3s"},
	"discovery-keepalive-time":             {"3s", "3s"},
	"discovery-keepalive-timeout":          {"3s", "3s"},
	"discovery-insecure-transport":         {"false", "false"},
	"discovery-insecure-skip-tls-verify":   {"true", "true"},
	"discovery-cert":                       {"/d.crt", "/d.crt"},
	"discovery-key":                        {"/d.key", "/d.key"},
	"discovery-cacert":                     {"/d-ca.crt", "/d-ca.crt"},
	"discovery-user":                       {"u", "u"},
	"discovery-password":                   {"p", "p"},
	"discovery-fallback":                   {"proxy", "proxy"},
	"discovery-proxy":                      {"http://proxy:3128", "http://proxy:3128"},
	"discovery-srv":                        {"example.com", "example.com"},
	"discovery-srv-name":                   {"c1", "c1"},
	"pre-vote":                             {"false", "false"},
	"v2-deprecation":                       {"write-only-drop-data,gone", "write-only"}, // enforced, as in etcd
	"cors":                                 {"http://b.example:80, http://a.example:80,http://b.example:80", "http://a.example:80,http://b.example:80"},
	"host-whitelist":                       {"b.example,a.example,,b.example", "a.example,b.example"},
	"enable-log-rotation":                  {"true", "true"},
	"log-rotation-config-json":             {"none", "none"},
	"warning-unary-request-duration":       {"1s", "1s"},
	"enable-distributed-tracing":           {"true", "true"},
	"distributed-tracing-address":          {"collector:4317", "collector:4317"},
	"distributed-tracing-service-name":     {"kv", "kv"},
	"distributed-tracing-instance-id":      {"m1", "m1"},
	"distributed-tracing-sampling-rate":    {"100", "100"},
	"corrupt-check-time":                   {"5m", "5m0s"},
	"compact-hash-check-time":              {"2m", "2m0s"},
	"compaction-batch-limit":               {"500", "500"},
	"compaction-sleep-interval":            {"20ms", "20ms"},
	"warning-apply-duration":               {"200ms", "200ms"},
	"bootstrap-defrag-threshold-megabytes": {"64", "64"},
	"max-learners":                         {"3", "3"},
	"downgrade-check-time":                 {"10s", "10s"},
	"snapshot-catchup-entries":             {"100", "100"},
	"force-new-cluster":                    {"true", "true"},
	"unsafe-no-fsync":                      {"true", "true"},

	"experimental-enable-distributed-tracing":           {"true", "true"},
	"experimental-distributed-tracing-address":          {"collector:4317", "collector:4317"},
	"experimental-distributed-tracing-service-name":     {"kv", "kv"},
	"experimental-distributed-tracing-instance-id":      {"m1", "m1"},
	"experimental-distributed-tracing-sampling-rate":    {"100", "100"},
	"experimental-initial-corrupt-check":                {"true", "true"},
	"experimental-corrupt-check-time":                   {"5m", "5m0s"},
	"experimental-compact-hash-check-enabled":           {"true", "true"},
	"experimental-compact-hash-check-time":              {"2m", "2m0s"},
	"experimental-enable-lease-checkpoint":              {"true", "true"},
	"experimental-enable-lease-checkpoint-persist":      {"false", "false"},
	"experimental-compaction-batch-limit":               {"500", "500"},
	"experimental-compaction-sleep-interval":            {"20ms", "20ms"},
	"experimental-peer-skip-client-san-verification":    {"true", "true"},
	"experimental-warning-apply-duration":               {"200ms", "200ms"},
	"experimental-warning-unary-request-duration":       {"1s", "1s"},
	"experimental-txn-mode-write-with-shared-buffer":    {"false", "false"},
	"experimental-bootstrap-defrag-threshold-megabytes": {"64", "64"},
	"experimental-max-learners":                         {"3", "3"},
	"experimental-downgrade-check-time":                 {"10s", "10s"},
	"experimental-memory-mlock":                         {"true", "true"},
	"experimental-stop-grpc-service-on-defrag":          {"true", "true"},
}

// TestFlagForms sets every flag in each of its forms — --flag=v, -flag v,
// ETCD_FLAG=v and a config file key — and checks the field it fills.
func TestFlagForms(t *testing.T) {
	for _, f := range flagTable {
		if f.cmdOnly || f.ignored {
			continue
		}
		s, ok := flagSamples[f.name]
		if !ok {
			t.Errorf("flag --%s has no sample in flagSamples", f.name)
			continue
		}
		forms := []struct {
			form string
			args []string
			env  []string
		}{
			{"double dash with =", []string{"--" + f.name + "=" + s.in}, nil},
			{"single dash, separate value", []string{"-" + f.name, s.in}, nil},
			{"environment", nil, []string{envName(f.name) + "=" + s.in}},
			{"config file", []string{"--config-file", writeFile(t, f.name+": "+s.in+"\n")}, nil},
		}
		for _, form := range forms {
			if _, isBool := f.bind(&Config{}).(boolFlag); isBool && form.form == "single dash, separate value" {
				continue // a boolean flag takes no separate value
			}
			t.Run(f.name+"/"+form.form, func(t *testing.T) {
				c := mustLoad(t, form.args, form.env)
				if got := f.bind(c).String(); got != s.want {
					t.Errorf("--%s = %q, want %q", f.name, got, s.want)
				}
			})
		}
	}
}

// TestLoadValues checks the typed fields behind the trickier flags.
func TestLoadValues(t *testing.T) {
	c := mustLoad(t, []string{
		"--name", "m1",
		"--heartbeat-interval", "50",
		"--election-timeout=600",
		"--listen-client-urls", "http://b:1, http://a:1",
		"--advertise-client-urls", "http://a:1",
		"--initial-advertise-peer-urls", "http://m1:2380,http://m1b:2380",
		"--initial-cluster", "m2=http://m2:2380,m1=http://m1b:2380,,m1=http://m1:2380",
		"--quota-backend-bytes", "-1",
		"--log-outputs", "stdout,stderr,stdout",
	}, nil)
	if c.HeartbeatInterval != 50*time.Millisecond || c.ElectionTimeout != 600*time.Millisecond {
		t.Errorf("timeouts = %v, %v; want 50ms, 600ms", c.HeartbeatInterval, c.ElectionTimeout)
	}
	if want := mustURLs(t, "http://a:1", "http://b:1"); !reflect.DeepEqual(c.ListenClientURLs, want) {
		t.Errorf("ListenClientURLs = %v, want %v", c.ListenClientURLs, want)
	}
	wantIC := map[string][]url.URL{
		"m1": mustURLs(t, "http://m1:2380", "http://m1b:2380"),
		"m2": mustURLs(t, "http://m2:2380"),
	}
	if !reflect.DeepEqual(c.InitialCluster, wantIC) {
		t.Errorf("InitialCluster = %v, want %v", c.InitialCluster, wantIC)
	}
	if c.QuotaBackendBytes != -1 {
		t.Errorf("QuotaBackendBytes = %d, want -1", c.QuotaBackendBytes)
	}
	if want := []string{"stderr", "stdout"}; !slices.Equal(c.LogOutputs, want) {
		t.Errorf("LogOutputs = %q, want %q", c.LogOutputs, want)
	}
	if c.DataDir != "m1.etcd" {
		t.Errorf("DataDir = %q, want m1.etcd", c.DataDir)
	}
}

func TestLoadCommandFlags(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		env         []string
		wantVersion bool
		wantHelp    bool
	}{
		{"version", []string{"--version"}, nil, true, false},
		{"version single dash", []string{"-version"}, nil, true, false},
		{"version=true", []string{"--version=true"}, nil, true, false},
		{"version=false", []string{"--version=false"}, nil, false, false},
		{"help", []string{"--help"}, nil, false, true},
		{"h", []string{"-h"}, nil, false, true},
		// --version wins over a config file that cannot be read, as in
		// etcd, which prints the version before reading the file.
		{"version before config file", []string{"--config-file", "/nonexistent/x.yml", "--version"}, nil, true, false},
		// ETCD_VERSION is not the --version flag (images set it to a
		// version string); it is refused with a warning.
		{"ETCD_VERSION ignored", nil, []string{"ETCD_VERSION=3.5.0"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.args, tt.env)
			if c.ShowVersion != tt.wantVersion || c.ShowHelp != tt.wantHelp {
				t.Errorf("ShowVersion, ShowHelp = %v, %v; want %v, %v", c.ShowVersion, c.ShowHelp, tt.wantVersion, tt.wantHelp)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		// file, if set, is written and passed as --config-file.
		file string
		// want is the whole error message; {file} stands for the
		// config file's path.
		want      string
		wantUsage bool
	}{
		{name: "unknown flag", args: []string{"--bogus"},
			want: "flag provided but not defined: -bogus", wantUsage: true},
		{name: "unknown flag with its value", args: []string{"--bogus-file", "/x.pem", "--name", "n"},
			want: "flag provided but not defined: -bogus-file", wantUsage: true},
		{name: "unknown flag with =", args: []string{"-bogus=1"},
			want: "flag provided but not defined: -bogus", wantUsage: true},
		{name: "missing argument", args: []string{"--name"},
			want: "flag needs an argument: -name", wantUsage: true},
		{name: "bad syntax", args: []string{"---name=x"},
			want: "bad flag syntax: ---name=x", wantUsage: true},
		{name: "bad syntax =", args: []string{"--=x"},
			want: "bad flag syntax: --=x", wantUsage: true},
		{name: "positional argument", args: []string{"--name", "n", "foo"},
			want: `"foo" is not a valid flag`},
		{name: "argument after --", args: []string{"--", "foo"},
			want: `"foo" is not a valid flag`},
		{name: "URL without scheme", args: []string{"--listen-client-urls", "localhost:2379"},
			want:      `invalid value "localhost:2379" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: localhost:2379`,
			wantUsage: true},
		{name: "URL without port", args: []string{"--listen-peer-urls", "http://localhost"},
			want:      `invalid value "http://localhost" for flag -listen-peer-urls: URL address does not have the form "host:port": http://localhost`,
			wantUsage: true},
		{name: "URL with path", args: []string{"--advertise-client-urls", "http://localhost:2379/v3"},
			want:      `invalid value "http://localhost:2379/v3" for flag -advertise-client-urls: URL must not contain a path: http://localhost:2379/v3`,
			wantUsage: true},
		{name: "unparsable URL", args: []string{"--initial-advertise-peer-urls", "http://[::1"},
			want:      `invalid value "http://[::1" for flag -initial-advertise-peer-urls: parse "http://[::1": missing ']' in host`,
			wantUsage: true},
		{name: "URL list with trailing comma", args: []string{"--listen-client-urls", "http://localhost:2379,"},
			want:      `invalid value "http://localhost:2379," for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: `,
			wantUsage: true},
		{name: "initial cluster entry without =", args: []string{"--initial-cluster", "m1"},
			want:      `invalid value "m1" for flag -initial-cluster: "m1" is not of the form name=url`,
			wantUsage: true},
		{name: "initial cluster bad URL", args: []string{"--initial-cluster", "m1=foo"},
			want:      `invalid value "m1=foo" for flag -initial-cluster: URL scheme must be http, https, unix, or unixs: foo`,
			wantUsage: true},
		{name: "initial cluster control character", args: []string{"--initial-cluster", "m\x1b=http://a:1"},
			want:      `invalid value "m\x1b=http://a:1" for flag -initial-cluster: member name "m\x1b" must not contain a control character, ',' or '='`,
			wantUsage: true},
		{name: "bad cluster state", args: []string{"--initial-cluster-state", "bogus"},
			want:      `invalid value "bogus" for flag -initial-cluster-state: valid values are new, existing`,
			wantUsage: true},
		{name: "not a number", args: []string{"--snapshot-count", "abc"},
			want: `invalid value "abc" for flag -snapshot-count: parse error`, wantUsage: true},
		{name: "negative unsigned", args: []string{"--max-txn-ops", "-1"},
			want: `invalid value "-1" for flag -max-txn-ops: parse error`, wantUsage: true},
		{name: "milliseconds with unit", args: []string{"--heartbeat-interval", "100ms"},
			want: `invalid value "100ms" for flag -heartbeat-interval: parse error`, wantUsage: true},
		{name: "milliseconds overflow", args: []string{"--election-timeout", "99999999999999999"},
			want: `invalid value "99999999999999999" for flag -election-timeout: value out of range`, wantUsage: true},
		{name: "out of range", args: []string{"--quota-backend-bytes", "99999999999999999999"},
			want: `invalid value "99999999999999999999" for flag -quota-backend-bytes: value out of range`, wantUsage: true},
		{name: "bad boolean", args: []string{"--version=maybe"},
			want: `invalid boolean value "maybe" for -version: parse error`, wantUsage: true},
		// etcd 3.6's later flags; messages recorded from etcd 3.6.16.
		{name: "stream limit negative", args: []string{"--max-concurrent-streams=-1"},
			want: `invalid value "-1" for flag -max-concurrent-streams: strconv.ParseUint: parsing "-1": invalid syntax`, wantUsage: true},
		{name: "stream limit too large", args: []string{"--max-concurrent-streams=4294967296"},
			want: `invalid value "4294967296" for flag -max-concurrent-streams: strconv.ParseUint: parsing "4294967296": value out of range`, wantUsage: true},
		{name: "CORS not a URL", args: []string{"--cors=foo"},
			want: `invalid value "foo" for flag -cors: URL scheme must be http, https, unix, or unixs: foo`, wantUsage: true},
		{name: "CORS origin without port", args: []string{"--cors=http://a.com,*"},
			want: `invalid value "http://a.com,*" for flag -cors: URL address does not have the form "host:port": http://a.com`, wantUsage: true},
		{name: "CORS star in a list", args: []string{"--cors=*,*"},
			want: `invalid value "*,*" for flag -cors: URL scheme must be http, https, unix, or unixs: *`, wantUsage: true},
		{name: "CORS empty", args: []string{"--cors="},
			want: `invalid value "" for flag -cors: URL scheme must be http, https, unix, or unixs: `, wantUsage: true},
		{name: "v2 deprecation stage", args: []string{"--v2-deprecation=not-yet"},
			want: `invalid value "not-yet" for flag -v2-deprecation: invalid value "not-yet"`, wantUsage: true},
		{name: "v2 deprecation empty", args: []string{"--v2-deprecation="},
			want: `invalid value "" for flag -v2-deprecation: invalid value ""`, wantUsage: true},
		{name: "v2 deprecation list", args: []string{"--v2-deprecation=write-only-skip-check,bogus"},
			want: `invalid value "write-only-skip-check,bogus" for flag -v2-deprecation: invalid value "bogus"`, wantUsage: true},
		{name: "discovery fallback", args: []string{"--discovery-fallback=bogus"},
			want: `invalid value "bogus" for flag -discovery-fallback: invalid value`, wantUsage: true},
		{name: "max learners", args: []string{"--max-learners=x"},
			want: `invalid value "x" for flag -max-learners: parse error`, wantUsage: true},
		{name: "client HTTP URL scheme", args: []string{"--listen-client-http-urls=ftp://127.0.0.1:1"},
			want: `invalid value "ftp://127.0.0.1:1" for flag -listen-client-http-urls: URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:1`, wantUsage: true},
		{name: "client HTTP URL without port", args: []string{"--listen-client-http-urls=http://127.0.0.1"},
			want: `invalid value "http://127.0.0.1" for flag -listen-client-http-urls: URL address does not have the form "host:port": http://127.0.0.1`, wantUsage: true},
		{name: "tick advance", args: []string{"--initial-election-tick-advance=maybe"},
			want: `invalid boolean value "maybe" for -initial-election-tick-advance: parse error`, wantUsage: true},
		{name: "batch interval", args: []string{"--backend-batch-interval=x"},
			want: `invalid value "x" for flag -backend-batch-interval: parse error`, wantUsage: true},
		{name: "max wals", args: []string{"--max-wals=-1"},
			want: `invalid value "-1" for flag -max-wals: parse error`, wantUsage: true},
		{name: "reuse port", args: []string{"--socket-reuse-port=x"},
			want: `invalid boolean value "x" for -socket-reuse-port: parse error`, wantUsage: true},
		{name: "experimental duration", args: []string{"--experimental-downgrade-check-time=x"},
			want: `invalid value "x" for flag -experimental-downgrade-check-time: parse error`, wantUsage: true},
		{name: "experimental boolean", args: []string{"--experimental-stop-grpc-service-on-defrag=x"},
			want: `invalid boolean value "x" for -experimental-stop-grpc-service-on-defrag: parse error`, wantUsage: true},
		{name: "experimental number", args: []string{"--experimental-distributed-tracing-sampling-rate=x"},
			want: `invalid value "x" for flag -experimental-distributed-tracing-sampling-rate: parse error`, wantUsage: true},
		{name: "experimental pair", args: []string{"--experimental-snapshot-catchup-entries=1", "--snapshot-catchup-entries=2"},
			want: `cannot set --experimental-snapshot-catchup-entries and --snapshot-catchup-entries at the same time, please use --snapshot-catchup-entries only`},
		{name: "experimental pair in a file",
			file: "experimental-corrupt-check-time: 60000000000\ncorrupt-check-time: 1000000000\n",
			want: `cannot set --experimental-corrupt-check-time and --corrupt-check-time at the same time, please use --corrupt-check-time only`},
		{name: "feature gate and experimental flag in a file",
			file: "feature-gates: InitialCorruptCheck=true\nexperimental-initial-corrupt-check: false\n",
			want: `cannot specify both flags: --experimental-initial-corrupt-check=false and --feature-gates=InitialCorruptCheck=true at the same time, please just use --feature-gates=InitialCorruptCheck=true`},
		{name: "experimental pair through env and flag",
			args: []string{"--watch-progress-notify-interval=5s"}, env: []string{"ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL=5s"},
			want: `cannot set --experimental-watch-progress-notify-interval and --watch-progress-notify-interval at the same time, please use --watch-progress-notify-interval only`},

		{name: "every problem at once",
			args: []string{"--bogus", "--snapshot-count", "x", "--listen-client-urls=foo"},
			want: "flag provided but not defined: -bogus\n" +
				`invalid value "x" for flag -snapshot-count: parse error` + "\n" +
				`invalid value "foo" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: foo`,
			wantUsage: true},

		{name: "env bad number", env: []string{"ETCD_SNAPSHOT_COUNT=abc"},
			want: `invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error`},
		{name: "env bad URL", env: []string{"ETCD_LISTEN_CLIENT_URLS=foo"},
			want: `invalid value "foo" for ETCD_LISTEN_CLIENT_URLS: URL scheme must be http, https, unix, or unixs: foo`},
		{name: "env bad state", env: []string{"ETCD_INITIAL_CLUSTER_STATE=old"},
			want: `invalid value "old" for ETCD_INITIAL_CLUSTER_STATE: valid values are new, existing`},
		{name: "env shadowed by flag", args: []string{"--name", "b"}, env: []string{"ETCD_NAME=a"},
			want: `conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`},
		{name: "env shadowed by flag with same value", args: []string{"--name=a"}, env: []string{"ETCD_NAME=a"},
			want: `conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`},
		{name: "empty env shadowed by flag", args: []string{"--name=a"}, env: []string{"ETCD_NAME="},
			want: `conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`},
		{name: "env problems together",
			args: []string{"--max-txn-ops", "5"},
			env:  []string{"ETCD_MAX_TXN_OPS=6", "ETCD_HEARTBEAT_INTERVAL=x"},
			want: `conflicting environment variable "ETCD_MAX_TXN_OPS" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)` + "\n" +
				`invalid value "x" for ETCD_HEARTBEAT_INTERVAL: parse error`},

		{name: "missing config file", args: []string{"--config-file", "/nonexistent/etcd.conf.yml"},
			want: "open /nonexistent/etcd.conf.yml: no such file or directory"},
		{name: "missing ETCD_CONFIG_FILE", env: []string{"ETCD_CONFIG_FILE=/nonexistent/etcd.conf.yml"},
			want: "open /nonexistent/etcd.conf.yml: no such file or directory"},
		{name: "malformed YAML", file: "name: [x\n",
			want: "{file}: yaml: line 1: did not find expected ',' or ']'"},
		{name: "file bad number", file: "name: m1\nsnapshot-count: abc\n",
			want: `{file}: line 2: invalid value "abc" for snapshot-count: parse error`},
		{name: "file duration string", file: "heartbeat-interval: 100ms\n",
			want: `{file}: line 1: invalid value "100ms" for heartbeat-interval: parse error`},
		{name: "file bad URL", file: "listen-client-urls: foo\n",
			want: `{file}: line 1: invalid value "foo" for listen-client-urls: URL scheme must be http, https, unix, or unixs: foo`},
		{name: "file bad URL in list", file: "listen-client-urls:\n  - http://a:1\n  - foo\n",
			want: `{file}: line 2: invalid value "http://a:1,foo" for listen-client-urls: URL scheme must be http, https, unix, or unixs: foo`},
		{name: "file list for scalar", file: "name: [a, b]\n",
			want: `{file}: line 1: invalid value for name: expected a single value, not a list`},
		{name: "file mapping for scalar", file: "name: {a: b}\n",
			want: `{file}: line 1: invalid value for name: expected a value, not a mapping`},
		{name: "file nested list", file: "log-outputs: [[a]]\n",
			want: `{file}: line 1: invalid value for log-outputs: list items must be plain values`},
		{name: "file not a mapping", file: "- name\n",
			want: `{file}: line 1: the config file must map flag names to values`},
		{name: "file key not a scalar", file: "[a]: b\n",
			want: `{file}: line 1: a key must be a flag name`},
		{name: "file duplicate key", file: "name: a\nname: b\n",
			want: `{file}: line 2: key "name" appears more than once`},
		{name: "file every problem at once", file: "snapshot-count: x\nmax-txn-ops: -2\n",
			want: `{file}: line 1: invalid value "x" for snapshot-count: parse error` + "\n" +
				`{file}: line 2: invalid value "-2" for max-txn-ops: parse error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			want := tt.want
			if tt.file != "" {
				p := writeFile(t, tt.file)
				args = append([]string{"--config-file", p}, args...)
				want = strings.ReplaceAll(want, "{file}", p)
			}
			c, err := Load(args, tt.env)
			if err == nil {
				t.Fatalf("Load(%q, %q) succeeded, want error %q", args, tt.env, want)
			}
			if c != nil {
				t.Errorf("Load returned a Config with its error")
			}
			if got := err.Error(); got != want {
				t.Errorf("error =\n%s\nwant\n%s", got, want)
			}
			var ue *UsageError
			if got := errors.As(err, &ue); got != tt.wantUsage {
				t.Errorf("errors.As(err, *UsageError) = %v, want %v", got, tt.wantUsage)
			}
		})
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, "name: from-file\nmax-txn-ops: 7\n")
	tests := []struct {
		name string
		args []string
		env  []string
		// want maps flag names to the canonical value expected.
		want map[string]string
	}{
		{"flag and env on different flags",
			[]string{"--name", "from-flag"}, []string{"ETCD_SNAPSHOT_COUNT=77"},
			map[string]string{"name": "from-flag", "snapshot-count": "77"}},
		{"env alone",
			nil, []string{"ETCD_NAME=from-env", "ETCD_INITIAL_CLUSTER_STATE=existing"},
			map[string]string{"name": "from-env", "initial-cluster-state": "existing"}},
		{"first of duplicated env keys",
			nil, []string{"ETCD_NAME=first", "ETCD_NAME=second"},
			map[string]string{"name": "first"}},
		{"non-ETCD variables ignored",
			nil, []string{"NAME=x", "ETCDCTL_API=3", "PATH=/bin"},
			map[string]string{"name": "default"}},
		{"config file ignores flags and env",
			[]string{"--config-file", file, "--snapshot-count", "5"},
			[]string{"ETCD_MAX_TXN_OPS=9", "ETCD_LOG_LEVEL=debug"},
			map[string]string{"name": "from-file", "max-txn-ops": "7", "snapshot-count": "10000", "log-level": "info"}},
		{"config file ignores bad and conflicting env",
			[]string{"--config-file", file, "--name", "x"},
			[]string{"ETCD_NAME=y", "ETCD_SNAPSHOT_COUNT=abc"},
			map[string]string{"name": "from-file", "snapshot-count": "10000"}},
		{"ETCD_CONFIG_FILE",
			[]string{"--snapshot-count", "5"}, []string{"ETCD_CONFIG_FILE=" + file},
			map[string]string{"name": "from-file", "snapshot-count": "10000"}},
		{"--config-file wins over ETCD_CONFIG_FILE",
			[]string{"--config-file", file}, []string{"ETCD_CONFIG_FILE=/nonexistent.yml"},
			map[string]string{"name": "from-file"}},
		{"last of repeated flags",
			[]string{"--name", "a", "--name=b"}, nil,
			map[string]string{"name": "b"}},
		{"empty URL list",
			[]string{"--listen-client-urls", ""}, nil,
			map[string]string{"listen-client-urls": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.args, tt.env)
			for name, want := range tt.want {
				if got := lookupFlag(name).bind(c).String(); got != want {
					t.Errorf("--%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestLoadConfigFileTypes(t *testing.T) {
	p := writeFile(t, `name: 'm1'
data-dir:
snapshot-count: 5000
heartbeat-interval: 50
election-timeout: "600"
listen-client-urls: http://b:2379,http://a:2379
advertise-client-urls: [http://a:2379]
initial-advertise-peer-urls: &peer http://m1:2380
listen-peer-urls: *peer
initial-cluster:
  - m1=http://m1:2380
  - m2=http://m2:2380
log-outputs: [stdout, "/var/log/etcd,1.log"]
no-such-flag: 1
`)
	c := mustLoad(t, []string{"--config-file", p}, nil)
	want := map[string]string{
		"name":                        "m1",
		"data-dir":                    "m1.etcd", // null keeps the default, which is derived
		"snapshot-count":              "5000",
		"heartbeat-interval":          "50",
		"election-timeout":            "600",
		"listen-client-urls":          "http://a:2379,http://b:2379",
		"advertise-client-urls":       "http://a:2379",
		"initial-advertise-peer-urls": "http://m1:2380",
		"listen-peer-urls":            "http://m1:2380",
		"initial-cluster":             "m1=http://m1:2380,m2=http://m2:2380",
	}
	for name, w := range want {
		if got := lookupFlag(name).bind(c).String(); got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
	if want := []string{"/var/log/etcd,1.log", "stdout"}; !slices.Equal(c.LogOutputs, want) {
		t.Errorf("LogOutputs = %q, want %q", c.LogOutputs, want)
	}
	if c.ConfigFile != p {
		t.Errorf("ConfigFile = %q, want %q", c.ConfigFile, p)
	}
	if !slices.Contains(warningMsgs(c), "unrecognized config file key") {
		t.Errorf("no warning for the unknown key; warnings: %q", warningMsgs(c))
	}
}

func TestLoadEmptyConfigFile(t *testing.T) {
	for _, content := range []string{"", "\n# nothing\n", "---\n", "~\n"} {
		c := mustLoad(t, []string{"--config-file", writeFile(t, content)}, nil)
		c.Warnings, c.explicit, c.given, c.ConfigFile = nil, nil, nil, ""
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("config file %q: got %+v, want the defaults", content, c)
		}
	}
}

func TestLoadWarnings(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"defaults", nil, nil, []string{
			"'data-dir' was empty; using default",
			"member uses the default name; give each member its own --name"}},
		{"named member with data dir", []string{"--name", "m1", "--data-dir", "/d"}, nil, nil},
		{"unknown ETCD variable", []string{"--name", "m1", "--data-dir", "/d"}, []string{"ETCD_BOGUS=1"},
			[]string{"unrecognized environment variable"}},
		{"ETCD_HELP is unknown", []string{"--name", "m1", "--data-dir", "/d"}, []string{"ETCD_HELP=true"},
			[]string{"unrecognized environment variable"}},
		{"ETCD_VERSION is refused", []string{"--name", "m1", "--data-dir", "/d"}, []string{"ETCD_VERSION=3.5.0"},
			[]string{"cannot set special environment variable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.args, tt.env)
			if got := warningMsgs(c); !slices.Equal(got, tt.want) {
				t.Errorf("warnings = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLoadDerived covers the values etcd derives: the data dir from the
// name, and a one-member initial cluster for a member not named "default".
func TestLoadDerived(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		file        string
		wantDataDir string
		wantIC      string
	}{
		{name: "defaults", wantDataDir: "default.etcd", wantIC: "default=http://localhost:2380"},
		{name: "named member", args: []string{"--name", "m1"},
			wantDataDir: "m1.etcd", wantIC: "m1=http://localhost:2380"},
		{name: "named member with peer URLs",
			args:        []string{"--name", "m1", "--initial-advertise-peer-urls", "http://localhost:12380,http://127.0.0.1:12380"},
			wantDataDir: "m1.etcd", wantIC: "m1=http://127.0.0.1:12380,m1=http://localhost:12380"},
		{name: "explicit default cluster is still replaced",
			args:        []string{"--name", "m1", "--initial-cluster", "default=http://localhost:2380"},
			wantDataDir: "m1.etcd", wantIC: "m1=http://localhost:2380"},
		{name: "other cluster kept", args: []string{"--name", "m1", "--initial-cluster", "m2=http://m2:2380"},
			wantDataDir: "m1.etcd", wantIC: "m2=http://m2:2380"},
		{name: "default name keeps default cluster",
			args:        []string{"--initial-advertise-peer-urls", "http://localhost:12380"},
			wantDataDir: "default.etcd", wantIC: "default=http://localhost:2380"},
		{name: "explicit empty data dir", args: []string{"--name", "m1", "--data-dir", ""},
			wantDataDir: "m1.etcd", wantIC: "m1=http://localhost:2380"},
		{name: "explicit data dir", args: []string{"--data-dir", "/var/lib/etcd"},
			wantDataDir: "/var/lib/etcd", wantIC: "default=http://localhost:2380"},
		{name: "config file", file: "name: m1\ninitial-advertise-peer-urls: http://m1:2380\n",
			wantDataDir: "m1.etcd", wantIC: "m1=http://m1:2380"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config-file", writeFile(t, tt.file))
			}
			c := mustLoad(t, args, nil)
			if c.DataDir != tt.wantDataDir {
				t.Errorf("DataDir = %q, want %q", c.DataDir, tt.wantDataDir)
			}
			if got := FormatInitialCluster(c.InitialCluster); got != tt.wantIC {
				t.Errorf("InitialCluster = %q, want %q", got, tt.wantIC)
			}
		})
	}
}
