// Package tlsutil builds the TLS configurations of the server's client and
// peer listeners, of a member dialing its peers, and of etcdctl, from the
// settings etcd's flags give (Info).
//
// # Serving
//
//	info := cfg.ClientTLSInfo()            // from internal/config
//	tc, err := tlsutil.ServerConfig(info, lg)
//	tc.NextProtos = []string{"h2", "http/1.1"}
//	l = tls.NewListener(l, tc)
//
// ServerConfig reads the certificate, key, trusted CA bundle and CRL once
// to report bad files at startup ("--cert-file: open /x.crt: no such file or
// directory"), then keeps them current: every handshake stats the files and
// a changed file is parsed again, so certificates, CA bundles and CRLs are
// rotated by replacing the files, without a restart. A replacement that does
// not parse (half-written, key not yet matching the certificate) leaves the
// previous contents in use and is logged once.
//
// Client certificates are required with ClientCertAuth or a trusted CA
// file, as in etcd, and verified in VerifyConnection against the CA bundle
// as it is on disk; then revocation (CRLFile), the allowed CNs and host
// names, and on the peer listener the certificate's IP and DNS names
// against the connection's address (unless SkipClientSANVerify).
// Rejections surface as handshake errors; the listener's owner logs them.
//
// # Dialing
//
// ClientConfig verifies servers against the trusted CA file (read once) and
// presents a client certificate that is reloaded like the server's.
//
// # Auto TLS
//
// With AutoTLS and no certificate given, a self-signed ECDSA P-256
// certificate for AutoTLSHosts is generated into AutoTLSDir (etcd's
// <data-dir>/fixtures/client and fixtures/peer, files cert.pem and key.pem)
// and reused on later starts until it expires. Members using it do not
// verify each other, as in etcd.
//
// # Protocol
//
// MinVersion and MaxVersion take etcd's values TLS1.2 and TLS1.3;
// CipherSuites takes Go's suite names. CheckProtocol applies etcd's checks,
// with etcd's messages, for configuration validation.
package tlsutil
