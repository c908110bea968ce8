package tlsutil

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture is a CA with a server certificate for localhost and 127.0.0.1,
// and a second, unrelated CA.
type fixture struct {
	dir                   string
	ca, other             *testCA
	caFile, otherFile     string
	server                issued
	serverCert, serverKey string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), ca: newCA(t, "test-ca"), other: newCA(t, "other-ca")}
	f.caFile = write(t, f.dir, "ca.crt", f.ca.pem)
	f.otherFile = write(t, f.dir, "other-ca.crt", f.other.pem)
	f.server = f.ca.issue(t, leaf{cn: "server", dns: []string{"localhost"}, ips: []string{"127.0.0.1"}})
	f.serverCert, f.serverKey = writePair(t, f.dir, "server", f.server)
	return f
}

// serverInfo is a client-listener Info serving the fixture's certificate.
func (f *fixture) serverInfo() Info {
	return Info{Role: RoleClient, CertFile: f.serverCert, KeyFile: f.serverKey}
}

func mustServerConfig(t *testing.T, info Info, lg *slog.Logger) *tls.Config {
	t.Helper()
	cfg, err := ServerConfig(info, lg)
	if err != nil {
		t.Fatalf("ServerConfig: %v", err)
	}
	return cfg
}

// client writes c (with chain appended to the certificate) and returns a
// config presenting it and trusting the fixture's CA.
func (f *fixture) client(t *testing.T, name string, c issued, chain ...*testCA) *tls.Config {
	t.Helper()
	certPEM := c.certPEM
	for _, ca := range chain {
		certPEM = append(append([]byte(nil), certPEM...), ca.pem...)
	}
	cp, kp := writePair(t, f.dir, name, issued{certPEM: certPEM, keyPEM: c.keyPEM})
	return clientConfig(t, f.caFile, cp, kp)
}

func wantRejected(t *testing.T, r result, wantSrv string) {
	t.Helper()
	if r.srvErr == nil || !strings.Contains(r.srvErr.Error(), wantSrv) {
		t.Errorf("server error = %v, want one containing %q", r.srvErr, wantSrv)
	}
	if r.cliErr == nil {
		t.Errorf("client saw no error")
	}
}

func wantOK(t *testing.T, r result) {
	t.Helper()
	if !r.ok() {
		t.Errorf("handshake failed: server: %v; client: %v", r.srvErr, r.cliErr)
	}
}

