package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// This file is a small PKI for the tests: CAs, certificates issued by them
// with the names, usages and lifetimes a test needs, CRLs, and a handshake
// between two configs.

var serials atomic.Int64

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCA(t *testing.T, cn string) *testCA { return makeCA(t, cn, nil) }

// intermediate issues a CA certificate signed by ca.
func (ca *testCA) intermediate(t *testing.T, cn string) *testCA { return makeCA(t, cn, ca) }

// makeCA makes a CA signed by parent, or self-signed when parent is nil.
func makeCA(t *testing.T, cn string, parent *testCA) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serials.Add(1)),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf describes a certificate to issue.
type leaf struct {
	cn  string
	dns []string
	ips []string
	// usage defaults to server and client authentication.
	usage []x509.ExtKeyUsage
	// notBefore and notAfter default to an hour ago and a day ahead.
	notBefore, notAfter time.Time
}

// issued is a certificate with its key, in PEM and parsed.
type issued struct {
	certPEM, keyPEM []byte
	cert            *x509.Certificate
}

func (ca *testCA) issue(t *testing.T, l leaf) issued {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serials.Add(1)),
		Subject:      pkix.Name{CommonName: l.cn},
		DNSNames:     l.dns,
		NotBefore:    l.notBefore,
		NotAfter:     l.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  l.usage,
	}
	for _, ip := range l.ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	if tmpl.ExtKeyUsage == nil {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return issued{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		cert:    cert,
	}
}

// crl returns a CRL signed by ca revoking the given certificates, in DER.
func (ca *testCA) crl(t *testing.T, revoked ...*x509.Certificate) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(serials.Add(1)),
		ThisUpdate: time.Now().Add(-time.Minute),
		NextUpdate: time.Now().Add(time.Hour),
	}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// write writes data to name in dir and returns its path.
func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writePair writes a certificate and key as name.crt and name.key.
func writePair(t *testing.T, dir, name string, c issued) (certPath, keyPath string) {
	t.Helper()
	return write(t, dir, name+".crt", c.certPEM), write(t, dir, name+".key", c.keyPEM)
}

// result is what one handshake showed each side.
type result struct {
	srvErr, cliErr error
	// state and srvState are the client's and the server's view of a
	// successful handshake.
	state, srvState tls.ConnectionState
}

func (r result) ok() bool { return r.srvErr == nil && r.cliErr == nil }

// handshake connects a client with cli to a server with srv over TCP on
// 127.0.0.1 (net.Pipe has no buffer: a side that aborts mid-flight would
// block the other) and returns what each side saw. After its handshake the
// server sends one byte and the client reads it, so that a rejection the
// server decides after the client's last flight (TLS 1.3 client
// certificates) reaches the client.
func handshake(t *testing.T, srv, cli *tls.Config) result {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	cc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	deadline := time.Now().Add(10 * time.Second)
	_ = sc.SetDeadline(deadline)
	_ = cc.SetDeadline(deadline)

	srvErr := make(chan error, 1)
	var srvState tls.ConnectionState
	go func() {
		s := tls.Server(sc, srv)
		defer s.Close()
		err := s.Handshake()
		if err == nil {
			srvState = s.ConnectionState()
			_, err = s.Write([]byte{'x'})
		}
		srvErr <- err
	}()
	c := tls.Client(cc, cli)
	defer c.Close()
	var r result
	r.cliErr = c.Handshake()
	if r.cliErr == nil {
		// Read may return the byte with io.EOF, when the server's
		// close_notify came with it.
		if n, err := c.Read(make([]byte, 1)); n == 0 {
			r.cliErr = err
		}
		r.state = c.ConnectionState()
	}
	r.srvErr = <-srvErr
	r.srvState = srvState
	return r
}

// clientConfig is a dialing config for etcdctl trusting caFile and
// presenting the given pair (none when certPath is empty), for the server
// name "localhost".
func clientConfig(t *testing.T, caFile, certPath, keyPath string) *tls.Config {
	t.Helper()
	cfg, err := ClientConfig(Info{Role: RoleCtl, TrustedCAFile: caFile, CertFile: certPath, KeyFile: keyPath})
	if err != nil {
		t.Fatal(err)
	}
	cfg.ServerName = "localhost"
	return cfg
}
