package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/server"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// startTLSMember starts a member serving clients over https with
// --client-cert-auth and the given certificate and trusted CA files.
func startTLSMember(t *testing.T, certFile, keyFile, caFile string, opts ...testutil.Option) (*testutil.Member, url.URL) {
	t.Helper()
	u := freeURL(t, "https")
	m := testutil.StartMember(t, append([]testutil.Option{func(c *config.Config) {
		c.ListenClientURLs, c.AdvertiseClientURLs = []url.URL{u}, []url.URL{u}
		c.CertFile, c.KeyFile, c.TrustedCAFile, c.ClientCertAuth = certFile, keyFile, caFile, true
	}}, opts...)...)
	return m, u
}

// TestEtcdctlSeedCommandOverTLS runs the seed's command line, client
// certificate and all, against a member that requires client certificates.
func TestEtcdctlSeedCommandOverTLS(t *testing.T) {
	ca := testutil.NewCA(t, "cairn")
	serverCert, serverKey := ca.Issue("server")
	m, u := startTLSMember(t, serverCert, serverKey, ca.CertFile)
	cli, err := tlsClient(t, m.Endpoint, ca.ClientTLS(serverCert, serverKey))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	var want strings.Builder
	for i := range 12 {
		k := fmt.Sprintf("/registry/k%02d", i)
		if _, err := cli.Put(ctx, k, "v"); err != nil {
			t.Fatal(err)
		}
		if i < 10 {
			want.WriteString(k + "\n\n")
		}
	}
	ep := "--endpoints=" + u.String()
	code, stdout, stderr := ctlRun("", ep, "--cacert", ca.CertFile, "--cert", serverCert, "--key", serverKey,
		"get", "/", "--prefix", "--keys-only", "--limit=10")
	if code != 0 || stdout != want.String() || stderr != "" {
		t.Fatalf("seed command: exit %d\nstdout %q\nwant   %q\nstderr %q", code, stdout, want.String(), stderr)
	}
	// The endpoint without a scheme works the same once TLS flags are given.
	if code, stdout, _ := ctlRun("", "--endpoints="+m.Endpoint, "--cacert="+ca.CertFile, "--cert="+serverCert, "--key="+serverKey,
		"get", "/registry/k00", "--print-value-only"); code != 0 || stdout != "v\n" {
		t.Fatalf("endpoint without scheme: exit %d %q", code, stdout)
	}
	// --insecure-skip-tls-verify trusts any server certificate.
	if code, stdout, stderr := ctlRun("", ep, "--insecure-skip-tls-verify", "--cert", serverCert, "--key", serverKey,
		"get", "/registry/k00", "--print-value-only"); code != 0 || stdout != "v\n" {
		t.Fatalf("--insecure-skip-tls-verify: exit %d %q %q", code, stdout, stderr)
	}
	// Without a client certificate, or trusting another CA, nothing works.
	other := testutil.NewCA(t, "other")
	for name, args := range map[string][]string{
		"no client certificate": {"--cacert", ca.CertFile},
		"untrusted server":      {"--cacert", other.CertFile, "--cert", serverCert, "--key", serverKey},
	} {
		args = append(append([]string{ep, "--dial-timeout=1s", "--command-timeout=2s"}, args...), "get", "/", "--prefix")
		if code, stdout, _ := ctlRun("", args...); code == 0 || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q", name, code, stdout)
		}
	}
}

// peerHTTP is an HTTP/2 client for a peer URL (the peer listener speaks
// only HTTP/2) with the given TLS settings.
func peerHTTP(cfg *tls.Config) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}
}