func TestServerClientCertificates(t *testing.T) {
	f := newFixture(t)
	inter := f.ca.intermediate(t, "intermediate")
	good := f.ca.issue(t, leaf{cn: "alice"})
	byInter := inter.issue(t, leaf{cn: "bob"})
	foreign := f.other.issue(t, leaf{cn: "mallory"})
	expired := f.ca.issue(t, leaf{cn: "old", notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)})
	early := f.ca.issue(t, leaf{cn: "early", notBefore: time.Now().Add(time.Hour)})
	serverOnly := f.ca.issue(t, leaf{cn: "srv", usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})

	auth := f.serverInfo()
	auth.ClientCertAuth = true
	auth.TrustedCAFile = f.caFile
	caOnly := f.serverInfo()
	caOnly.TrustedCAFile = f.caFile
	authSystemRoots := f.serverInfo()
	authSystemRoots.ClientCertAuth = true

	tests := []struct {
		name   string
		info   Info
		client func(t *testing.T) *tls.Config
		// want is "" for success, else a fragment of the server's error.
		want string
	}{
		{"no auth, no client cert", f.serverInfo(),
			func(t *testing.T) *tls.Config { return clientConfig(t, f.caFile, "", "") }, ""},
		{"no auth, client cert ignored", f.serverInfo(),
			func(t *testing.T) *tls.Config { return f.client(t, "foreign", foreign) }, ""},
		{"auth, valid cert", auth,
			func(t *testing.T) *tls.Config { return f.client(t, "good", good) }, ""},
		{"auth, cert through an intermediate", auth,
			func(t *testing.T) *tls.Config { return f.client(t, "inter", byInter, inter) }, ""},
		{"auth, intermediate missing", auth,
			func(t *testing.T) *tls.Config { return f.client(t, "inter-alone", byInter) }, "unknown authority"},
		{"auth, no cert", auth,
			func(t *testing.T) *tls.Config { return clientConfig(t, f.caFile, "", "") }, "didn't provide a certificate"},
		{"auth, cert from another CA", auth,
			func(t *testing.T) *tls.Config { return f.client(t, "foreign", foreign) }, "unknown authority"},
		{"auth, expired cert", auth,
			func(t *testing.T) *tls.Config { return f.client(t, "expired", expired) }, "expired"},
		{"auth, cert not yet valid", auth,
			func(t *testing.T) *tls.Config { return f.client(t, "early", early) }, "not yet valid"},
		{"auth, cert for servers only", auth,
			func(t *testing.T) *tls.Config { return f.client(t, "server-only", serverOnly) }, "incompatible key usage"},
		{"trusted CA alone requires a cert", caOnly,
			func(t *testing.T) *tls.Config { return clientConfig(t, f.caFile, "", "") }, "didn't provide a certificate"},
		{"trusted CA alone, valid cert", caOnly,
			func(t *testing.T) *tls.Config { return f.client(t, "good", good) }, ""},
		{"auth without CA file uses the system roots", authSystemRoots,
			func(t *testing.T) *tls.Config { return f.client(t, "good", good) }, "certificate"},
	}
	for _, tt := range tests {
		for _, version := range []string{VersionTLS12, VersionTLS13} {
			t.Run(tt.name+"/"+version, func(t *testing.T) {
				info := tt.info
				info.MinVersion, info.MaxVersion = version, version
				r := handshake(t, mustServerConfig(t, info, nil), tt.client(t))
				if tt.want == "" {
					wantOK(t, r)
					return
				}
				wantRejected(t, r, tt.want)
			})
		}
	}
}

// TestServerVerifiedClientCertificate checks what the server sees after a
// successful handshake: PeerCertificates[0] is the client's certificate
// (VerifiedChains is empty, verification being ours).
func TestServerVerifiedClientCertificate(t *testing.T) {
	f := newFixture(t)
	info := f.serverInfo()
	info.ClientCertAuth, info.TrustedCAFile = true, f.caFile
	alice := f.ca.issue(t, leaf{cn: "alice"})
	r := handshake(t, mustServerConfig(t, info, nil), f.client(t, "alice", alice))
	wantOK(t, r)
	if certs := r.srvState.PeerCertificates; len(certs) == 0 || certs[0].Subject.CommonName != "alice" {
		t.Errorf("server sees peer certificates %v, want alice's first", certs)
	}
}

func TestServerCRL(t *testing.T) {
	f := newFixture(t)
	alice := f.ca.issue(t, leaf{cn: "alice"})
	bob := f.ca.issue(t, leaf{cn: "bob"})
	inter := f.ca.intermediate(t, "intermediate")
	carol := inter.issue(t, leaf{cn: "carol"})

	for _, form := range []string{"DER", "PEM"} {
		t.Run(form, func(t *testing.T) {
			encode := func(der []byte) []byte {
				if form == "PEM" {
					return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
				}
				return der
			}
			crlFile := write(t, t.TempDir(), "crl", encode(f.ca.crl(t, bob.cert)))
			info := f.serverInfo()
			info.ClientCertAuth, info.TrustedCAFile, info.CRLFile = true, f.caFile, crlFile
			srv := mustServerConfig(t, info, nil)

			wantOK(t, handshake(t, srv, f.client(t, "alice", alice)))
			wantRejected(t, handshake(t, srv, f.client(t, "bob", bob)), "revoked")
			wantOK(t, handshake(t, srv, f.client(t, "carol", carol, inter)))

			// A new CRL is picked up by the next handshake: alice and
			// the intermediate are revoked, bob is not any more.
			write(t, filepath.Dir(crlFile), "crl", encode(f.ca.crl(t, alice.cert, inter.cert)))
			wantRejected(t, handshake(t, srv, f.client(t, "alice", alice)), "revoked")
			wantOK(t, handshake(t, srv, f.client(t, "bob", bob)))
			wantRejected(t, handshake(t, srv, f.client(t, "carol", carol, inter)), "revoked")
		})
	}
}

