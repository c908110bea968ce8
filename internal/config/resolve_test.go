package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// sources are the three ways of giving one flag, for tests that must hold
// for each: args and env for Load, built from a flag name and value.
var sources = []struct {
	name string
	load func(t *testing.T, kv ...string) (*Config, error)
}{
	{"command line", func(t *testing.T, kv ...string) (*Config, error) {
		var args []string
		for i := 0; i < len(kv); i += 2 {
			args = append(args, "--"+kv[i]+"="+kv[i+1])
		}
		return Load(args, nil)
	}},
	{"environment", func(t *testing.T, kv ...string) (*Config, error) {
		var env []string
		for i := 0; i < len(kv); i += 2 {
			env = append(env, envName(kv[i])+"="+kv[i+1])
		}
		return Load(nil, env)
	}},
	{"config file", func(t *testing.T, kv ...string) (*Config, error) {
		var b strings.Builder
		for i := 0; i < len(kv); i += 2 {
			b.WriteString(kv[i] + ": " + kv[i+1] + "\n")
		}
		return Load([]string{"--config-file", writeFile(t, b.String())}, nil)
	}},
}

// TestRenamedFlags checks every flag etcd 3.6 renamed, from every source:
// given alone it sets its successor and draws its deprecation warning;
// given with its successor it is refused with etcd's message.
func TestRenamedFlags(t *testing.T) {
	for _, f := range flagTable {
		if f.replacedBy == "" || f.name == "experimental-warning-unary-request-duration" {
			continue
		}
		s := flagSamples[f.name]
		for _, src := range sources {
			t.Run(f.name+"/"+src.name, func(t *testing.T) {
				c, err := src.load(t, f.name, s.in)
				if err != nil {
					t.Fatal(err)
				}
				if got := lookupFlag(f.replacedBy).bind(c).String(); got != s.want {
					t.Errorf("--%s = %q, want %q from --%s", f.replacedBy, got, s.want, f.name)
				}
				if !slices.Contains(warningMsgs(c), f.deprecation) {
					t.Errorf("warnings %q lack %q", warningMsgs(c), f.deprecation)
				}

				_, err = src.load(t, f.name, s.in, f.replacedBy, s.in)
				want := "cannot set --" + f.name + " and --" + f.replacedBy + " at the same time, please use --" + f.replacedBy + " only"
				if err == nil || err.Error() != want {
					t.Errorf("both given: error %v, want %q", err, want)
				}
				var ue *UsageError
				if errors.As(err, &ue) {
					t.Errorf("both given: a usage error (exit 2); etcd exits 1")
				}
			})
		}
	}
}

