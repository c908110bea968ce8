package config

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cairn-kv/cairn/internal/tlsutil"
)

// etcdTLSFile is a config file in the form etcd's sample gives TLS
// settings, with every key Cairn reads from the two mappings.
const etcdTLSFile = `name: m1
data-dir: /var/lib/etcd
listen-client-urls: https://127.0.0.1:2379,https://localhost:2379
listen-peer-urls: https://10.0.0.1:2380
client-transport-security:
  cert-file: /pki/server.crt
  key-file: /pki/server.key
  client-cert-file: /pki/cli.crt
  client-key-file: /pki/cli.key
  client-cert-auth: true
  trusted-ca-file: /pki/ca.crt
  auto-tls: false
  crl-file: /pki/client.crl
  allowed-hostname: [client.example]
peer-transport-security:
  cert-file: /pki/peer.crt
  key-file: /pki/peer.key
  client-cert-file: /pki/peer-cli.crt
  client-key-file: /pki/peer-cli.key
  client-cert-auth: true
  trusted-ca-file: /pki/peer-ca.crt
  auto-tls: true
  crl-file: /pki/peer.crl
  allowed-cn: [m1, m2]
  allowed-hostname: [m1.example]
  skip-client-san-verification: true
self-signed-cert-validity: 3
cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
tls-min-version: 'TLS1.2'
tls-max-version: 'TLS1.3'
`

func TestTransportSecurityFile(t *testing.T) {
	c := mustLoad(t, []string{"--config-file", writeFile(t, etcdTLSFile)}, nil)
	suites := []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}
	wantClient := tlsutil.Info{
		Role:     tlsutil.RoleClient,
		CertFile: "/pki/server.crt", KeyFile: "/pki/server.key",
		ClientCertFile: "/pki/cli.crt", ClientKeyFile: "/pki/cli.key",
		TrustedCAFile: "/pki/ca.crt", CRLFile: "/pki/client.crl", ClientCertAuth: true,
		AllowedHostnames: []string{"client.example"},
		CipherSuites:     suites, MinVersion: "TLS1.2", MaxVersion: "TLS1.3",
		AutoTLSDir:         "/var/lib/etcd/fixtures/client",
		AutoTLSHosts:       []string{"127.0.0.1", "localhost"},
		SelfSignedValidity: 3,
	}
	if got := c.ClientTLSInfo(); !reflect.DeepEqual(got, wantClient) {
		t.Errorf("ClientTLSInfo() =\n%+v\nwant\n%+v", got, wantClient)
	}
	wantPeer := tlsutil.Info{
		Role:     tlsutil.RolePeer,
		CertFile: "/pki/peer.crt", KeyFile: "/pki/peer.key",
		ClientCertFile: "/pki/peer-cli.crt", ClientKeyFile: "/pki/peer-cli.key",
		TrustedCAFile: "/pki/peer-ca.crt", CRLFile: "/pki/peer.crl", ClientCertAuth: true,
		AllowedCNs: []string{"m1", "m2"}, AllowedHostnames: []string{"m1.example"},
		SkipClientSANVerify: true,
		CipherSuites:        suites, MinVersion: "TLS1.2", MaxVersion: "TLS1.3",
		AutoTLS:            true,
		AutoTLSDir:         "/var/lib/etcd/fixtures/peer",
		AutoTLSHosts:       []string{"10.0.0.1"},
		SelfSignedValidity: 3,
	}
	if got := c.PeerTLSInfo(); !reflect.DeepEqual(got, wantPeer) {
		t.Errorf("PeerTLSInfo() =\n%+v\nwant\n%+v", got, wantPeer)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %v", c.Warnings)
	}
}

