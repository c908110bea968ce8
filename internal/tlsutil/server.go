package tlsutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"
)

// sanLookupTimeout bounds the DNS lookups of the peer SAN check, which run
// inside the handshake.
const sanLookupTimeout = 5 * time.Second

// lookupIPAddr resolves the DNS names of the peer SAN check; tests replace
// it to stay off the network.
var lookupIPAddr = net.DefaultResolver.LookupIPAddr

// errNotAllowed is etcd's word for a client certificate that verifies but
// matches none of the allowed CNs and host names.
var errNotAllowed = errors.New("client certificate authentication failed")

// ServerConfig returns the TLS configuration for a listener with info's
// settings. The certificate, the trusted CAs and the CRL are read now (an
// unreadable or malformed file is an error naming its flag) and re-read
// when the files change: each handshake costs a stat of each file, and a
// changed file is parsed once. A file that fails to reload (half-written
// during a rotation) leaves the previous contents in use and is logged once.
//
// Client certificates are required when info.ClientCertAuth is set or a
// trusted CA file is given (etcd's rule). They are verified against the CA
// file as it is on disk at the handshake, which tls.Config.ClientCAs cannot
// do since it is fixed: the returned config asks for any certificate
// (tls.RequireAnyClientCert) and verifies it in VerifyConnection, which also
// runs on resumed sessions. Verification then checks the CRL, the allowed
// CNs and host names, and on the peer listener the certificate's addresses.
// Because crypto/tls does not verify the chain itself,
// ConnectionState.VerifiedChains stays empty: after a successful handshake
// with client certificates required, PeerCertificates[0] is the verified
// client certificate (use its CommonName for CN-based authentication).
//
// On the peer listener with the address check on, each handshake runs with
// a per-connection copy of the returned config made by GetConfigForClient
// (the check needs the remote address). Set NextProtos and any other field
// on the returned config before serving with it: a wrapper's clone (gRPC's
// credentials.NewTLS) is not what the copies are made from.
//
// lg hears of generated certificates, reloads and failed reloads; nil
// discards them.
func ServerConfig(info Info, lg *slog.Logger) (*tls.Config, error) {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	lg = lg.With("tls", info.Role.String())
	f := info.Role.flags()
	suites, lo, hi, err := parseProtocol(info.CipherSuites, info.MinVersion, info.MaxVersion)
	if err != nil {
		return nil, err
	}

	certFile, keyFile := info.CertFile, info.KeyFile
	verifyClients := info.ClientCertAuth || info.TrustedCAFile != ""
	switch {
	case certFile != "" && keyFile != "":
		if info.AutoTLS {
			lg.Warn("ignoring auto TLS since certificates are given", "flag", f.auto, "cert-file", certFile)
		}
	case certFile != "" || keyFile != "":
		return nil, CheckPair(f.cert, f.key, certFile, keyFile)
	case info.AutoTLS:
		certFile, keyFile, err = selfCert(info, time.Now(), lg)
		if err != nil {
			return nil, err
		}
		if verifyClients {
			// Peers with certificates of their own making cannot
			// verify each other; etcd drops client authentication.
			lg.Warn("ignoring client certificate authentication and trusted CA with auto TLS", "flag", f.auto)
			verifyClients = false
		}
	default:
		return nil, fmt.Errorf("%s, %s: KeyFile and CertFile are not presented", f.cert, f.key)
	}

	s := &server{info: info, lookup: lookupIPAddr, now: time.Now}
	s.pair = watchKeyPair(certFile, keyFile, f.cert, f.key)
	s.pair.onReload = func() { lg.Info("reloaded TLS certificate", "cert-file", certFile, "key-file", keyFile) }
	s.pair.onError = func(err error) {
		lg.Warn("cannot reload TLS certificate; serving the previous one", "cert-file", certFile, "error", err)
	}
	if _, err := s.pair.get(); err != nil {
		return nil, err
	}
	if verifyClients && info.TrustedCAFile != "" {
		s.ca = watchCAs(info.TrustedCAFile, f.ca)
		s.ca.onReload = func() { lg.Info("reloaded trusted CA file", "trusted-ca-file", info.TrustedCAFile) }
		s.ca.onError = func(err error) {
			lg.Warn("cannot reload trusted CA file; trusting the previous CAs", "trusted-ca-file", info.TrustedCAFile, "error", err)
		}
		if _, err := s.ca.get(); err != nil {
			return nil, err
		}
	}
	if verifyClients && info.CRLFile != "" {
		s.crl = watchCRL(info.CRLFile, f.crl)
		s.crl.onReload = func() { lg.Info("reloaded CRL file", "crl-file", info.CRLFile) }
		s.crl.onError = func(err error) {
			lg.Warn("cannot reload CRL file; keeping the previous list", "crl-file", info.CRLFile, "error", err)
		}
		if _, err := s.crl.get(); err != nil {
			return nil, err
		}
	}

	cfg := &tls.Config{
		MinVersion:   lo,
		MaxVersion:   hi,
		CipherSuites: suites,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.pair.get()
		},
	}
	if !verifyClients {
		return cfg, nil
	}
	cfg.ClientAuth = tls.RequireAnyClientCert
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		return s.verifyClient(context.Background(), cs, nil)
	}
	if info.Role == RolePeer && !info.SkipClientSANVerify {
		cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			ctx, remote := hello.Context(), hello.Conn.RemoteAddr()
			c := cfg.Clone()
			c.GetConfigForClient = nil
			c.VerifyConnection = func(cs tls.ConnectionState) error {
				return s.verifyClient(ctx, cs, remote)
			}
			return c, nil
		}
	}
	return cfg, nil
}