// TestRenamedFlagMessages pins the messages recorded from etcd 3.6.16 for
// each pair given together, and the deprecation warning of each
// experimental flag given alone.
func TestRenamedFlagMessages(t *testing.T) {
	for _, tt := range []struct{ args, want string }{
		{"--experimental-corrupt-check-time=1m --corrupt-check-time=1m",
			"cannot set --experimental-corrupt-check-time and --corrupt-check-time at the same time, please use --corrupt-check-time only"},
		{"--experimental-compact-hash-check-time=2m --compact-hash-check-time=2m",
			"cannot set --experimental-compact-hash-check-time and --compact-hash-check-time at the same time, please use --compact-hash-check-time only"},
		{"--experimental-compaction-batch-limit=5 --compaction-batch-limit=5",
			"cannot set --experimental-compaction-batch-limit and --compaction-batch-limit at the same time, please use --compaction-batch-limit only"},
		{"--experimental-watch-progress-notify-interval=5s --watch-progress-notify-interval=5s",
			"cannot set --experimental-watch-progress-notify-interval and --watch-progress-notify-interval at the same time, please use --watch-progress-notify-interval only"},
		{"--experimental-warning-apply-duration=1s --warning-apply-duration=1s",
			"cannot set --experimental-warning-apply-duration and --warning-apply-duration at the same time, please use --warning-apply-duration only"},
		{"--experimental-bootstrap-defrag-threshold-megabytes=5 --bootstrap-defrag-threshold-megabytes=5",
			"cannot set --experimental-bootstrap-defrag-threshold-megabytes and --bootstrap-defrag-threshold-megabytes at the same time, please use --bootstrap-defrag-threshold-megabytes only"},
		{"--experimental-warning-unary-request-duration=1s --warning-unary-request-duration=1s",
			"both --experimental-warning-unary-request-duration and --warning-unary-request-duration flags are set. Use only --warning-unary-request-duration"},
		{"--experimental-compaction-sleep-interval=1s --compaction-sleep-interval=1s",
			"cannot set --experimental-compaction-sleep-interval and --compaction-sleep-interval at the same time, please use --compaction-sleep-interval only"},
		{"--experimental-downgrade-check-time=1s --downgrade-check-time=1s",
			"cannot set --experimental-downgrade-check-time and --downgrade-check-time at the same time, please use --downgrade-check-time only"},
		{"--experimental-memory-mlock=true --memory-mlock=true",
			"cannot set --experimental-memory-mlock and --memory-mlock at the same time, please use --memory-mlock only"},
		{"--experimental-snapshot-catchup-entries=10 --snapshot-catchup-entries=10",
			"cannot set --experimental-snapshot-catchup-entries and --snapshot-catchup-entries at the same time, please use --snapshot-catchup-entries only"},
		{"--experimental-peer-skip-client-san-verification=true --peer-skip-client-san-verification=true",
			"cannot set --experimental-peer-skip-client-san-verification and --peer-skip-client-san-verification at the same time, please use --peer-skip-client-san-verification only"},
		{"--experimental-enable-distributed-tracing=false --enable-distributed-tracing=false",
			"cannot set --experimental-enable-distributed-tracing and --enable-distributed-tracing at the same time, please use --enable-distributed-tracing only"},
		{"--experimental-distributed-tracing-address=x:1 --distributed-tracing-address=x:1",
			"cannot set --experimental-distributed-tracing-address and --distributed-tracing-address at the same time, please use --distributed-tracing-address only"},
		{"--experimental-distributed-tracing-service-name=x --distributed-tracing-service-name=x",
			"cannot set --experimental-distributed-tracing-service-name and --distributed-tracing-service-name at the same time, please use --distributed-tracing-service-name only"},
		{"--experimental-distributed-tracing-instance-id=x --distributed-tracing-instance-id=x",
			"cannot set --experimental-distributed-tracing-instance-id and --distributed-tracing-instance-id at the same time, please use --distributed-tracing-instance-id only"},
		{"--experimental-distributed-tracing-sampling-rate=0 --distributed-tracing-sampling-rate=0",
			"cannot set --experimental-distributed-tracing-sampling-rate and --distributed-tracing-sampling-rate at the same time, please use --distributed-tracing-sampling-rate only"},
		{"--experimental-initial-corrupt-check=false --feature-gates=InitialCorruptCheck=true",
			"cannot specify both flags: --experimental-initial-corrupt-check=false and --feature-gates=InitialCorruptCheck=true at the same time, please just use --feature-gates=InitialCorruptCheck=true"},
		{"--feature-gates=InitialCorruptCheck=false --experimental-initial-corrupt-check=true",
			"cannot specify both flags: --experimental-initial-corrupt-check=true and --feature-gates=InitialCorruptCheck=false at the same time, please just use --feature-gates=InitialCorruptCheck=false"},
		{"--feature-gates=CompactHashCheck=false --experimental-compact-hash-check-enabled=true",
			"cannot specify both flags: --experimental-compact-hash-check-enabled=true and --feature-gates=CompactHashCheck=false at the same time, please just use --feature-gates=CompactHashCheck=false"},
		{"--feature-gates=LeaseCheckpoint=true --experimental-enable-lease-checkpoint=false",
			"cannot specify both flags: --experimental-enable-lease-checkpoint=false and --feature-gates=LeaseCheckpoint=true at the same time, please just use --feature-gates=LeaseCheckpoint=true"},
		{"--feature-gates=LeaseCheckpointPersist=true --experimental-enable-lease-checkpoint-persist=false",
			"cannot specify both flags: --experimental-enable-lease-checkpoint-persist=false and --feature-gates=LeaseCheckpointPersist=true at the same time, please just use --feature-gates=LeaseCheckpointPersist=true"},
		{"--feature-gates=TxnModeWriteWithSharedBuffer=true --experimental-txn-mode-write-with-shared-buffer=false",
			"cannot specify both flags: --experimental-txn-mode-write-with-shared-buffer=false and --feature-gates=TxnModeWriteWithSharedBuffer=true at the same time, please just use --feature-gates=TxnModeWriteWithSharedBuffer=true"},
		{"--feature-gates=StopGRPCServiceOnDefrag=true --experimental-stop-grpc-service-on-defrag=false",
			"cannot specify both flags: --experimental-stop-grpc-service-on-defrag=false and --feature-gates=StopGRPCServiceOnDefrag=true at the same time, please just use --feature-gates=StopGRPCServiceOnDefrag=true"},
		{"--experimental-max-learners=2 --max-learners=2",
			"cannot set --experimental-max-learners and --max-learners at the same time, please use --max-learners only"},
	} {
		t.Run(tt.args, func(t *testing.T) {
			_, err := Load(strings.Fields(tt.args), nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant %s", err, tt.want)
			}
		})
	}

	// The warnings etcd 3.6.16 logs for the experimental flags given
	// alone (those it has; Cairn words the others alike).
	c := mustLoad(t, strings.Fields("--experimental-corrupt-check-time=1m --experimental-compact-hash-check-time=2m "+
		"--experimental-compaction-batch-limit=5 --experimental-watch-progress-notify-interval=5s "+
		"--experimental-warning-apply-duration=1s --experimental-bootstrap-defrag-threshold-megabytes=5 "+
		"--experimental-warning-unary-request-duration=1s --experimental-compaction-sleep-interval=1s "+
		"--experimental-downgrade-check-time=1s --experimental-memory-mlock=false --experimental-snapshot-catchup-entries=10 "+
		"--experimental-enable-distributed-tracing=false --experimental-distributed-tracing-address=x:1 "+
		"--experimental-distributed-tracing-service-name=x --experimental-distributed-tracing-instance-id=x "+
		"--experimental-distributed-tracing-sampling-rate=0 --experimental-compact-hash-check-enabled=false "+
		"--experimental-txn-mode-write-with-shared-buffer=true --max-snapshots=5 --v2-deprecation=write-only"), nil)
	for _, want := range []string{
		"--experimental-warning-unary-request-duration is deprecated, and will be decommissioned in v3.7. Use --warning-unary-request-duration instead.",
		"--experimental-enable-distributed-tracing is deprecated in 3.6 and will be decommissioned in 3.7. Use --enable-distributed-tracing instead.",
		"--experimental-compact-hash-check-enabled is deprecated in 3.6 and will be decommissioned in 3.7. Use '--feature-gates=CompactHashCheck=true' instead.",
		"--experimental-compact-hash-check-time is deprecated in 3.6 and will be decommissioned in 3.7. Use '--compact-hash-check-time' instead.",
		"--experimental-compaction-sleep-interval is deprecated in v3.6 and will be decommissioned in v3.7. Use 'compaction-sleep-interval' instead.",
		"--experimental-distributed-tracing-instance-id is deprecated in 3.6 and will be decommissioned in 3.7. Use --distributed-tracing-instance-id instead.",
		"--experimental-warning-apply-duration is deprecated in v3.6 and will be decommissioned in v3.7. Use '--warning-apply-duration' instead.",
		"--experimental-bootstrap-defrag-threshold-megabytes is deprecated in v3.6 and will be decommissioned in v3.7. Use '--bootstrap-defrag-threshold-megabytes' instead.",
		"--experimental-corrupt-check-time is deprecated in v3.6 and will be decommissioned in v3.7. Use '--corrupt-check-time' instead.",
		"--experimental-distributed-tracing-service-name is deprecated in 3.6 and will be decommissioned in 3.7. Use --distributed-tracing-service-name instead.",
		"--experimental-downgrade-check-time is deprecated in v3.6 and will be decommissioned in v3.7. Use '--downgrade-check-time' instead.",
		"--experimental-distributed-tracing-sampling-rate is deprecated in 3.6 and will be decommissioned in 3.7. Use --distributed-tracing-sampling-rate instead.",
		"--experimental-memory-mlock is deprecated in v3.6 and will be decommissioned in v3.7. Use '--memory-mlock' instead.",
		"--experimental-snapshot-catchup-entries is deprecated in v3.6 and will be decommissioned in v3.7. Use '--snapshot-catchup-entries' instead.",
		"--v2-deprecation is deprecated and scheduled for removal in v3.8. The default value is enforced, ignoring user input.",
		"--experimental-compaction-batch-limit is deprecated in v3.6 and will be decommissioned in v3.7. Use '--compaction-batch-limit' instead.",
		"--experimental-watch-progress-notify-interval is deprecated in v3.6 and will be decommissioned in v3.7. Use '--watch-progress-notify-interval' instead.",
		"--experimental-distributed-tracing-address is deprecated in 3.6 and will be decommissioned in 3.7. Use --distributed-tracing-address instead.",
		"--max-snapshots is deprecated in 3.6 and will be decommissioned in 3.8.",
		"--experimental-txn-mode-write-with-shared-buffer is deprecated in v3.6 and will be decommissioned in v3.7. Use '--feature-gates=TxnModeWriteWithSharedBuffer=true' instead.",
	} {
		if !slices.Contains(warningMsgs(c), want) {
			t.Errorf("no warning %q", want)
		}
	}
}