// TestTransportSecurityForms checks the ways a TLS setting may be written in
// a config file.
func TestTransportSecurityForms(t *testing.T) {
	tests := []struct {
		name string
		file string
		// want maps flag names to canonical values.
		want map[string]string
		// warn lists the keys expected in "unrecognized config file key"
		// warnings.
		warn []string
	}{
		{name: "etcd's sample with empty values",
			file: "client-transport-security:\n  cert-file:\n  key-file:\n  client-cert-auth: false\n  trusted-ca-file:\n  auto-tls: false\n" +
				"peer-transport-security:\n  cert-file:\n  allowed-cn:\n  allowed-hostname:\n",
			want: map[string]string{"cert-file": "", "client-cert-auth": "false", "peer-cert-allowed-cn": ""}},
		{name: "empty mappings", file: "client-transport-security:\npeer-transport-security: {}\n",
			want: map[string]string{"cert-file": "", "peer-cert-file": ""}},
		{name: "top-level flag names", file: "cert-file: /a.crt\npeer-client-cert-auth: true\nclient-crl-file: /c.crl\n",
			want: map[string]string{"cert-file": "/a.crt", "peer-client-cert-auth": "true", "client-crl-file": "/c.crl"}},
		{name: "mixed forms for different flags", file: "cert-file: /a.crt\nclient-transport-security:\n  key-file: /a.key\n",
			want: map[string]string{"cert-file": "/a.crt", "key-file": "/a.key"}},
		{name: "allowed-cn as a string", file: "peer-transport-security:\n  allowed-cn: m1,m2\n",
			want: map[string]string{"peer-cert-allowed-cn": "m1,m2"}},
		{name: "allowed-cn item with a comma", file: "peer-transport-security:\n  allowed-cn: [\"Doe, J\"]\n",
			want: map[string]string{"peer-cert-allowed-cn": "Doe, J"}},
		{name: "cipher suites as a string", file: "cipher-suites: TLS_AES_128_GCM_SHA256\n",
			want: map[string]string{"cipher-suites": "TLS_AES_128_GCM_SHA256"}},
		{name: "keys etcd knows that have no flag",
			file: "client-transport-security:\n  allowed-cn: [x]\n  skip-client-san-verification: true\n  bogus: 1\n",
			warn: []string{"client-transport-security.allowed-cn", "client-transport-security.skip-client-san-verification",
				"client-transport-security.bogus"}},
		{name: "anchors", file: "x: &ca /pki/ca.crt\nclient-transport-security:\n  trusted-ca-file: *ca\npeer-transport-security:\n  trusted-ca-file: *ca\n",
			want: map[string]string{"trusted-ca-file": "/pki/ca.crt", "peer-trusted-ca-file": "/pki/ca.crt"},
			warn: []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, []string{"--config-file", writeFile(t, tt.file)}, nil)
			for name, want := range tt.want {
				if got := lookupFlag(name).bind(c).String(); got != want {
					t.Errorf("--%s = %q, want %q", name, got, want)
				}
			}
			var warned []string
			for _, w := range c.Warnings {
				if w.Msg != "unrecognized config file key" {
					continue
				}
				for _, a := range w.Attrs {
					if a.Key == "key" {
						warned = append(warned, a.Value.String())
					}
				}
			}
			if !slices.Equal(warned, tt.warn) {
				t.Errorf("unrecognized keys %q, want %q", warned, tt.warn)
			}
		})
	}
}

func TestTransportSecurityFileErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string // {file} stands for the path
	}{
		{"bad boolean", "client-transport-security:\n  client-cert-auth: maybe\n",
			`{file}: line 2: invalid value "maybe" for client-transport-security.client-cert-auth: parse error`},
		{"list for a path", "peer-transport-security:\n  cert-file: [a, b]\n",
			"{file}: line 2: invalid value for peer-transport-security.cert-file: expected a single value, not a list"},
		{"not a mapping", "client-transport-security: yes\n",
			"{file}: line 1: client-transport-security must map TLS settings to values"},
		{"a list", "peer-transport-security: [cert-file]\n",
			"{file}: line 1: peer-transport-security must map TLS settings to values"},
		{"key not a scalar", "client-transport-security:\n  [a]: b\n",
			"{file}: line 2: a key in client-transport-security must be a setting name"},
		{"set at the top level and in the mapping", "cert-file: /a\nclient-transport-security:\n  cert-file: /b\n",
			`{file}: line 3: key "client-transport-security.cert-file" sets cert-file, which line 1 already set`},
		{"set twice in the mapping", "peer-transport-security:\n  auto-tls: true\n  auto-tls: false\n",
			`{file}: line 3: key "peer-transport-security.auto-tls" sets peer-auto-tls, which line 2 already set`},
		{"mapping twice", "client-transport-security:\n  cert-file: /a\nclient-transport-security:\n  key-file: /b\n",
			`{file}: line 3: key "client-transport-security" appears more than once`},
		{"negative validity", "self-signed-cert-validity: -1\n",
			`{file}: line 1: invalid value "-1" for self-signed-cert-validity: parse error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, tt.file)
			_, err := Load([]string{"--config-file", p}, nil)
			want := strings.ReplaceAll(tt.want, "{file}", p)
			if err == nil || err.Error() != want {
				t.Errorf("Load error =\n%v\nwant\n%s", err, want)
			}
		})
	}
}

// TestMarshalTransportSecurity checks that TLS settings are written where
// etcd reads them and load back unchanged.
func TestMarshalTransportSecurity(t *testing.T) {
	c := mustLoad(t, []string{"--config-file", writeFile(t, etcdTLSFile)}, nil)
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"cert-file", "peer-cert-file", "client-crl-file", "peer-cert-allowed-cn"} {
		if _, ok := m[key]; ok {
			t.Errorf("%s written at the top level; etcd reads it from a transport security mapping", key)
		}
	}
	client, _ := m[clientSecurity].(map[string]any)
	peer, _ := m[peerSecurity].(map[string]any)
	if client["cert-file"] != "/pki/server.crt" || client["client-cert-auth"] != true {
		t.Errorf("%s = %v", clientSecurity, client)
	}
	if !reflect.DeepEqual(peer["allowed-cn"], []any{"m1", "m2"}) || peer["auto-tls"] != true {
		t.Errorf("%s = %v", peerSecurity, peer)
	}
	if !reflect.DeepEqual(m["cipher-suites"], []any{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}) ||
		m["self-signed-cert-validity"] != 3 || m["tls-min-version"] != "TLS1.2" {
		t.Errorf("top-level TLS keys: cipher-suites %v, self-signed-cert-validity %v, tls-min-version %v",
			m["cipher-suites"], m["self-signed-cert-validity"], m["tls-min-version"])
	}
	back := mustLoad(t, []string{"--config-file", writeFile(t, string(out))}, nil)
	if !reflect.DeepEqual(canonical(back), canonical(c)) {
		t.Errorf("round trip through\n%s\nchanged %v\nto %v", out, canonical(c), canonical(back))
	}
}

// TestTLSFlagParsing covers the TLS flags' command-line syntax.
func TestTLSFlagParsing(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		// want maps flag names to canonical values; wantErr is the whole
		// error instead.
		want    map[string]string
		wantErr string
	}{
		{name: "bare boolean", args: []string{"--client-cert-auth", "--peer-auto-tls"},
			want: map[string]string{"client-cert-auth": "true", "peer-auto-tls": "true", "auto-tls": "false"}},
		{name: "boolean =false", args: []string{"--client-cert-auth=false"},
			want: map[string]string{"client-cert-auth": "false"}},
		{name: "boolean from the environment", env: []string{"ETCD_PEER_CLIENT_CERT_AUTH=1"},
			want: map[string]string{"peer-client-cert-auth": "true"}},
		{name: "bad boolean", args: []string{"--peer-client-cert-auth=yes please"},
			wantErr: `invalid boolean value "yes please" for -peer-client-cert-auth: parse error`},
		{name: "list order kept", args: []string{"--peer-cert-allowed-cn", "b,a,b"},
			want: map[string]string{"peer-cert-allowed-cn": "b,a,b"}},
		{name: "empty list", args: []string{"--cipher-suites", ""},
			want: map[string]string{"cipher-suites": ""}},
		{name: "list items verbatim", args: []string{"--peer-cert-allowed-hostname= a,,b"},
			want: map[string]string{"peer-cert-allowed-hostname": " a,,b"}},
		{name: "paths", args: []string{"-cert-file=/a b/c.crt", "-trusted-ca-file", "/ca.crt"},
			want: map[string]string{"cert-file": "/a b/c.crt", "trusted-ca-file": "/ca.crt"}},
		{name: "validity", args: []string{"--self-signed-cert-validity", "0x10"},
			want: map[string]string{"self-signed-cert-validity": "16"}},
		{name: "negative validity", args: []string{"--self-signed-cert-validity", "-1"},
			wantErr: `invalid value "-1" for flag -self-signed-cert-validity: parse error`},
		{name: "versions are checked by Validate, not Load", args: []string{"--tls-min-version", "TLS1.1"},
			want: map[string]string{"tls-min-version": "TLS1.1"}},
		{name: "missing argument", args: []string{"--peer-cert-allowed-cn"},
			wantErr: "flag needs an argument: -peer-cert-allowed-cn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, tt.env)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("Load error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := lookupFlag(name).bind(c).String(); got != want {
					t.Errorf("--%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestValidateTLS(t *testing.T) {
	tests := []struct {
		name   string
		modify func(t *testing.T, c *Config)
		want   []string
	}{
		{name: "http needs nothing", modify: func(*testing.T, *Config) {}},
		{name: "https client URL without a certificate", modify: func(t *testing.T, c *Config) {
			c.ListenClientURLs = mustURLs(t, "https://127.0.0.1:2379", "http://127.0.0.1:22379", "unixs://sock:0")
		}, want: []string{
			"TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme",
			"TLS key/cert (--cert-file, --key-file) must be provided for client url unixs://sock:0 with HTTPS scheme",
		}},
		{name: "https peer URL without a certificate", modify: func(t *testing.T, c *Config) {
			c.ListenPeerURLs = mustURLs(t, "https://127.0.0.1:2380")
		}, want: []string{
			"TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url https://127.0.0.1:2380 with HTTPS scheme",
		}},
		{name: "https advertised only", modify: func(t *testing.T, c *Config) {
			c.AdvertiseClientURLs = mustURLs(t, "https://127.0.0.1:2379")
		}},
		{name: "https with certificates", modify: func(t *testing.T, c *Config) {
			c.ListenClientURLs = mustURLs(t, "https://127.0.0.1:2379")
			c.ListenPeerURLs = mustURLs(t, "https://127.0.0.1:2380")
			c.CertFile, c.KeyFile, c.PeerCertFile, c.PeerKeyFile = "/s.crt", "/s.key", "/p.crt", "/p.key"
		}},
		{name: "https with auto TLS", modify: func(t *testing.T, c *Config) {
			c.ListenClientURLs = mustURLs(t, "https://127.0.0.1:2379")
			c.ListenPeerURLs = mustURLs(t, "https://127.0.0.1:2380")
			c.AutoTLS, c.PeerAutoTLS = true, true
		}},
		{name: "certificate without its key", modify: func(t *testing.T, c *Config) {
			c.ListenClientURLs = mustURLs(t, "https://127.0.0.1:2379")
			c.CertFile = "/s.crt"
		}, want: []string{"--key-file: KeyFile and CertFile must both be present[key: , cert: /s.crt]"}},
		{name: "certificate without its key on an http listener", modify: func(t *testing.T, c *Config) {
			c.CertFile = "/s.crt"
		}},
		{name: "peer key without its certificate", modify: func(t *testing.T, c *Config) {
			c.ListenPeerURLs = mustURLs(t, "https://127.0.0.1:2380")
			c.PeerKeyFile = "/p.key"
		}, want: []string{"--peer-cert-file: KeyFile and CertFile must both be present[key: /p.key, cert: ]"}},
		{name: "client certificate without its key", modify: func(t *testing.T, c *Config) {
			c.PeerClientCertFile = "/pc.crt"
		}, want: []string{"--peer-client-key-file: KeyFile and CertFile must both be present[key: , cert: /pc.crt]"}},
		{name: "protocol settings", modify: func(t *testing.T, c *Config) {
			c.CipherSuites = []string{"FOO"}
			c.TLSMinVersion, c.TLSMaxVersion = "TLS1.3", "TLS1.2"
		}, want: []string{
			`--cipher-suites: unexpected TLS cipher suite "FOO"`,
			"min version (TLS1.3) is greater than max version (TLS1.2)",
			"cipher suites cannot be configured when only TLS1.3 is enabled",
		}},
		{name: "zero validity with auto TLS", modify: func(t *testing.T, c *Config) {
			c.PeerAutoTLS, c.SelfSignedCertValidity = true, 0
		}, want: []string{"--self-signed-cert-validity must be greater than 0 (set to 0)"}},
		{name: "zero validity, auto TLS with certificates", modify: func(t *testing.T, c *Config) {
			c.AutoTLS, c.CertFile, c.KeyFile, c.SelfSignedCertValidity = true, "/s.crt", "/s.key", 0
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
			if !slices.Equal(got, tt.want) {
				t.Errorf("Validate() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestTLSInfoDefaults(t *testing.T) {
	c := mustLoad(t, []string{"--name", "m1", "--listen-peer-urls", "https://[::1]:2380,https://localhost:2380,https://localhost:2381"}, nil)
	ci, pi := c.ClientTLSInfo(), c.PeerTLSInfo()
	if ci.Role != tlsutil.RoleClient || pi.Role != tlsutil.RolePeer {
		t.Errorf("roles %v, %v", ci.Role, pi.Role)
	}
	if want := filepath.Join("m1.etcd", "fixtures", "client"); ci.AutoTLSDir != want {
		t.Errorf("client AutoTLSDir = %q, want %q", ci.AutoTLSDir, want)
	}
	if want := filepath.Join("m1.etcd", "fixtures", "peer"); pi.AutoTLSDir != want {
		t.Errorf("peer AutoTLSDir = %q, want %q", pi.AutoTLSDir, want)
	}
	if want := []string{"localhost"}; !slices.Equal(ci.AutoTLSHosts, want) {
		t.Errorf("client hosts %q, want %q", ci.AutoTLSHosts, want)
	}
	if want := []string{"::1", "localhost"}; !slices.Equal(pi.AutoTLSHosts, want) {
		t.Errorf("peer hosts %q, want %q", pi.AutoTLSHosts, want)
	}
	if ci.MinVersion != "TLS1.2" || ci.SelfSignedValidity != 1 || ci.ClientCertAuth || ci.AutoTLS {
		t.Errorf("client defaults %+v", ci)
	}
	// The Infos are copies: changing one does not change the Config.
	pi.AllowedCNs = append(pi.AllowedCNs, "x")
	ci.CipherSuites = append(ci.CipherSuites, "y")
	if len(c.PeerCertAllowedCN) != 0 || len(c.CipherSuites) != 0 {
		t.Errorf("Info shares its slices with the Config")
	}
	// Huge validities saturate rather than wrap.
	c.SelfSignedCertValidity = 1 << 40
	if got := c.ClientTLSInfo().SelfSignedValidity; got <= 0 {
		t.Errorf("SelfSignedValidity = %d for 2^40 years", got)
	}
}

// TestClientAutoTLSHosts checks that the generated client certificate also
// covers the HTTP-only client URLs, as etcd's does.
func TestClientAutoTLSHosts(t *testing.T) {
	c := mustLoad(t, []string{"--listen-client-urls", "https://10.0.0.1:2379,https://localhost:2379",
		"--advertise-client-urls", "https://10.0.0.1:2379", "--listen-client-http-urls", "https://10.0.0.2:2382,https://localhost:2382"}, nil)
	if got, want := c.ClientTLSInfo().AutoTLSHosts, []string{"10.0.0.1", "localhost", "10.0.0.2"}; !slices.Equal(got, want) {
		t.Errorf("client hosts %q, want %q", got, want)
	}
}