// TestPeerTLSRefusesUntrustedMembers runs three members over peer TLS with
// --peer-client-cert-auth and --peer-cert-allowed-cn: the peer listener
// refuses connections without a certificate, with another CA's
// certificate or with a certificate of the right CA for another name, and a
// member whose certificate the cluster does not trust cannot join.
func TestPeerTLSRefusesUntrustedMembers(t *testing.T) {
	ca := testutil.NewCA(t, "peers")
	other := testutil.NewCA(t, "other")
	cert, key := ca.Issue("peer")
	wrongCNCert, wrongCNKey := ca.Issue("intruder")
	foreignCert, foreignKey := other.Issue("peer")
	c := testutil.StartCluster(t, 3, func(cfg *config.Config) {
		for i := range cfg.ListenPeerURLs {
			cfg.ListenPeerURLs[i].Scheme = "https"
		}
		for i := range cfg.InitialAdvertisePeerURLs {
			cfg.InitialAdvertisePeerURLs[i].Scheme = "https"
		}
		cfg.PeerCertFile, cfg.PeerKeyFile, cfg.PeerTrustedCAFile, cfg.PeerClientCertAuth = cert, key, ca.CertFile, true
		cfg.PeerCertAllowedCN = []string{"peer"}
	})
	ctx := ctxT(t)
	cli := c.Client(t)
	if _, err := cli.Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	peerURL := c.Members[0].Config.InitialAdvertisePeerURLs[0].String()
	resp, err := peerHTTP(ca.ClientTLS(cert, key)).Get(peerURL + "/version")
	if err != nil {
		t.Fatalf("a member's own certificate is refused: %v", err)
	}
	resp.Body.Close()
	for name, cfg := range map[string]*tls.Config{
		"no certificate":      ca.ClientTLS("", ""),
		"other CA":            ca.ClientTLS(foreignCert, foreignKey),
		"CN not allowed":      ca.ClientTLS(wrongCNCert, wrongCNKey),
		"raft without a cert": ca.ClientTLS("", ""),
	} {
		path := "/version"
		if strings.HasPrefix(name, "raft") {
			path = "/raft"
		}
		if resp, err := peerHTTP(cfg).Post(peerURL+path, "application/octet-stream", strings.NewReader("x")); err == nil {
			resp.Body.Close()
			t.Errorf("%s: the peer listener answered %d", name, resp.StatusCode)
		}
	}

	// A member presenting another CA's certificate (with an allowed CN,
	// and trusting the cluster's CA) is added, but cannot join; the same
	// member with the cluster's certificate can.
	join := func(name, certFile, keyFile string) (uint64, error) {
		t.Helper()
		peer := freeURL(t, "https")
		added, err := cli.MemberAddAsLearner(ctx, []string{peer.String()})
		if err != nil {
			t.Fatal(err)
		}
		cfg := config.Default()
		cfg.Name, cfg.DataDir = name, t.TempDir()
		client := freeURL(t, "http")
		cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []url.URL{client}, []url.URL{client}
		cfg.ListenPeerURLs, cfg.InitialAdvertisePeerURLs = []url.URL{peer}, []url.URL{peer}
		cfg.ElectionTimeout, cfg.HeartbeatInterval = 500*time.Millisecond, 50*time.Millisecond
		cfg.InitialClusterToken = c.Members[0].Config.InitialClusterToken
		cfg.InitialCluster = map[string][]url.URL{cfg.Name: {peer}}
		for _, m := range c.Members {
			cfg.InitialCluster[m.Config.Name] = m.Config.InitialAdvertisePeerURLs
		}
		cfg.InitialClusterState = config.ClusterStateExisting
		cfg.PeerCertFile, cfg.PeerKeyFile, cfg.PeerTrustedCAFile, cfg.PeerClientCertAuth = certFile, keyFile, ca.CertFile, true
		cfg.PeerCertAllowedCN = []string{"peer"}
		srv, err := server.New(cfg, testutil.Logger(t))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err = srv.Start(sctx)
		t.Cleanup(func() { srv.Close() })
		return added.Member.ID, err
	}
	intruder, err := join("intruder", foreignCert, foreignKey)
	if err == nil {
		t.Fatal("a member with an untrusted certificate joined")
	}
	t.Logf("the intruder could not join: %v", err)
	ml, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ml.Members {
		if m.ID == intruder && (m.Name != "" || len(m.ClientURLs) > 0) {
			t.Fatalf("the intruder published itself: %v", m)
		}
	}
	if _, err := cli.MemberRemove(ctx, intruder); err != nil {
		t.Fatal(err)
	}
	if _, err := join("newcomer", cert, key); err != nil {
		t.Fatalf("a member with the cluster's certificate cannot join: %v", err)
	}
	if _, err := cli.Put(ctx, "k", "v2"); err != nil {
		t.Fatalf("the cluster after the intrusion: %v", err)
	}
}

// serverSerial returns the serial number of the certificate the TLS
// listener at addr presents.
func serverSerial(t *testing.T, addr string, cfg *tls.Config) (*big.Int, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// With TLS 1.3 the server checks the client certificate after the
	// client's handshake is done: a read tells whether it was accepted.
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := conn.Read(make([]byte, 1)); err != nil && !os.IsTimeout(err) {
		return nil, err
	}
	return conn.ConnectionState().PeerCertificates[0].SerialNumber, nil
}