func TestServerAllowedNames(t *testing.T) {
	f := newFixture(t)
	m1 := f.ca.issue(t, leaf{cn: "m1", dns: []string{"m1.cluster.test"}})
	m2 := f.ca.issue(t, leaf{cn: "m2", dns: []string{"m2.cluster.test"}})
	wild := f.ca.issue(t, leaf{cn: "any", dns: []string{"*.cluster.test"}})
	byIP := f.ca.issue(t, leaf{cn: "ip", ips: []string{"10.0.0.9"}})

	tests := []struct {
		name      string
		cns       []string
		hostnames []string
		client    issued
		ok        bool
	}{
		{"no restriction", nil, nil, m2, true},
		{"CN allowed", []string{"m0", "m1"}, nil, m1, true},
		{"CN not allowed", []string{"m1"}, nil, m2, false},
		{"CN is case sensitive", []string{"M1"}, nil, m1, false},
		{"host name allowed", nil, []string{"m1.cluster.test"}, m1, true},
		{"host name not allowed", nil, []string{"m1.cluster.test"}, m2, false},
		{"wildcard certificate", nil, []string{"m3.cluster.test"}, wild, true},
		{"IP as host name", nil, []string{"10.0.0.9"}, byIP, true},
		{"either CN or host name", []string{"m1"}, []string{"m2.cluster.test"}, m2, true},
		{"neither CN nor host name", []string{"m1"}, []string{"m1.cluster.test"}, m2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := f.serverInfo()
			info.Role = RolePeer
			info.SkipClientSANVerify = true // the names are not this host's
			info.ClientCertAuth, info.TrustedCAFile = true, f.caFile
			info.AllowedCNs, info.AllowedHostnames = tt.cns, tt.hostnames
			r := handshake(t, mustServerConfig(t, info, nil), f.client(t, "c", tt.client))
			if tt.ok {
				wantOK(t, r)
			} else {
				wantRejected(t, r, "client certificate authentication failed")
			}
		})
	}
}

// fakeLookup resolves localhost and peer.test to 127.0.0.1 and nothing
// else, without the network.
func fakeLookup(t *testing.T) {
	t.Helper()
	saved := lookupIPAddr
	lookupIPAddr = func(_ context.Context, host string) ([]net.IPAddr, error) {
		switch host {
		case "localhost", "peer.test":
			return []net.IPAddr{{IP: net.ParseIP("127.0.0.1")}}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	t.Cleanup(func() { lookupIPAddr = saved })
}

func TestPeerClientSAN(t *testing.T) {
	fakeLookup(t)
	f := newFixture(t)
	tests := []struct {
		name string
		leaf leaf
		// clientListener serves as the client listener instead of the
		// peer listener.
		clientListener bool
		skip           bool
		// want is "" for success, else a fragment of the server's error.
		want string
	}{
		{name: "no addresses in the certificate", leaf: leaf{cn: "a"}},
		{name: "matching IP", leaf: leaf{cn: "a", ips: []string{"127.0.0.1"}}},
		{name: "other IP", leaf: leaf{cn: "a", ips: []string{"10.9.9.9"}},
			want: "certificate is valid for 10.9.9.9, not 127.0.0.1"},
		{name: "DNS name resolving to the peer", leaf: leaf{cn: "a", dns: []string{"peer.test"}}},
		{name: "DNS name resolving elsewhere", leaf: leaf{cn: "a", dns: []string{"nothing.invalid"}},
			want: `"127.0.0.1" does not match any of DNSNames ["nothing.invalid"]`},
		{name: "other IP but matching DNS name", leaf: leaf{cn: "a", ips: []string{"10.9.9.9"}, dns: []string{"localhost"}}},
		{name: "check skipped", leaf: leaf{cn: "a", ips: []string{"10.9.9.9"}}, skip: true},
		{name: "client listener does not check", leaf: leaf{cn: "a", ips: []string{"10.9.9.9"}}, clientListener: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := f.serverInfo()
			info.Role = RolePeer
			if tt.clientListener {
				info.Role = RoleClient
			}
			info.SkipClientSANVerify = tt.skip
			info.ClientCertAuth, info.TrustedCAFile = true, f.caFile
			c := f.ca.issue(t, tt.leaf)
			r := handshake(t, mustServerConfig(t, info, nil), f.client(t, "peer", c))
			if tt.want == "" {
				wantOK(t, r)
				return
			}
			wantRejected(t, r, tt.want)
		})
	}
}

// logBuffer collects log records' messages.
type logBuffer struct {
	mu   sync.Mutex
	msgs []string
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.msgs = append(b.msgs, string(p))
		return len(p), nil
	}), nil))
}

