package config

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestConfigFileEtcdKeys loads a file written for etcd 3.6, with the keys
// and value types etcd's own config files use (durations in nanoseconds,
// nested socket-options and discovery-config mappings).
func TestConfigFileEtcdKeys(t *testing.T) {
	p := writeFile(t, `name: m1
data-dir: /var/lib/etcd
wal-dir: /var/lib/etcd-wal
initial-election-tick-advance: false
pre-vote: false
listen-client-http-urls: http://127.0.0.1:2382
max-concurrent-streams: 100
grpc-keepalive-min-time: 1000000000
grpc-keepalive-interval: 3600000000000
grpc-keepalive-timeout: 0
enable-grpc-gateway: false
socket-options:
  reuse-port: true
  reuse-address: true
cors: http://a.example:80,http://b.example:80
host-whitelist: a.example,b.example
feature-gates: InitialCorruptCheck=true,CompactHashCheck=true
experimental-watch-progress-notify-interval: 5000000000
experimental-snapshot-catch-up-entries: 100
experimental-enable-lease-checkpoint: true
experimental-enable-lease-checkpoint-persist: true
corrupt-check-time: 300000000000
compact-hash-check-time: 120000000000
compaction-batch-limit: 500
warning-apply-duration: 200000000
warning-unary-request-duration: 1000000000
max-learners: 2
unsafe-no-fsync: true
force-new-cluster: true
discovery-config:
  token: ""
  client:
    endpoints: []
    dial-timeout: 2000000000
    secure:
      insecure-transport: true
    auth:
      username: ""
`)
	c := mustLoad(t, []string{"--config-file", p}, nil)
	checks := []struct {
		name      string
		got, want any
	}{
		{"WALDir", c.WALDir, "/var/lib/etcd-wal"},
		{"InitialElectionTickAdvance", c.InitialElectionTickAdvance, false},
		{"PreVote", c.PreVote, false},
		{"ListenClientHTTPURLs", FormatURLs(c.ListenClientHTTPURLs), "http://127.0.0.1:2382"},
		{"MaxConcurrentStreams", c.MaxConcurrentStreams, uint32(100)},
		{"GRPCKeepAliveMinTime", c.GRPCKeepAliveMinTime, time.Second},
		{"GRPCKeepAliveInterval", c.GRPCKeepAliveInterval, time.Hour},
		{"GRPCKeepAliveTimeout", c.GRPCKeepAliveTimeout, time.Duration(0)},
		{"EnableGRPCGateway", c.EnableGRPCGateway, false},
		{"SocketReusePort", c.SocketReusePort, true},
		{"SocketReuseAddress", c.SocketReuseAddress, true},
		{"CORS", strings.Join(c.CORS, ","), "http://a.example:80,http://b.example:80"},
		{"HostWhitelist", strings.Join(c.HostWhitelist, ","), "a.example,b.example"},
		{"InitialCorruptCheck", c.InitialCorruptCheck, true},
		{"CompactHashCheck", c.CompactHashCheck, true},
		{"LeaseCheckpoint", c.LeaseCheckpoint, true},
		{"LeaseCheckpointPersist", c.LeaseCheckpointPersist, true},
		{"ProgressNotifyInterval", c.ProgressNotifyInterval(), 5 * time.Second},
		{"SnapshotCatchUpEntries", c.SnapshotCatchUpEntries, uint64(100)},
		{"CorruptCheckTime", c.CorruptCheckTime, 5 * time.Minute},
		{"CompactHashCheckTime", c.CompactHashCheckTime, 2 * time.Minute},
		{"CompactionBatchLimit", c.CompactionBatchLimit, 500},
		{"WarningApplyDuration", c.WarningApplyDuration, 200 * time.Millisecond},
		{"WarningUnaryRequestDuration", c.WarningUnaryRequestDuration, time.Second},
		{"MaxLearners", c.MaxLearners, 2},
		{"UnsafeNoFsync", c.UnsafeNoFsync, true},
		{"ForceNewCluster", c.ForceNewCluster, true},
		{"DiscoveryEndpoints", len(c.DiscoveryEndpoints), 0},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if slices.Contains(warningMsgs(c), "unrecognized config file key") {
		t.Errorf("warnings: %v", c.Warnings)
	}
	for _, want := range []string{
		"--experimental-watch-progress-notify-interval is deprecated in v3.6 and will be decommissioned in v3.7. Use '--watch-progress-notify-interval' instead.",
		"--experimental-snapshot-catchup-entries is deprecated in v3.6 and will be decommissioned in v3.7. Use '--snapshot-catchup-entries' instead.",
	} {
		if !slices.Contains(warningMsgs(c), want) {
			t.Errorf("warnings %q lack %q", warningMsgs(c), want)
		}
	}
}

// TestConfigFileDiscovery checks that a discovery source given in etcd's
// discovery-config mapping is refused like the flag.
func TestConfigFileDiscovery(t *testing.T) {
	p := writeFile(t, "discovery-config:\n  token: t1\n  client:\n    endpoints: [http://10.0.0.9:2379]\n")
	c := mustLoad(t, []string{"--config-file", p}, nil)
	if c.DiscoveryToken != "t1" || !slices.Equal(c.DiscoveryEndpoints, []string{"http://10.0.0.9:2379"}) {
		t.Errorf("token %q, endpoints %q", c.DiscoveryToken, c.DiscoveryEndpoints)
	}
	c.DataDir = t.TempDir()
	err := c.Validate()
	want := "discovery is not supported: Cairn bootstraps a cluster from --initial-cluster only; remove --discovery-token, --discovery-endpoints"
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %q", err, want)
	}
}