// TestClientCertificateRotation replaces the client listener's certificate
// and trusted CA bundle on disk while the member runs: new connections get
// the new certificate and certificates of the newly trusted CA, existing
// clients keep working, and a plain http listener beside the https one
// serves all along.
func TestClientCertificateRotation(t *testing.T) {
	ca := testutil.NewCA(t, "cairn")
	next := testutil.NewCA(t, "next")
	serverCert, serverKey := ca.Issue("server")
	clientCert, clientKey := ca.Issue("client")
	nextCert, nextKey := next.Issue("client")
	plain := freeURL(t, "http")
	m, u := startTLSMember(t, serverCert, serverKey, ca.CertFile, func(c *config.Config) {
		c.ListenClientURLs = append(c.ListenClientURLs, plain)
	})
	old, err := serverSerial(t, u.Host, ca.ClientTLS(clientCert, clientKey))
	if err != nil {
		t.Fatal(err)
	}
	existing, err := tlsClient(t, m.Endpoint, ca.ClientTLS(clientCert, clientKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlsClient(t, m.Endpoint, ca.ClientTLS(nextCert, nextKey)); err == nil {
		t.Fatal("a certificate of a CA not yet trusted was accepted")
	}
	plainCli, err := clientOver(t, plain.Host)
	if err != nil {
		t.Fatalf("plain http listener beside https: %v", err)
	}

	// A new server certificate, and a bundle trusting both CAs.
	ca.Issue("server")
	caPEM, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	nextPEM, err := os.ReadFile(next.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca.CertFile, append(caPEM, nextPEM...), 0o600); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		serial, err := serverSerial(t, u.Host, ca.ClientTLS(clientCert, clientKey))
		if err == nil && serial.Cmp(old) != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new certificate is not served: serial %v (old %v), %v", serial, old, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := tlsClient(t, m.Endpoint, ca.ClientTLS(nextCert, nextKey)); err != nil {
		t.Fatalf("a certificate of the newly trusted CA: %v", err)
	}
	ctx := ctxT(t)
	if _, err := existing.Put(ctx, "after", "rotation"); err != nil {
		t.Fatalf("existing client after the rotation: %v", err)
	}
	if r, err := plainCli.Get(ctx, "after"); err != nil || len(r.Kvs) != 1 {
		t.Fatalf("plain listener after the rotation: %v %v", r, err)
	}
}

// TestTLSProtocolFlags: --tls-min-version, --tls-max-version and
// --cipher-suites bound what the client listener negotiates.
func TestTLSProtocolFlags(t *testing.T) {
	ca := testutil.NewCA(t, "cairn")
	serverCert, serverKey := ca.Issue("server")
	clientCert, clientKey := ca.Issue("client")
	with := func(f func(*tls.Config)) *tls.Config {
		cfg := ca.ClientTLS(clientCert, clientKey)
		f(cfg)
		return cfg
	}
	t.Run("min TLS1.3", func(t *testing.T) {
		_, u := startTLSMember(t, serverCert, serverKey, ca.CertFile, func(c *config.Config) { c.TLSMinVersion = "TLS1.3" })
		if _, err := serverSerial(t, u.Host, with(func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })); err == nil {
			t.Error("a TLS 1.2 client was served")
		}
		if _, err := serverSerial(t, u.Host, with(func(c *tls.Config) {})); err != nil {
			t.Errorf("a TLS 1.3 client: %v", err)
		}
	})
	t.Run("max TLS1.2 with cipher suites", func(t *testing.T) {
		_, u := startTLSMember(t, serverCert, serverKey, ca.CertFile, func(c *config.Config) {
			c.TLSMaxVersion = "TLS1.2"
			c.CipherSuites = []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}
		})
		if _, err := serverSerial(t, u.Host, with(func(c *tls.Config) {
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
		})); err == nil {
			t.Error("a client without the allowed cipher suite was served")
		}
		conn, err := tls.Dial("tcp", u.Host, with(func(c *tls.Config) {}))
		if err != nil {
			t.Fatal(err)
		}
		st := conn.ConnectionState()
		conn.Close()
		if st.Version != tls.VersionTLS12 || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
			t.Errorf("negotiated %x %s", st.Version, tls.CipherSuiteName(st.CipherSuite))
		}
	})
}

