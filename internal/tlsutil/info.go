package tlsutil

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
)

// Role says which set of flags an Info comes from. It names the flags in
// error messages and decides one behaviour: only the peer listener checks
// that a client certificate's addresses match the connection (see
// Info.SkipClientSANVerify), as etcd's peer listener does.
type Role int

const (
	// RoleClient is the client listener: --cert-file, --key-file,
	// --trusted-ca-file, --client-crl-file, --auto-tls.
	RoleClient Role = iota
	// RolePeer is the peer listener and the member's connections to other
	// members: --peer-cert-file, --peer-key-file, --peer-trusted-ca-file,
	// --peer-crl-file, --peer-auto-tls.
	RolePeer
	// RoleCtl is etcdctl: --cert, --key, --cacert.
	RoleCtl
)

// String names the role as log lines do: "client", "peer" or "etcdctl".
func (r Role) String() string {
	switch r {
	case RoleClient:
		return "client"
	case RolePeer:
		return "peer"
	case RoleCtl:
		return "etcdctl"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// flagNames are the command-line names of one role's settings, used to say
// which flag a file error belongs to.
type flagNames struct {
	cert, key, clientCert, clientKey, ca, crl, auto string
}

func (r Role) flags() flagNames {
	switch r {
	case RolePeer:
		return flagNames{"--peer-cert-file", "--peer-key-file", "--peer-client-cert-file", "--peer-client-key-file",
			"--peer-trusted-ca-file", "--peer-crl-file", "--peer-auto-tls"}
	case RoleCtl:
		return flagNames{"--cert", "--key", "--cert", "--key", "--cacert", "--crl-file", "--auto-tls"}
	}
	return flagNames{"--cert-file", "--key-file", "--client-cert-file", "--client-key-file",
		"--trusted-ca-file", "--client-crl-file", "--auto-tls"}
}

// Info holds one listener's (or one client's) TLS settings, as the flags
// give them: file paths are read by ServerConfig and ClientConfig, and
// re-read when the files change.
type Info struct {
	// Role says which flags these settings come from.
	Role Role

	// CertFile and KeyFile are the PEM certificate (chain) and private key
	// a server presents. A client presents them too, unless ClientCertFile
	// and ClientKeyFile are given.
	CertFile, KeyFile string
	// ClientCertFile and ClientKeyFile are the pair a member presents when
	// it dials (--client-cert-file, --peer-client-cert-file), for
	// certificates that are valid for client authentication only.
	ClientCertFile, ClientKeyFile string
	// TrustedCAFile is a PEM bundle of the CAs that sign client
	// certificates (servers) or server certificates (clients). For a
	// server, giving it turns client certificate authentication on, as in
	// etcd.
	TrustedCAFile string
	// CRLFile lists revoked certificates (PEM or DER); a client
	// certificate whose serial number it holds is refused.
	CRLFile string
	// ClientCertAuth makes a server require a client certificate signed by
	// a CA in TrustedCAFile (or, without one, by a system root).
	ClientCertAuth bool

	// AllowedCNs and AllowedHostnames restrict client certificates further:
	// when either is set, a certificate is accepted only if its common
	// name is in AllowedCNs or it is valid for one of AllowedHostnames.
	AllowedCNs       []string
	AllowedHostnames []string
	// SkipClientSANVerify turns off the peer listener's check that a
	// client certificate carrying IP or DNS names is valid for the address
	// the connection comes from. Other roles never check.
	SkipClientSANVerify bool

	// CipherSuites are Go's names of the TLS 1.2 cipher suites allowed
	// (tls.CipherSuiteName); empty means Go's defaults.
	CipherSuites []string
	// MinVersion and MaxVersion are "TLS1.2" or "TLS1.3"; empty means Go's
	// default.
	MinVersion, MaxVersion string

	// AutoTLS, when CertFile and KeyFile are empty, serves a self-signed
	// certificate kept in AutoTLSDir (generated on first use, reused
	// after) and valid for AutoTLSHosts. A self-signed member cannot be
	// verified by its peers, so with AutoTLS clients skip verification and
	// servers do not ask for client certificates, as in etcd.
	AutoTLS bool
	// AutoTLSDir is where the generated cert.pem and key.pem live:
	// <data-dir>/fixtures/client or <data-dir>/fixtures/peer.
	AutoTLSDir string
	// AutoTLSHosts are the host names and IP addresses the generated
	// certificate is valid for: the hosts of the listen URLs.
	AutoTLSHosts []string
	// SelfSignedValidity is the generated certificate's lifetime in years
	// (--self-signed-cert-validity).
	SelfSignedValidity int

	// InsecureSkipVerify makes a client accept any server certificate
	// (etcdctl --insecure-skip-tls-verify).
	InsecureSkipVerify bool
}

// selfSigned reports whether the Info serves a generated certificate: auto
// TLS asked for and no certificate given.
func (info Info) selfSigned() bool {
	return info.AutoTLS && info.CertFile == "" && info.KeyFile == ""
}

// CheckPair reports a certificate given without its key or the other way
// round, in etcd's words prefixed with the missing flag:
// "--key-file: KeyFile and CertFile must both be present[key: , cert: /x.crt]".
// errors.Unwrap gives etcd's text alone, as etcdctl prints it. Both or
// neither is fine.
func CheckPair(certFlag, keyFlag, certFile, keyFile string) error {
	if (certFile == "") == (keyFile == "") {
		return nil
	}
	flag := keyFlag
	if certFile == "" {
		flag = certFlag
	}
	return fmt.Errorf("%s: %w", flag, fmt.Errorf("KeyFile and CertFile must both be present[key: %s, cert: %s]", keyFile, certFile))
}

// The TLS versions --tls-min-version and --tls-max-version accept.
const (
	VersionTLS12 = "TLS1.2"
	VersionTLS13 = "TLS1.3"
)

// ParseVersion maps a --tls-min-version or --tls-max-version value to Go's
// constant; the empty string is 0, Go's default.
func ParseVersion(s string) (uint16, error) {
	switch s {
	case "":
		return 0, nil
	case VersionTLS12:
		return tls.VersionTLS12, nil
	case VersionTLS13:
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("unexpected TLS version %q (must be one of: %s, %s)", s, VersionTLS12, VersionTLS13)
}

// ParseCipherSuites maps Go's cipher suite names (tls.CipherSuiteName) to
// their IDs, in the order given. Names are taken verbatim: " X" is not "X".
func ParseCipherSuites(names []string) ([]uint16, error) {
	if len(names) == 0 {
		return nil, nil
	}
	ids := make([]uint16, 0, len(names))
	for _, name := range names {
		id, ok := cipherSuiteID(name)
		if !ok {
			return nil, fmt.Errorf("unexpected TLS cipher suite %q", name)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func cipherSuiteID(name string) (uint16, bool) {
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		if i := slices.IndexFunc(list, func(cs *tls.CipherSuite) bool { return cs.Name == name }); i >= 0 {
			return list[i].ID, true
		}
	}
	return 0, false
}

// CheckProtocol applies etcd's rules to --cipher-suites, --tls-min-version
// and --tls-max-version: known names only, a minimum not above the maximum,
// and no cipher suites when only TLS 1.3 is allowed (TLS 1.3 suites are not
// configurable). It returns every problem, one line each, or nil.
func CheckProtocol(cipherSuites []string, minVersion, maxVersion string) error {
	_, _, _, err := parseProtocol(cipherSuites, minVersion, maxVersion)
	return err
}

func parseProtocol(cipherSuites []string, minVersion, maxVersion string) (suites []uint16, lo, hi uint16, err error) {
	var errs []error
	suites, err = ParseCipherSuites(cipherSuites)
	if err != nil {
		errs = append(errs, fmt.Errorf("--cipher-suites: %w", err))
	}
	lo, err = ParseVersion(minVersion)
	if err != nil {
		errs = append(errs, fmt.Errorf("--tls-min-version: %w", err))
	}
	hi, err = ParseVersion(maxVersion)
	if err != nil {
		errs = append(errs, fmt.Errorf("--tls-max-version: %w", err))
	}
	if lo != 0 && hi != 0 && lo > hi {
		errs = append(errs, fmt.Errorf("min version (%s) is greater than max version (%s)", minVersion, maxVersion))
	}
	if lo == tls.VersionTLS13 && len(cipherSuites) > 0 {
		errs = append(errs, errors.New("cipher suites cannot be configured when only TLS1.3 is enabled"))
	}
	if len(errs) > 0 {
		return nil, 0, 0, errors.Join(errs...)
	}
	return suites, lo, hi, nil
}
