package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"slices"

	"github.com/cairn-kv/cairn/internal/tlsutil"
)

// The mappings under which etcd's config files give TLS settings. Their keys
// are listed in the flag table (fileKey, read by yaml.go): cert-file, key-file,
// client-cert-file, client-key-file, client-cert-auth, trusted-ca-file,
// auto-tls, crl-file and allowed-hostname in both; allowed-cn and
// skip-client-san-verification under peer-transport-security only. etcd
// itself ignores crl-file there (and rejects a single string for
// allowed-cn and allowed-hostname, which Cairn reads as a comma-separated
// list).
const (
	clientSecurity = "client-transport-security"
	peerSecurity   = "peer-transport-security"
)

// fixturesDir is where auto TLS keeps a listener's generated certificate,
// as etcd does: <data-dir>/fixtures/client and <data-dir>/fixtures/peer.
func (c *Config) fixturesDir(listener string) string {
	return filepath.Join(c.DataDir, "fixtures", listener)
}

// ClientTLSInfo returns the client listener's TLS settings, for
// tlsutil.ServerConfig (and ClientConfig, for a member dialing its own
// client URLs). Auto TLS certificates go to <data-dir>/fixtures/client, valid
// for the hosts of --listen-client-urls and --listen-client-http-urls.
func (c *Config) ClientTLSInfo() tlsutil.Info {
	return tlsutil.Info{
		Role:               tlsutil.RoleClient,
		CertFile:           c.CertFile,
		KeyFile:            c.KeyFile,
		ClientCertFile:     c.ClientCertFile,
		ClientKeyFile:      c.ClientKeyFile,
		TrustedCAFile:      c.TrustedCAFile,
		CRLFile:            c.ClientCRLFile,
		ClientCertAuth:     c.ClientCertAuth,
		AllowedHostnames:   slices.Clone(c.ClientCertAllowedHostname),
		CipherSuites:       slices.Clone(c.CipherSuites),
		MinVersion:         c.TLSMinVersion,
		MaxVersion:         c.TLSMaxVersion,
		AutoTLS:            c.AutoTLS,
		AutoTLSDir:         c.fixturesDir("client"),
		AutoTLSHosts:       urlHosts(slices.Concat(c.ListenClientURLs, c.ListenClientHTTPURLs)),
		SelfSignedValidity: validityYears(c.SelfSignedCertValidity),
	}
}

// PeerTLSInfo returns the peer listener's TLS settings, which are also the
// settings a member dials its peers with (tlsutil.ClientConfig). Auto TLS
// certificates go to <data-dir>/fixtures/peer, valid for the hosts of
// --listen-peer-urls.
func (c *Config) PeerTLSInfo() tlsutil.Info {
	return tlsutil.Info{
		Role:                tlsutil.RolePeer,
		CertFile:            c.PeerCertFile,
		KeyFile:             c.PeerKeyFile,
		ClientCertFile:      c.PeerClientCertFile,
		ClientKeyFile:       c.PeerClientKeyFile,
		TrustedCAFile:       c.PeerTrustedCAFile,
		CRLFile:             c.PeerCRLFile,
		ClientCertAuth:      c.PeerClientCertAuth,
		AllowedCNs:          slices.Clone(c.PeerCertAllowedCN),
		AllowedHostnames:    slices.Clone(c.PeerCertAllowedHostname),
		SkipClientSANVerify: c.PeerSkipClientSANVerification,
		CipherSuites:        slices.Clone(c.CipherSuites),
		MinVersion:          c.TLSMinVersion,
		MaxVersion:          c.TLSMaxVersion,
		AutoTLS:             c.PeerAutoTLS,
		AutoTLSDir:          c.fixturesDir("peer"),
		AutoTLSHosts:        urlHosts(c.ListenPeerURLs),
		SelfSignedValidity:  validityYears(c.SelfSignedCertValidity),
	}
}

// urlHosts returns the distinct host names of us, in order.
func urlHosts(us []url.URL) []string {
	var hosts []string
	for _, u := range us {
		if h := u.Hostname(); h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// validityYears converts --self-signed-cert-validity, saturating: any
// value past int32 is far beyond what a certificate can encode, which
// tlsutil reports.
func validityYears(v uint) int {
	return int(min(v, math.MaxInt32))
}

// isTLS reports whether a listen URL serves TLS.
func isTLS(u url.URL) bool { return u.Scheme == "https" || u.Scheme == "unixs" }

// checkTLS applies etcd's TLS checks without reading any file: a TLS
// listener needs a certificate or auto TLS, certificates come with their
// keys, the protocol settings are valid, and auto TLS can make a certificate.
func (c *Config) checkTLS() []error {
	var errs []error
	for _, l := range []struct {
		kind              string
		urls              []url.URL
		certFlag, keyFlag string
		cert, key         string
		auto              bool
	}{
		{"client", c.ListenClientURLs, "--cert-file", "--key-file", c.CertFile, c.KeyFile, c.AutoTLS},
		{"peer", c.ListenPeerURLs, "--peer-cert-file", "--peer-key-file", c.PeerCertFile, c.PeerKeyFile, c.PeerAutoTLS},
	} {
		tlsURLs := slices.DeleteFunc(slices.Clone(l.urls), func(u url.URL) bool { return !isTLS(u) })
		if len(tlsURLs) == 0 {
			continue
		}
		if err := tlsutil.CheckPair(l.certFlag, l.keyFlag, l.cert, l.key); err != nil {
			errs = append(errs, err)
			continue
		}
		if l.cert == "" && !l.auto {
			for _, u := range tlsURLs {
				errs = append(errs, fmt.Errorf("TLS key/cert (%s, %s) must be provided for %s url %s with HTTPS scheme",
					l.certFlag, l.keyFlag, l.kind, u.String()))
			}
		}
	}
	for _, p := range []struct{ certFlag, keyFlag, cert, key string }{
		{"--client-cert-file", "--client-key-file", c.ClientCertFile, c.ClientKeyFile},
		{"--peer-client-cert-file", "--peer-client-key-file", c.PeerClientCertFile, c.PeerClientKeyFile},
	} {
		if err := tlsutil.CheckPair(p.certFlag, p.keyFlag, p.cert, p.key); err != nil {
			errs = append(errs, err)
		}
	}
	if err := tlsutil.CheckProtocol(c.CipherSuites, c.TLSMinVersion, c.TLSMaxVersion); err != nil {
		var joined interface{ Unwrap() []error }
		if errors.As(err, &joined) {
			errs = append(errs, joined.Unwrap()...)
		} else {
			errs = append(errs, err)
		}
	}
	generates := (c.AutoTLS && c.CertFile == "" && c.KeyFile == "") ||
		(c.PeerAutoTLS && c.PeerCertFile == "" && c.PeerKeyFile == "")
	if generates && c.SelfSignedCertValidity == 0 {
		errs = append(errs, errors.New("--self-signed-cert-validity must be greater than 0 (set to 0)"))
	}
	return errs
}