// TestGateFlags checks the experimental flags that etcd 3.6 replaced with
// feature gates, from every source.
func TestGateFlags(t *testing.T) {
	for _, f := range flagTable {
		if f.gate == "" {
			continue
		}
		def, _ := lookupFeature(f.gate)
		val := "true"
		if def.def {
			val = "false"
		}
		for _, src := range sources {
			t.Run(f.name+"/"+src.name, func(t *testing.T) {
				c, err := src.load(t, f.name, val)
				if err != nil {
					t.Fatal(err)
				}
				if got := c.Feature(f.gate); got == def.def {
					t.Errorf("Feature(%s) = %v after --%s=%s", f.gate, got, f.name, val)
				}
				if !slices.Contains(warningMsgs(c), f.deprecation) {
					t.Errorf("warnings %q lack %q", warningMsgs(c), f.deprecation)
				}
				// The same value through both: accepted (see resolve.go).
				c, err = src.load(t, f.name, val, "feature-gates", f.gate+"="+val)
				if err != nil {
					t.Fatalf("same value twice: %v", err)
				}
				if got := c.Feature(f.gate); got == def.def {
					t.Errorf("Feature(%s) = %v", f.gate, got)
				}
				// Different values: etcd's error.
				other := map[string]string{"true": "false", "false": "true"}[val]
				_, err = src.load(t, f.name, val, "feature-gates", f.gate+"="+other)
				want := "cannot specify both flags: --" + f.name + "=" + val + " and --feature-gates=" + f.gate + "=" + other +
					" at the same time, please just use --feature-gates=" + f.gate + "=" + other
				if err == nil || err.Error() != want {
					t.Errorf("error = %v\nwant %s", err, want)
				}
			})
		}
	}
}