// server is the state behind one ServerConfig.
type server struct {
	info Info
	pair *watched[*tls.Certificate]
	ca   *watched[*x509.CertPool] // nil: the system roots
	crl  *watched[revocationList] // nil: nothing revoked

	// lookup resolves the DNS names of the peer SAN check; now is the
	// time certificates are verified at.
	lookup func(ctx context.Context, host string) ([]net.IPAddr, error)
	now    func() time.Time
}

// verifyClient checks a client's certificate: the chain against the trusted
// CAs as they are now, for client authentication; no certificate in the
// chain revoked; the allowed CNs and host names; and, when remote is given,
// that the certificate's addresses match it.
func (s *server) verifyClient(ctx context.Context, cs tls.ConnectionState, remote net.Addr) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return errors.New("tls: client didn't provide a certificate")
	}
	var roots *x509.CertPool
	if s.ca != nil {
		roots, _ = s.ca.get() // loaded by ServerConfig: never fails after
	}
	opts := x509.VerifyOptions{
		Roots:         roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   s.now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return err
	}
	if s.crl != nil {
		revoked, _ := s.crl.get()
		for _, c := range certs {
			if revoked.has(c) {
				return fmt.Errorf("certificate serial %x revoked", c.SerialNumber)
			}
		}
	}
	if len(s.info.AllowedCNs) > 0 || len(s.info.AllowedHostnames) > 0 {
		if !allowed(certs[0], s.info.AllowedCNs, s.info.AllowedHostnames) {
			return errNotAllowed
		}
	}
	if remote != nil {
		return s.checkSAN(ctx, certs[0], remote)
	}
	return nil
}

// allowed reports whether cert's common name is one of cns or cert is valid
// for one of hosts.
func allowed(cert *x509.Certificate, cns, hosts []string) bool {
	if slices.Contains(cns, cert.Subject.CommonName) {
		return true
	}
	for _, h := range hosts {
		if cert.VerifyHostname(h) == nil {
			return true
		}
	}
	return false
}

// checkSAN is the peer listener's address check: a client certificate that
// names IP addresses or DNS names must be valid for the address the
// connection comes from, directly or through one of its DNS names. It keeps
// a certificate stolen from one member from being used from another host.
// Certificates without such names, and connections without an IP address
// (unix sockets), pass.
func (s *server) checkSAN(ctx context.Context, cert *x509.Certificate, remote net.Addr) error {
	if len(cert.IPAddresses) == 0 && len(cert.DNSNames) == 0 {
		return nil
	}
	tcp, ok := remote.(*net.TCPAddr)
	if !ok {
		return nil
	}
	host := tcp.IP.String()
	var ipErr error
	if len(cert.IPAddresses) > 0 {
		if ipErr = cert.VerifyHostname(host); ipErr == nil {
			return nil
		}
	}
	if len(cert.DNSNames) == 0 {
		return ipErr
	}
	ctx, cancel := context.WithTimeout(ctx, sanLookupTimeout)
	defer cancel()
	var lookupErrs []string
	for _, name := range cert.DNSNames {
		if strings.HasPrefix(name, "*.") {
			continue // a wildcard resolves to nothing
		}
		addrs, err := s.lookup(ctx, name)
		if err != nil {
			lookupErrs = append(lookupErrs, err.Error())
			continue
		}
		for _, a := range addrs {
			if a.IP.Equal(tcp.IP) {
				return nil
			}
		}
	}
	err := fmt.Errorf("tls: %q does not match any of DNSNames %q", host, cert.DNSNames)
	if len(lookupErrs) > 0 {
		err = fmt.Errorf("%w (%s)", err, strings.Join(lookupErrs, "; "))
	}
	return err
}