func TestConfigFileSections(t *testing.T) {
	c := mustLoad(t, []string{"--config-file", writeFile(t, "socket-options:\n  reuse-port: true\n  bogus: 1\ndiscovery-config:\n  client:\n    secure:\n      bogus: 1\n")}, nil)
	var keys []string
	for _, w := range c.Warnings {
		if w.Msg == "unrecognized config file key" {
			keys = append(keys, w.Attrs[0].Value.String())
		}
	}
	if want := []string{"socket-options.bogus", "discovery-config.client.secure.bogus"}; !slices.Equal(keys, want) {
		t.Errorf("unrecognized keys %q, want %q", keys, want)
	}
	for file, want := range map[string]string{
		"socket-options: 5\n":                                             `line 1: socket-options must map settings to values`,
		"discovery-config:\n  client: [a]\n":                              `line 2: discovery-config.client must map settings to values`,
		"socket-options:\n  reuse-port: maybe\n":                          `line 2: invalid value "maybe" for socket-options.reuse-port: parse error`,
		"reuse-port: true\n":                                              "",
		"socket-reuse-port: true\nsocket-options:\n  reuse-port: false\n": `line 3: key "socket-options.reuse-port" sets socket-reuse-port, which line 1 already set`,
	} {
		p := writeFile(t, file)
		c, err := Load([]string{"--config-file", p}, nil)
		if want == "" {
			if err != nil || !slices.Contains(warningMsgs(c), "unrecognized config file key") {
				t.Errorf("%q: error %v, warnings %q; want an unrecognized key", file, err, warningMsgs(c))
			}
			continue
		}
		if err == nil || err.Error() != p+": "+want {
			t.Errorf("%q: error = %v, want %q", file, err, want)
		}
	}
}

// TestMarshalYAMLEtcdKeys checks that a written config file uses etcd's
// nested keys, leaves the deprecated flags out and loads back.
func TestMarshalYAMLEtcdKeys(t *testing.T) {
	c := mustLoad(t, []string{"--socket-reuse-port", "--experimental-snapshot-catchup-entries=7",
		"--experimental-initial-corrupt-check", "--max-concurrent-streams=9"}, nil)
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	socket, _ := m["socket-options"].(map[string]any)
	if socket["reuse-port"] != true || socket["reuse-address"] != false {
		t.Errorf("socket-options = %v", m["socket-options"])
	}
	dc, _ := m["discovery-config"].(map[string]any)
	client, _ := dc["client"].(map[string]any)
	if _, ok := client["secure"].(map[string]any); !ok || dc["token"] != "" {
		t.Errorf("discovery-config = %v", m["discovery-config"])
	}
	for _, k := range []string{"experimental-snapshot-catchup-entries", "experimental-initial-corrupt-check", "socket-reuse-port", "v", "config"} {
		if _, ok := m[k]; ok {
			t.Errorf("written file has key %q", k)
		}
	}
	if m["snapshot-catchup-entries"] != 7 || m["feature-gates"] != "InitialCorruptCheck=true" || m["max-concurrent-streams"] != 9 {
		t.Errorf("snapshot-catchup-entries %v, feature-gates %v, max-concurrent-streams %v",
			m["snapshot-catchup-entries"], m["feature-gates"], m["max-concurrent-streams"])
	}
	back := mustLoad(t, []string{"--config-file", writeFile(t, string(out))}, nil)
	if back.SnapshotCatchUpEntries != 7 || !back.InitialCorruptCheck || !back.SocketReusePort || back.MaxConcurrentStreams != 9 {
		t.Errorf("reloaded: %d %v %v %d", back.SnapshotCatchUpEntries, back.InitialCorruptCheck, back.SocketReusePort, back.MaxConcurrentStreams)
	}
	for _, w := range warningMsgs(back) {
		if strings.Contains(w, "deprecated") {
			t.Errorf("reloading the written file warns %q", w)
		}
	}
	d, err := yaml.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	var dm map[string]any
	if err := yaml.Unmarshal(d, &dm); err != nil {
		t.Fatal(err)
	}
	if dm["max-concurrent-streams"] != math.MaxUint32 || dm["cors"] != "*" || dm["pre-vote"] != true {
		t.Errorf("defaults written as %v, %v, %v", dm["max-concurrent-streams"], dm["cors"], dm["pre-vote"])
	}
}