// TestEffectiveFeatures checks the fields the server reads for the gates.
func TestEffectiveFeatures(t *testing.T) {
	tests := []struct {
		args                                              string
		corrupt, hashCheck, checkpoint, checkpointPersist bool
	}{
		{args: ""},
		{args: "--feature-gates=InitialCorruptCheck=true", corrupt: true},
		{args: "--experimental-initial-corrupt-check", corrupt: true},
		{args: "--experimental-compact-hash-check-enabled=true", hashCheck: true},
		{args: "--feature-gates=CompactHashCheck=true", hashCheck: true},
		{args: "--experimental-enable-lease-checkpoint --experimental-enable-lease-checkpoint-persist", checkpoint: true, checkpointPersist: true},
		{args: "--feature-gates=LeaseCheckpoint=true,LeaseCheckpointPersist=true", checkpoint: true, checkpointPersist: true},
		{args: "--feature-gates=AllAlpha=true", corrupt: true, hashCheck: true, checkpoint: true, checkpointPersist: true},
		{args: "--feature-gates=AllAlpha=true,InitialCorruptCheck=false", hashCheck: true, checkpoint: true, checkpointPersist: true},
		{args: "--feature-gates=AllAlpha=true --feature-gates=CompactHashCheck=false", corrupt: true, checkpoint: true, checkpointPersist: true},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			c := mustLoad(t, strings.Fields(tt.args), nil)
			got := []bool{c.InitialCorruptCheck, c.CompactHashCheck, c.LeaseCheckpoint, c.LeaseCheckpointPersist}
			want := []bool{tt.corrupt, tt.hashCheck, tt.checkpoint, tt.checkpointPersist}
			if !slices.Equal(got, want) {
				t.Errorf("InitialCorruptCheck, CompactHashCheck, LeaseCheckpoint, LeaseCheckpointPersist = %v, want %v", got, want)
			}
		})
	}
}