// count returns how many records contain s.
func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestServerCertificateRotation replaces the served certificate on disk, by
// rewriting the files and by renaming new ones over them, and checks that
// the next handshake serves it, with no restart; a broken replacement
// keeps the previous certificate and is logged once.
func TestServerCertificateRotation(t *testing.T) {
	f := newFixture(t)
	var logs logBuffer
	srv := mustServerConfig(t, f.serverInfo(), logs.logger())
	cli := clientConfig(t, f.caFile, "", "")
	served := func() string {
		t.Helper()
		r := handshake(t, srv, cli)
		wantOK(t, r)
		if len(r.state.PeerCertificates) == 0 {
			return ""
		}
		return r.state.PeerCertificates[0].SerialNumber.String()
	}
	if got, want := served(), f.server.cert.SerialNumber.String(); got != want {
		t.Fatalf("serves serial %s, want %s", got, want)
	}

	// Rewritten in place.
	next := f.ca.issue(t, leaf{cn: "server-2", dns: []string{"localhost"}})
	writePair(t, f.dir, "server", next)
	if got, want := served(), next.cert.SerialNumber.String(); got != want {
		t.Errorf("after rewriting: serves serial %s, want %s", got, want)
	}

	// Half a rotation: a new certificate whose key is not there yet.
	third := f.ca.issue(t, leaf{cn: "server-3", dns: []string{"localhost"}})
	write(t, f.dir, "server.crt", third.certPEM)
	for range 3 {
		if got, want := served(), next.cert.SerialNumber.String(); got != want {
			t.Errorf("with a mismatched key: serves serial %s, want the previous %s", got, want)
		}
	}
	if n := logs.count("cannot reload TLS certificate"); n != 1 {
		t.Errorf("failed reload logged %d times, want once", n)
	}
	write(t, f.dir, "server.key", third.keyPEM)
	if got, want := served(), third.cert.SerialNumber.String(); got != want {
		t.Errorf("after completing the rotation: serves serial %s, want %s", got, want)
	}

	// Renamed over the old files, as tools that write atomically do.
	fourth := f.ca.issue(t, leaf{cn: "server-4", dns: []string{"localhost"}})
	staging := t.TempDir()
	cp, kp := writePair(t, staging, "new", fourth)
	if err := os.Rename(kp, f.serverKey); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(cp, f.serverCert); err != nil {
		t.Fatal(err)
	}
	if got, want := served(), fourth.cert.SerialNumber.String(); got != want {
		t.Errorf("after renaming: serves serial %s, want %s", got, want)
	}

	// Files gone: the last certificate is still served.
	if err := os.Remove(f.serverCert); err != nil {
		t.Fatal(err)
	}
	if got, want := served(), fourth.cert.SerialNumber.String(); got != want {
		t.Errorf("with the file removed: serves serial %s, want %s", got, want)
	}
	if n := logs.count("reloaded TLS certificate"); n != 3 {
		t.Errorf("%d reloads logged, want 3", n)
	}
}

