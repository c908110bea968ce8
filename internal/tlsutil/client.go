package tlsutil

import (
	"crypto/tls"
	"log/slog"
	"time"
)

// ClientConfig returns the TLS configuration for dialing with info's
// settings: a member dialing its peers (RolePeer), or etcdctl (RoleCtl).
// The server certificate is verified against info.TrustedCAFile (the system
// roots without one) and the server name the dialer sets (tls.Dial and gRPC
// set it from the address). The client certificate, ClientCertFile and
// ClientKeyFile or else CertFile and KeyFile, is read now and re-read when
// its files change, keeping the previous one if a reload fails.
//
// The trusted CAs are read once: a dialing config cannot swap its roots per
// connection without knowing each connection's server name, which for an
// IP address the TLS state does not carry. Build a new config to pick up a
// changed CA file.
//
// With auto TLS and no certificate given, the member presents its
// generated certificate and, like etcd, does not verify the server's: its
// peers' certificates are self-signed too.
func ClientConfig(info Info) (*tls.Config, error) {
	f := info.Role.flags()
	suites, lo, hi, err := parseProtocol(info.CipherSuites, info.MinVersion, info.MaxVersion)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:         lo,
		MaxVersion:         hi,
		CipherSuites:       suites,
		InsecureSkipVerify: info.InsecureSkipVerify,
	}

	certFile, keyFile, certFlag, keyFlag := info.CertFile, info.KeyFile, f.cert, f.key
	if info.ClientCertFile != "" || info.ClientKeyFile != "" {
		certFile, keyFile, certFlag, keyFlag = info.ClientCertFile, info.ClientKeyFile, f.clientCert, f.clientKey
	}
	selfSigned := false
	switch {
	case certFile != "" && keyFile != "":
	case certFile != "" || keyFile != "":
		return nil, CheckPair(certFlag, keyFlag, certFile, keyFile)
	case info.AutoTLS:
		certFile, keyFile, err = selfCert(info, time.Now(), slog.New(slog.DiscardHandler))
		if err != nil {
			return nil, err
		}
		certFlag, keyFlag = f.auto, f.auto
		selfSigned = true
	}

	if selfSigned {
		cfg.InsecureSkipVerify = true
	} else if info.TrustedCAFile != "" {
		pool, err := watchCAs(info.TrustedCAFile, f.ca).get()
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if certFile != "" {
		pair := watchKeyPair(certFile, keyFile, certFlag, keyFlag)
		if _, err := pair.get(); err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return pair.get()
		}
	}
	return cfg, nil
}