func TestWarningUnaryRequestDuration(t *testing.T) {
	const both = "both --experimental-warning-unary-request-duration and --warning-unary-request-duration flags are set. Use only --warning-unary-request-duration"
	tests := []struct {
		args string
		want time.Duration
		err  string
	}{
		{args: "", want: 300 * time.Millisecond},
		{args: "--warning-unary-request-duration=1s", want: time.Second},
		{args: "--warning-unary-request-duration=0", want: 300 * time.Millisecond},
		{args: "--experimental-warning-unary-request-duration=2s", want: 2 * time.Second},
		{args: "--experimental-warning-unary-request-duration=0", want: 300 * time.Millisecond},
		// etcd compares values here, not presence.
		{args: "--experimental-warning-unary-request-duration=2s --warning-unary-request-duration=0", want: 2 * time.Second},
		{args: "--experimental-warning-unary-request-duration=0 --warning-unary-request-duration=1s", want: time.Second},
		{args: "--experimental-warning-unary-request-duration=2s --warning-unary-request-duration=1s", err: both},
		{args: "--experimental-warning-unary-request-duration=1s --warning-unary-request-duration=1s", err: both},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			c, err := Load(strings.Fields(tt.args), nil)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.WarningUnaryRequestDuration != tt.want {
				t.Errorf("WarningUnaryRequestDuration = %v, want %v", c.WarningUnaryRequestDuration, tt.want)
			}
		})
	}
}

// TestKubeadmCommandLine loads the flags kubeadm has passed to etcd. etcd
// 3.6.16 itself refuses this line (it gives InitialCorruptCheck both as a
// gate and as the experimental flag); Cairn accepts it, since the two
// agree.
func TestKubeadmCommandLine(t *testing.T) {
	dir := t.TempDir()
	args := []string{
		"--advertise-client-urls=https://10.0.0.5:2379",
		"--cert-file=/etc/kubernetes/pki/etcd/server.crt",
		"--client-cert-auth=true",
		"--data-dir=" + dir,
		"--feature-gates=InitialCorruptCheck=true",
		"--experimental-initial-corrupt-check=true",
		"--experimental-watch-progress-notify-interval=5s",
		"--initial-advertise-peer-urls=https://10.0.0.5:2380",
		"--initial-cluster=cp1=https://10.0.0.5:2380",
		"--key-file=/etc/kubernetes/pki/etcd/server.key",
		"--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.5:2379",
		"--listen-metrics-urls=http://127.0.0.1:2381",
		"--listen-peer-urls=https://10.0.0.5:2380",
		"--name=cp1",
		"--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
		"--peer-client-cert-auth=true",
		"--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
		"--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
		"--snapshot-count=10000",
		"--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
	}
	c := mustLoad(t, args, nil)
	if !c.InitialCorruptCheck || !c.Feature(FeatureInitialCorruptCheck) {
		t.Errorf("InitialCorruptCheck = %v, Feature = %v; want on", c.InitialCorruptCheck, c.Feature(FeatureInitialCorruptCheck))
	}
	if c.ProgressNotifyInterval() != 5*time.Second || c.WatchProgressNotifyInterval != 5*time.Second {
		t.Errorf("progress notify interval = %v, %v; want 5s", c.ProgressNotifyInterval(), c.WatchProgressNotifyInterval)
	}
	if c.SnapshotCount != 10000 || FormatURLs(c.ListenMetricsURLs) != "http://127.0.0.1:2381" {
		t.Errorf("snapshot count %d, metrics URLs %v", c.SnapshotCount, c.ListenMetricsURLs)
	}
	for _, want := range []string{
		"--experimental-initial-corrupt-check is deprecated in v3.6 and will be decommissioned in v3.7. Use '--feature-gates=InitialCorruptCheck=true' instead.",
		"--experimental-watch-progress-notify-interval is deprecated in v3.6 and will be decommissioned in v3.7. Use '--watch-progress-notify-interval' instead.",
	} {
		if !slices.Contains(warningMsgs(c), want) {
			t.Errorf("warnings %q lack %q", warningMsgs(c), want)
		}
	}
	// The TLS files do not exist: only the rest must validate.
	if err := c.Validate(); err != nil {
		for line := range strings.SplitSeq(err.Error(), "\n") {
			if !strings.Contains(line, "/etc/kubernetes/pki/") {
				t.Errorf("Validate: %s", line)
			}
		}
	}

	// kubeadm for etcd 3.6 and later passes the successors instead.
	c = mustLoad(t, []string{"--feature-gates=InitialCorruptCheck=true", "--watch-progress-notify-interval=5s"}, nil)
	if !c.InitialCorruptCheck || c.ProgressNotifyInterval() != 5*time.Second {
		t.Errorf("InitialCorruptCheck %v, interval %v", c.InitialCorruptCheck, c.ProgressNotifyInterval())
	}
}