// TestTrustedCARotation rotates the trusted CA bundle on disk: clients of a
// newly trusted CA get in, and clients of a CA no longer in the bundle are
// refused, with no restart.
func TestTrustedCARotation(t *testing.T) {
	f := newFixture(t)
	info := f.serverInfo()
	info.ClientCertAuth, info.TrustedCAFile = true, f.caFile
	var logs logBuffer
	srv := mustServerConfig(t, info, logs.logger())
	old := f.client(t, "old", f.ca.issue(t, leaf{cn: "old"}))
	newer := f.client(t, "new", f.other.issue(t, leaf{cn: "new"}))

	wantOK(t, handshake(t, srv, old))
	wantRejected(t, handshake(t, srv, newer), "unknown authority")

	// Both CAs in one bundle, during the rotation.
	write(t, f.dir, "ca.crt", append(append([]byte(nil), f.ca.pem...), f.other.pem...))
	wantOK(t, handshake(t, srv, old))
	wantOK(t, handshake(t, srv, newer))

	// The old CA retired.
	write(t, f.dir, "ca.crt", f.other.pem)
	wantRejected(t, handshake(t, srv, old), "unknown authority")
	wantOK(t, handshake(t, srv, newer))

	// A broken bundle keeps the previous one.
	write(t, f.dir, "ca.crt", []byte("not a certificate"))
	wantOK(t, handshake(t, srv, newer))
	if n := logs.count("cannot reload trusted CA file"); n != 1 {
		t.Errorf("failed reload logged %d times, want once", n)
	}
}

// TestClientCertificateRotation replaces the certificate a client presents
// and checks that the next handshake presents the new one.
func TestClientCertificateRotation(t *testing.T) {
	f := newFixture(t)
	info := f.serverInfo()
	info.ClientCertAuth, info.TrustedCAFile = true, f.caFile
	srv := mustServerConfig(t, info, nil)
	first := f.ca.issue(t, leaf{cn: "first"})
	cp, kp := writePair(t, f.dir, "client", first)
	cli := clientConfig(t, f.caFile, cp, kp)
	presented := func() string {
		t.Helper()
		r := handshake(t, srv, cli)
		wantOK(t, r)
		if len(r.srvState.PeerCertificates) == 0 {
			return ""
		}
		return r.srvState.PeerCertificates[0].Subject.CommonName
	}
	if got := presented(); got != "first" {
		t.Errorf("client presents %q, want first", got)
	}
	writePair(t, f.dir, "client", f.ca.issue(t, leaf{cn: "second"}))
	if got := presented(); got != "second" {
		t.Errorf("after rotation the client presents %q, want second", got)
	}
}

func TestProtocolLimits(t *testing.T) {
	f := newFixture(t)
	const (
		aesGCM   = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
		chacha   = "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
		aes256   = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
		rsaSuite = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
	)
	tests := []struct {
		name                 string
		srvSuites            []string
		srvMin, srvMax       string
		cliSuites            []string
		cliMin, cliMax       string
		wantVersion          uint16
		wantSuite            string // for TLS 1.2
		wantFail             bool
		wantFailMsgSubstring string
	}{
		{name: "defaults negotiate TLS 1.3", wantVersion: tls.VersionTLS13},
		{name: "server max TLS1.2", srvMax: VersionTLS12, wantVersion: tls.VersionTLS12},
		{name: "server max TLS1.2, client min TLS1.3", srvMax: VersionTLS12, cliMin: VersionTLS13, wantFail: true,
			wantFailMsgSubstring: "unsupported versions"},
		{name: "server min TLS1.3, client max TLS1.2", srvMin: VersionTLS13, cliMax: VersionTLS12, wantFail: true,
			wantFailMsgSubstring: "unsupported versions"},
		{name: "server suite chosen", srvSuites: []string{aes256}, srvMax: VersionTLS12,
			cliSuites: []string{aesGCM, aes256}, wantVersion: tls.VersionTLS12, wantSuite: aes256},
		{name: "no common suite", srvSuites: []string{aesGCM}, srvMax: VersionTLS12,
			cliSuites: []string{chacha}, cliMax: VersionTLS12, wantFail: true, wantFailMsgSubstring: "no cipher suite"},
		{name: "suite for another key type", srvSuites: []string{rsaSuite}, srvMax: VersionTLS12,
			wantFail: true, wantFailMsgSubstring: "no cipher suite"},
		{name: "suites do not limit TLS 1.3", srvSuites: []string{aesGCM}, wantVersion: tls.VersionTLS13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := f.serverInfo()
			info.CipherSuites, info.MinVersion, info.MaxVersion = tt.srvSuites, tt.srvMin, tt.srvMax
			srv := mustServerConfig(t, info, nil)
			cli, err := ClientConfig(Info{Role: RoleCtl, TrustedCAFile: f.caFile,
				CipherSuites: tt.cliSuites, MinVersion: tt.cliMin, MaxVersion: tt.cliMax})
			if err != nil {
				t.Fatal(err)
			}
			cli.ServerName = "localhost"
			r := handshake(t, srv, cli)
			if tt.wantFail {
				wantRejected(t, r, tt.wantFailMsgSubstring)
				return
			}
			wantOK(t, r)
			if r.state.Version != tt.wantVersion {
				t.Errorf("version = %s, want %s", tls.VersionName(r.state.Version), tls.VersionName(tt.wantVersion))
			}
			if tt.wantSuite != "" {
				if got := tls.CipherSuiteName(r.state.CipherSuite); got != tt.wantSuite {
					t.Errorf("cipher suite = %s, want %s", got, tt.wantSuite)
				}
			}
		})
	}
}