// clientOver is a plain clientv3 client of one endpoint that has written
// once.
func clientOver(t *testing.T, ep string) (*clientv3.Client, error) {
	return tlsClient(t, ep, nil)
}

// TestRejectedConnectionLogged: a refused TLS handshake is logged as
// etcd's "rejected connection" warning, in the member's own log.
func TestRejectedConnectionLogged(t *testing.T) {
	ca := testutil.NewCA(t, "cairn")
	serverCert, serverKey := ca.Issue("server")
	secure := freeURL(t, "https")
	_, logs := startLogged(t, func(c *config.Config) {
		c.ListenClientURLs = append(c.ListenClientURLs, secure)
		c.CertFile, c.KeyFile, c.TrustedCAFile, c.ClientCertAuth = serverCert, serverKey, ca.CertFile, true
	})
	if _, err := serverSerial(t, secure.Host, ca.ClientTLS("", "")); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	lines := logs.find(t, "rejected connection", func(l map[string]any) bool {
		addr, _ := l["remote-addr"].(string)
		return strings.HasPrefix(addr, "127.0.0.1:") && strings.Contains(fmt.Sprint(l["error"]), "certificate")
	})
	if len(lines) == 0 {
		t.Fatalf("no rejected connection logged:\n%s", logs)
	}
}

// TestAutoTLS runs three members on self-signed certificates for both
// clients and peers (--auto-tls, --peer-auto-tls): they replicate to each
// other, and etcdctl reaches them with --insecure-skip-tls-verify but not
// while it verifies the certificate.
func TestAutoTLS(t *testing.T) {
	c := testutil.StartCluster(t, 3, func(cfg *config.Config) {
		for _, us := range [][]url.URL{cfg.ListenClientURLs, cfg.AdvertiseClientURLs, cfg.ListenPeerURLs, cfg.InitialAdvertisePeerURLs} {
			for i := range us {
				us[i].Scheme = "https"
			}
		}
		cfg.AutoTLS, cfg.PeerAutoTLS = true, true
	})
	ep := "--endpoints=" + c.Members[0].Config.AdvertiseClientURLs[0].String()
	if code, out, errOut := ctlRun("", ep, "--insecure-skip-tls-verify", "put", "k", "v"); code != 0 || out != "OK\n" {
		t.Fatalf("put with --insecure-skip-tls-verify: %d %q %q", code, out, errOut)
	}
	for _, m := range c.Members[1:] {
		ep := "--endpoints=" + m.Config.AdvertiseClientURLs[0].String()
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, out, errOut := ctlRun("", ep, "--insecure-skip-tls-verify", "get", "k", "--print-value-only", "--consistency=s")
			if code == 0 && out == "v\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d %q %q", m.Config.Name, code, out, errOut)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if code, _, _ := ctlRun("", ep, "--insecure-transport=false", "--dial-timeout=1s", "--command-timeout=2s", "get", "k"); code == 0 {
		t.Fatal("a self-signed certificate was trusted")
	}
}

// TestClientCRL: with --client-crl-file a client certificate of the
// trusted CA whose serial the list revokes is refused.
func TestClientCRL(t *testing.T) {
	ca := testutil.NewCA(t, "cairn")
	serverCert, serverKey := ca.Issue("server")
	goodCert, goodKey := ca.Issue("good")
	badCert, badKey := ca.Issue("revoked")
	crlFile := writeCRL(t, badCert)
	m, _ := startTLSMember(t, serverCert, serverKey, ca.CertFile, func(c *config.Config) { c.ClientCRLFile = crlFile })
	if _, err := tlsClient(t, m.Endpoint, ca.ClientTLS(goodCert, goodKey)); err != nil {
		t.Fatalf("a certificate not revoked: %v", err)
	}
	if _, err := tlsClient(t, m.Endpoint, ca.ClientTLS(badCert, badKey)); err == nil {
		t.Fatal("a revoked certificate was accepted")
	}
}

// writeCRL writes a CRL revoking the certificate in certFile. The test CA
// keeps its key to itself, and the server matches revoked serial numbers
// whoever signed the list, as etcd does, so a key of the test's own
// signs it.
func writeCRL(t *testing.T, certFile string) string {
	t.Helper()
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuer := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "crl signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCRLSign | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, issuer, issuer, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if issuer, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: cert.SerialNumber, RevocationTime: time.Now()}},
	}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "client.crl")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