// TestNoEffectWarnings checks that each flag Cairn accepts without acting
// on it draws a warning, with its reason, once changed from its default.
func TestNoEffectWarnings(t *testing.T) {
	for _, f := range flagTable {
		if f.noEffect == "" {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			c := mustLoad(t, []string{"--" + f.name + "=" + f.def}, nil)
			if slices.Contains(warningMsgs(c), noEffectWarning(f.name)) {
				t.Errorf("warning at the default value")
			}
			c = mustLoad(t, []string{"--" + f.name + "=" + flagSamples[f.name].in}, nil)
			i := slices.Index(warningMsgs(c), noEffectWarning(f.name))
			if i < 0 {
				t.Fatalf("no warning %q in %q", noEffectWarning(f.name), warningMsgs(c))
			}
			if r := c.Warnings[i].Attrs[1]; r.Key != "reason" || r.Value.String() != f.noEffect {
				t.Errorf("reason attribute = %v", r)
			}
		})
	}
	for _, tt := range []struct{ args, want string }{
		{"--feature-gates=TxnModeWriteWithSharedBuffer=false", "--feature-gates=TxnModeWriteWithSharedBuffer has no effect in Cairn"},
		{"--experimental-txn-mode-write-with-shared-buffer=false", "--feature-gates=TxnModeWriteWithSharedBuffer has no effect in Cairn"},
		{"--feature-gates=StopGRPCServiceOnDefrag=true", "--feature-gates=StopGRPCServiceOnDefrag has no effect in Cairn"},
		{"--experimental-memory-mlock", "--memory-mlock has no effect in Cairn"},
		{"--experimental-enable-distributed-tracing", "--enable-distributed-tracing has no effect in Cairn"},
		{"--feature-gates=LeaseCheckpoint=true", "Detected that checkpointing is enabled without persistence. Consider enabling feature gate LeaseCheckpointPersist"},
	} {
		c := mustLoad(t, strings.Fields(tt.args), nil)
		if !slices.Contains(warningMsgs(c), tt.want) {
			t.Errorf("%s: warnings %q lack %q", tt.args, warningMsgs(c), tt.want)
		}
	}
}

func TestRaftTimeoutFloor(t *testing.T) {
	c := mustLoad(t, []string{"--raft-read-timeout=1s", "--raft-write-timeout=6s"}, nil)
	if c.RaftReadTimeout != 5*time.Second || c.RaftWriteTimeout != 6*time.Second {
		t.Errorf("timeouts = %v, %v; want 5s, 6s", c.RaftReadTimeout, c.RaftWriteTimeout)
	}
	if want := "raft-read-timeout increased to minimum value: 5s"; !slices.Contains(warningMsgs(c), want) {
		t.Errorf("warnings %q lack %q", warningMsgs(c), want)
	}
}

// TestIgnoredFlags checks etcd's v2 leftovers: accepted with or without a
// value, never with a separate one.
func TestIgnoredFlags(t *testing.T) {
	c := mustLoad(t, []string{"--v", "--vv=1", "-config", "--max-result-buffer=5", "--name", "m1"}, nil)
	if c.Name != "m1" {
		t.Errorf("Name = %q", c.Name)
	}
	if n := strings.Count(strings.Join(warningMsgs(c), "|"), "ignored etcd v2 flag"); n != 4 {
		t.Errorf("%d ignored-flag warnings, want 4: %q", n, warningMsgs(c))
	}
	_, err := Load([]string{"--max-result-buffer", "5"}, nil)
	if want := `"5" is not a valid flag`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	c = mustLoad(t, nil, []string{"ETCD_CONFIG=x"})
	if slices.Contains(warningMsgs(c), "unrecognized environment variable") {
		t.Errorf("ETCD_CONFIG reported as unknown: etcd reads it for its ignored --config")
	}
}