func TestInsecureSkipVerify(t *testing.T) {
	f := newFixture(t)
	srv := mustServerConfig(t, f.serverInfo(), nil)
	strict := clientConfig(t, f.otherFile, "", "")
	wantRejected(t, handshake(t, srv, strict), "bad certificate")
	cli, err := ClientConfig(Info{Role: RoleCtl, TrustedCAFile: f.otherFile, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	wantOK(t, handshake(t, srv, cli))
}

func TestServerConfigErrors(t *testing.T) {
	f := newFixture(t)
	garbage := write(t, f.dir, "garbage", []byte("not PEM"))
	otherKey := f.ca.issue(t, leaf{cn: "x"})
	otherKeyFile := write(t, f.dir, "other.key", otherKey.keyPEM)
	tests := []struct {
		name   string
		modify func(*Info)
		want   string
	}{
		{"missing cert file", func(i *Info) { i.CertFile = "/nonexistent/x.crt" },
			"--cert-file: open /nonexistent/x.crt: no such file or directory"},
		{"missing key file", func(i *Info) { i.KeyFile = "/nonexistent/x.key" },
			"--key-file: open /nonexistent/x.key: no such file or directory"},
		{"missing peer cert file", func(i *Info) { i.Role, i.CertFile = RolePeer, "/nonexistent/x.crt" },
			"--peer-cert-file: open /nonexistent/x.crt: no such file or directory"},
		{"cert without key", func(i *Info) { i.KeyFile = "" },
			"--key-file: KeyFile and CertFile must both be present[key: , cert: " + f.serverCert + "]"},
		{"key without cert", func(i *Info) { i.CertFile = "" },
			"--cert-file: KeyFile and CertFile must both be present[key: " + f.serverKey + ", cert: ]"},
		{"no certificate at all", func(i *Info) { i.CertFile, i.KeyFile = "", "" },
			"--cert-file, --key-file: KeyFile and CertFile are not presented"},
		{"key of another certificate", func(i *Info) { i.KeyFile = otherKeyFile },
			"--cert-file " + f.serverCert + ", --key-file " + otherKeyFile + ": tls: private key does not match public key"},
		{"cert file not PEM", func(i *Info) { i.CertFile = garbage },
			"--cert-file " + garbage + ", --key-file " + f.serverKey + ": tls: failed to find any PEM data in certificate input"},
		{"missing trusted CA", func(i *Info) { i.TrustedCAFile = "/nonexistent/ca.crt" },
			"--trusted-ca-file: open /nonexistent/ca.crt: no such file or directory"},
		{"trusted CA not PEM", func(i *Info) { i.TrustedCAFile = garbage },
			"--trusted-ca-file: " + garbage + ": no PEM certificates found"},
		{"missing CRL", func(i *Info) { i.ClientCertAuth, i.CRLFile = true, "/nonexistent/crl" },
			"--client-crl-file: open /nonexistent/crl: no such file or directory"},
		{"missing peer CRL", func(i *Info) { i.Role, i.ClientCertAuth, i.CRLFile = RolePeer, true, "/nonexistent/crl" },
			"--peer-crl-file: open /nonexistent/crl: no such file or directory"},
		{"CRL not a CRL", func(i *Info) { i.ClientCertAuth, i.CRLFile = true, f.caFile },
			"--client-crl-file: " + f.caFile + `: no PEM "X509 CRL" block found`},
		{"bad cipher suite", func(i *Info) { i.CipherSuites = []string{"TLS_FOO"} },
			`--cipher-suites: unexpected TLS cipher suite "TLS_FOO"`},
		{"bad version", func(i *Info) { i.MinVersion = "TLS1.1" },
			`--tls-min-version: unexpected TLS version "TLS1.1" (must be one of: TLS1.2, TLS1.3)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := f.serverInfo()
			tt.modify(&info)
			_, err := ServerConfig(info, nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("ServerConfig error =\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestClientConfigErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		info Info
		want string
	}{
		{"missing CA", Info{Role: RoleCtl, TrustedCAFile: "/x.ca"},
			"--cacert: open /x.ca: no such file or directory"},
		{"missing cert", Info{Role: RoleCtl, CertFile: "/x.crt", KeyFile: "/x.key"},
			"--cert: open /x.crt: no such file or directory"},
		{"cert without key", Info{Role: RoleCtl, CertFile: f.serverCert},
			"--key: KeyFile and CertFile must both be present[key: , cert: " + f.serverCert + "]"},
		{"peer client cert without key", Info{Role: RolePeer, CertFile: f.serverCert, KeyFile: f.serverKey, ClientCertFile: f.serverCert},
			"--peer-client-key-file: KeyFile and CertFile must both be present[key: , cert: " + f.serverCert + "]"},
		{"max below min", Info{Role: RoleCtl, MinVersion: VersionTLS13, MaxVersion: VersionTLS12},
			"min version (TLS1.3) is greater than max version (TLS1.2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ClientConfig(tt.info)
			if err == nil || err.Error() != tt.want {
				t.Errorf("ClientConfig error =\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

// TestErrorsUnwrap checks that errors keep etcd's text underneath the
// flag, for callers that print it without the flag as etcdctl does ("open
// /x: ...").
func TestErrorsUnwrap(t *testing.T) {
	_, err := ClientConfig(Info{Role: RoleCtl, TrustedCAFile: "/nonexistent/ca"})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error %v is not os.ErrNotExist", err)
	}
	if got, want := errors.Unwrap(err).Error(), "open /nonexistent/ca: no such file or directory"; got != want {
		t.Errorf("unwrapped error = %q, want %q", got, want)
	}
	_, err = ClientConfig(Info{Role: RoleCtl, KeyFile: "/x.key"})
	if got, want := errors.Unwrap(err).Error(), "KeyFile and CertFile must both be present[key: /x.key, cert: ]"; got != want {
		t.Errorf("unwrapped error = %q, want %q", got, want)
	}
}

// TestConcurrentHandshakes runs handshakes in parallel with rotations, for
// the race detector.
func TestConcurrentHandshakes(t *testing.T) {
	f := newFixture(t)
	info := f.serverInfo()
	info.ClientCertAuth, info.TrustedCAFile = true, f.caFile
	srv := mustServerConfig(t, info, nil)
	cli := f.client(t, "c", f.ca.issue(t, leaf{cn: "c"}))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				if r := handshake(t, srv, cli); !r.ok() {
					t.Errorf("handshake: server %v, client %v", r.srvErr, r.cliErr)
				}
			}
		})
	}
	for range 5 {
		writePair(t, f.dir, "server", f.ca.issue(t, leaf{cn: "s", dns: []string{"localhost"}}))
		write(t, f.dir, "ca.crt", bytes.Clone(f.ca.pem))
	}
	wg.Wait()
}
