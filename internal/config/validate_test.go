package config

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// validConfig is Default with its data dir in a temp dir.
func validConfig(t *testing.T) *Config {
	t.Helper()
	c := Default()
	c.DataDir = filepath.Join(t.TempDir(), "data")
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(t *testing.T, c *Config)
		// want lists the expected lines of the error, in order; none
		// means valid.
		want []string
	}{
		{name: "defaults", modify: func(*testing.T, *Config) {}},
		{name: "three members", modify: func(t *testing.T, c *Config) {
			c.Name = "m2"
			c.InitialAdvertisePeerURLs = mustURLs(t, "http://10.0.0.2:2380")
			c.InitialCluster = map[string][]url.URL{
				"m1": mustURLs(t, "http://10.0.0.1:2380"),
				"m2": mustURLs(t, "http://10.0.0.2:2380"),
				"m3": mustURLs(t, "http://10.0.0.3:2380"),
			}
			c.InitialClusterState = "existing"
		}},
		{name: "peer URLs in any order", modify: func(t *testing.T, c *Config) {
			c.InitialAdvertisePeerURLs = mustURLs(t, "http://b:2380", "http://a:2380")
			c.InitialCluster = map[string][]url.URL{"default": mustURLs(t, "http://a:2380", "http://b:2380")}
		}},
		{name: "name missing from initial cluster", modify: func(t *testing.T, c *Config) {
			c.Name = "x"
			c.InitialCluster = map[string][]url.URL{"y": mustURLs(t, "http://localhost:2380")}
		}, want: []string{`couldn't find local name "x" in the initial cluster configuration`}},
		{name: "empty initial cluster", modify: func(t *testing.T, c *Config) {
			c.InitialCluster = nil
		}, want: []string{`couldn't find local name "default" in the initial cluster configuration`}},
		{name: "advertised peer URL not in initial cluster", modify: func(t *testing.T, c *Config) {
			c.InitialAdvertisePeerURLs = mustURLs(t, "http://localhost:12390")
		}, want: []string{"--initial-cluster has default=http://localhost:2380 but missing from --initial-advertise-peer-urls=http://localhost:12390"}},
		{name: "host names are not resolved", modify: func(t *testing.T, c *Config) {
			c.InitialAdvertisePeerURLs = mustURLs(t, "http://127.0.0.1:2380")
		}, want: []string{"--initial-cluster has default=http://localhost:2380 but missing from --initial-advertise-peer-urls=http://127.0.0.1:2380"}},
		{name: "member has extra URL", modify: func(t *testing.T, c *Config) {
			c.InitialCluster = map[string][]url.URL{"default": mustURLs(t, "http://localhost:2380", "http://localhost:2381")}
		}, want: []string{"--initial-cluster has default=http://localhost:2380,default=http://localhost:2381 but missing from --initial-advertise-peer-urls=http://localhost:2380"}},
		{name: "URL shared by two members", modify: func(t *testing.T, c *Config) {
			c.InitialCluster = map[string][]url.URL{
				"default": mustURLs(t, "http://localhost:2380"),
				"y":       mustURLs(t, "http://localhost:2380"),
			}
		}, want: []string{"initial cluster default=http://localhost:2380,y=http://localhost:2380 has duplicate url"}},
		{name: "bad URL in initial cluster", modify: func(t *testing.T, c *Config) {
			c.InitialCluster["m2"] = []url.URL{{Scheme: "ftp", Host: "m2:21"}}
		}, want: []string{`invalid value "m2=ftp://m2:21" for --initial-cluster: URL scheme must be http, https, unix, or unixs: ftp://m2:21`}},
		{name: "bad cluster state", modify: func(t *testing.T, c *Config) {
			c.InitialClusterState = "bogus"
		}, want: []string{`invalid value "bogus" for --initial-cluster-state: valid values are new, existing`}},
		{name: "control character in name", modify: func(t *testing.T, c *Config) {
			c.Name = "a\nb"
			c.InitialCluster = map[string][]url.URL{c.Name: c.InitialAdvertisePeerURLs}
		}, want: []string{`invalid value "a\nb" for --name: member name "a\nb" must not contain a control character, ',' or '='`}},
		{name: "comma in name", modify: func(t *testing.T, c *Config) {
			c.Name = "a,b"
			c.InitialCluster = map[string][]url.URL{c.Name: c.InitialAdvertisePeerURLs}
		}, want: []string{`invalid value "a,b" for --name: member name "a,b" must not contain a control character, ',' or '='`}},
		{name: "bad URL in listen list", modify: func(t *testing.T, c *Config) {
			c.ListenClientURLs = []url.URL{{Scheme: "http", Host: "localhost"}}
		}, want: []string{`invalid value "http://localhost" for --listen-client-urls: URL address does not have the form "host:port": http://localhost`}},
		{name: "URL with path", modify: func(t *testing.T, c *Config) {
			c.ListenPeerURLs = []url.URL{{Scheme: "http", Host: "localhost:2380", Path: "/raft"}}
		}, want: []string{`invalid value "http://localhost:2380/raft" for --listen-peer-urls: URL must not contain a path: http://localhost:2380/raft`}},
		{name: "unix client URL without port", modify: func(t *testing.T, c *Config) {
			c.AdvertiseClientURLs = mustURLs(t, "unix://foo")
		}, want: []string{`--advertise-client-urls "unix://foo" must be "host:port" (address foo: missing port in address)`}},
		{name: "unix client URL with port", modify: func(t *testing.T, c *Config) {
			c.AdvertiseClientURLs = mustURLs(t, "unix://localhost:2379")
		}},
		{name: "zero heartbeat", modify: func(t *testing.T, c *Config) {
			c.HeartbeatInterval = 0
		}, want: []string{"--heartbeat-interval must be >0 (set to 0ms)"}},
		{name: "zero election timeout", modify: func(t *testing.T, c *Config) {
			c.ElectionTimeout = 0
		}, want: []string{"--election-timeout must be >0 (set to 0ms)"}},
		{name: "election timeout under five heartbeats", modify: func(t *testing.T, c *Config) {
			c.ElectionTimeout = 200 * time.Millisecond
		}, want: []string{"--election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]"}},
		{name: "election timeout of exactly five heartbeats", modify: func(t *testing.T, c *Config) {
			c.ElectionTimeout = 500 * time.Millisecond
		}},
		{name: "election timeout too long", modify: func(t *testing.T, c *Config) {
			c.ElectionTimeout = 60 * time.Second
		}, want: []string{"--election-timeout[60000ms] is too long, and should be set less than 50000ms"}},
		{name: "election timeout of 50s", modify: func(t *testing.T, c *Config) {
			c.ElectionTimeout = 50 * time.Second
		}},
		{name: "both timeout limits", modify: func(t *testing.T, c *Config) {
			c.HeartbeatInterval = 20 * time.Second
			c.ElectionTimeout = 60 * time.Second
		}, want: []string{
			"--election-timeout[60000ms] should be at least as 5 times as --heartbeat-interval[20000ms]",
			"--election-timeout[60000ms] is too long, and should be set less than 50000ms",
		}},
		{name: "capnslog", modify: func(t *testing.T, c *Config) { c.Logger = "capnslog" },
			want: []string{"--logger=capnslog is removed in v3.5"}},
		{name: "unknown logger", modify: func(t *testing.T, c *Config) { c.Logger = "foo" },
			want: []string{`unknown logger option "foo"`}},
		{name: "unknown log level", modify: func(t *testing.T, c *Config) { c.LogLevel = "bogus" },
			want: []string{"unknown log level: bogus, supported values debug, info, warn, error, panic, fatal"}},
		{name: "unknown log format", modify: func(t *testing.T, c *Config) { c.LogFormat = "bogus" },
			want: []string{"unknown log format: bogus, supported values json, console"}},
		{name: "no log outputs", modify: func(t *testing.T, c *Config) { c.LogOutputs = nil },
			want: []string{"--log-outputs must name at least one output"}},
		{name: "no data dir", modify: func(t *testing.T, c *Config) { c.DataDir = "" },
			want: []string{"--data-dir must not be empty"}},
		{name: "data dir is a file", modify: func(t *testing.T, c *Config) {
			c.DataDir = filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(c.DataDir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"cannot access data directory: {dir} is not a directory"}},
		{name: "data dir under a file", modify: func(t *testing.T, c *Config) {
			f := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(f, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			c.DataDir = filepath.Join(f, "data")
		}, want: []string{"cannot access data directory: mkdir {parent}: not a directory"}},
		{name: "data dir cannot be created", modify: func(t *testing.T, c *Config) {
			c.DataDir = "/proc/cairn-test/data"
		}, want: []string{"cannot access data directory: mkdir /proc/cairn-test: no such file or directory"}},
		// etcd 3.6's checks of its later flags (messages from etcd 3.6.16).
		{name: "client HTTP URL names a host", modify: func(t *testing.T, c *Config) {
			c.ListenClientHTTPURLs = mustURLs(t, "http://example.com:1", "http://localhost:2", "http://[::1]:3", "unix://sock")
		}, want: []string{"expected IP in URL for binding (http://example.com:1)"}},
		{name: "zero compact hash check period", modify: func(t *testing.T, c *Config) { c.CompactHashCheckTime = 0 },
			want: []string{"--compact-hash-check-time must be >0 (set to 0s)"}},
		{name: "negative max learners", modify: func(t *testing.T, c *Config) { c.MaxLearners = -1 },
			want: []string{"--max-learners must be >= 0 (set to -1)"}},
		{name: "no learners", modify: func(t *testing.T, c *Config) { c.MaxLearners = 0 }},
		{name: "lease checkpoint persistence alone", modify: func(t *testing.T, c *Config) { c.LeaseCheckpointPersist = true },
			want: []string{"enabling feature gate LeaseCheckpointPersist requires enabling feature gate LeaseCheckpoint"}},
		{name: "tracing sampling rate negative", modify: func(t *testing.T, c *Config) {
			c.EnableDistributedTracing, c.DistributedTracingSamplingRate = true, -1
		}, want: []string{"distributed tracing configurition is not valid: (tracing sampling rate must be positive)"}},
		{name: "tracing sampling rate too high", modify: func(t *testing.T, c *Config) {
			c.EnableDistributedTracing, c.DistributedTracingSamplingRate = true, 1000001
		}, want: []string{"distributed tracing configurition is not valid: (tracing sampling rate must be less than 1000000)"}},
		{name: "tracing sampling rate of a million", modify: func(t *testing.T, c *Config) {
			c.EnableDistributedTracing, c.DistributedTracingSamplingRate = true, 1000000
		}},
		{name: "tracing off ignores its rate", modify: func(t *testing.T, c *Config) { c.DistributedTracingSamplingRate = -1 }},
		{name: "log rotation without a file", modify: func(t *testing.T, c *Config) { c.EnableLogRotation = true },
			want: []string{"--log-outputs requires a single file path when --log-rotate-config-json is defined"}},
		{name: "log rotation of two files", modify: func(t *testing.T, c *Config) {
			c.EnableLogRotation, c.LogOutputs = true, []string{"/a.log", "/b.log"}
		}, want: []string{"--log-outputs requires a single file path when --log-rotate-config-json is defined"}},
		{name: "log rotation of one file", modify: func(t *testing.T, c *Config) {
			c.EnableLogRotation, c.LogOutputs = true, []string{"/a.log"}
		}},
		{name: "log rotation config not JSON", modify: func(t *testing.T, c *Config) {
			c.EnableLogRotation, c.LogOutputs, c.LogRotationConfigJSON = true, []string{"/a.log"}, "xx"
		}, want: []string{"improperly formatted log rotation config: invalid character 'x' looking for beginning of value"}},
		{name: "log rotation config empty", modify: func(t *testing.T, c *Config) {
			c.EnableLogRotation, c.LogOutputs, c.LogRotationConfigJSON = true, []string{"/a.log"}, ""
		}, want: []string{"improperly formatted log rotation config: unexpected end of JSON input"}},
		{name: "log rotation config of the wrong type", modify: func(t *testing.T, c *Config) {
			c.EnableLogRotation, c.LogOutputs, c.LogRotationConfigJSON = true, []string{"/a.log"}, `{"maxsize":"x"}`
		}, want: []string{"invalid log rotation config: json: cannot unmarshal string into Go struct field logRotationConfig.maxsize of type int"}},
		{name: "log rotation config unchecked when off", modify: func(t *testing.T, c *Config) { c.LogRotationConfigJSON = "xx" }},
		{name: "discovery", modify: func(t *testing.T, c *Config) {
			c.Discovery, c.DiscoverySRV, c.DiscoveryEndpoints = "https://discovery.etcd.io/x", "example.com", []string{"10.0.0.1:2379"}
		}, want: []string{"discovery is not supported: Cairn bootstraps a cluster from --initial-cluster only; remove --discovery, --discovery-endpoints, --discovery-srv"}},
		{name: "discovery tuning alone", modify: func(t *testing.T, c *Config) {
			c.DiscoveryDialTimeout, c.DiscoveryInsecureTransport = time.Minute, false
		}},
		{name: "discovery fallback proxy", modify: func(t *testing.T, c *Config) { c.DiscoveryFallback = "proxy" },
			want: []string{`v2 proxy is deprecated, and --discovery-fallback can't be configured as "proxy"`}},
		{name: "every problem at once", modify: func(t *testing.T, c *Config) {
			c.Name = "x"
			c.DataDir = "/proc/foo"
			c.ElectionTimeout = 200 * time.Millisecond
			c.LogFormat = "xml"
		}, want: []string{
			"cannot access data directory: mkdir /proc/foo: no such file or directory",
			`couldn't find local name "x" in the initial cluster configuration`,
			"--election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]",
			"unknown log format: xml, supported values json, console",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.modify(t, c)
			err := c.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				w = strings.ReplaceAll(w, "{dir}", c.DataDir)
				want[i] = strings.ReplaceAll(w, "{parent}", filepath.Dir(c.DataDir))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("Validate() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestValidateExplicitListenClientURLs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	dd := "--data-dir=" + dir
	tests := []struct {
		name string
		args []string
		env  []string
		file string
		want string
	}{
		{name: "listen without advertise",
			args: []string{dd, "--listen-client-urls", "http://localhost:12379"},
			want: "--advertise-client-urls is required when --listen-client-urls is set explicitly"},
		{name: "listen from env without advertise",
			args: []string{dd}, env: []string{"ETCD_LISTEN_CLIENT_URLS=http://localhost:12379"},
			want: "--advertise-client-urls is required when --listen-client-urls is set explicitly"},
		{name: "listen and advertise",
			args: []string{dd, "--listen-client-urls", "http://localhost:12379"},
			env:  []string{"ETCD_ADVERTISE_CLIENT_URLS=http://localhost:12379"}},
		// etcd applies the rule to flags only, not to config files.
		{name: "config file",
			file: "listen-client-urls: http://localhost:12379\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config-file", writeFile(t, tt.file+"data-dir: "+dir+"\n"))
			}
			c := mustLoad(t, args, tt.env)
			got := ""
			if err := c.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateDataDir(t *testing.T) {
	t.Run("missing parents are created and removed", func(t *testing.T) {
		root := t.TempDir()
		c := validConfig(t)
		c.DataDir = filepath.Join(root, "a", "b", "data")
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "a")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Validate left %s behind (stat: %v)", filepath.Join(root, "a"), err)
		}
	})
	t.Run("existing dir is kept with its contents", func(t *testing.T) {
		c := validConfig(t)
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			t.Fatal(err)
		}
		keep := filepath.Join(c.DataDir, "keep")
		if err := os.WriteFile(keep, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(c.DataDir)
		if err != nil || len(entries) != 1 {
			t.Errorf("data dir holds %v (%v), want only keep", entries, err)
		}
	})
	t.Run("read-only dir", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes through permission bits")
		}
		c := validConfig(t)
		if err := os.MkdirAll(c.DataDir, 0o500); err != nil {
			t.Fatal(err)
		}
		err := c.Validate()
		want := "cannot access data directory: " + c.DataDir + " is not writable: permission denied"
		if err == nil || err.Error() != want {
			t.Errorf("Validate() = %v, want %q", err, want)
		}
	})
}
