package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The files auto TLS keeps in Info.AutoTLSDir, named as etcd names them.
const (
	SelfCertFile = "cert.pem"
	SelfKeyFile  = "key.pem"
)

// selfCertMu serialises generation, so that a server and a client config
// built at once for the same directory agree on one certificate.
var selfCertMu sync.Mutex

// selfCert returns the paths of a self-signed certificate and key in
// info.AutoTLSDir, generating them unless a usable pair is there already
// (one that loads and has not expired: etcd reuses whatever it finds, which
// leaves a member with an expired certificate after a year).
func selfCert(info Info, now time.Time, lg *slog.Logger) (certPath, keyPath string, err error) {
	flag := info.Role.flags().auto
	if info.AutoTLSDir == "" {
		return "", "", fmt.Errorf("%s: no directory for the generated certificate", flag)
	}
	certPath = filepath.Join(info.AutoTLSDir, SelfCertFile)
	keyPath = filepath.Join(info.AutoTLSDir, SelfKeyFile)

	selfCertMu.Lock()
	defer selfCertMu.Unlock()
	ok, why := reusable(certPath, keyPath, now)
	if ok {
		return certPath, keyPath, nil
	}
	if why != "" {
		lg.Warn("replacing the self-signed certificate", "cert-file", certPath, "reason", why)
	}

	if info.SelfSignedValidity <= 0 {
		return "", "", fmt.Errorf("%s: --self-signed-cert-validity must be greater than 0 (set to %d)", flag, info.SelfSignedValidity)
	}
	notAfter := now.AddDate(info.SelfSignedValidity, 0, 0)
	if notAfter.Year() > 9999 {
		return "", "", fmt.Errorf("%s: --self-signed-cert-validity %d years ends after the year 9999", flag, info.SelfSignedValidity)
	}
	certPEM, keyPEM, err := newSelfSigned(info.AutoTLSHosts, now, notAfter)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", flag, err)
	}
	if err := os.MkdirAll(info.AutoTLSDir, 0o700); err != nil {
		return "", "", fmt.Errorf("%s: %w", flag, err)
	}
	// Key first: a cert.pem without its key is never left behind for
	// the next start to trip over.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("%s: %w", flag, err)
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return "", "", fmt.Errorf("%s: %w", flag, err)
	}
	lg.Warn("automatically generated a self-signed certificate", "role", info.Role.String(),
		"cert-file", certPath, "key-file", keyPath, "hosts", info.AutoTLSHosts,
		"certificate-validity-bound-not-after", notAfter.UTC())
	return certPath, keyPath, nil
}

// reusable reports whether the pair at certPath and keyPath can be served:
// both files exist, load, and the certificate has not expired. When they
// exist but cannot be served, why says why.
func reusable(certPath, keyPath string, now time.Time) (ok bool, why string) {
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return false, ""
		}
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return false, err.Error()
	}
	if now.After(pair.Leaf.NotAfter) {
		return false, "expired on " + pair.Leaf.NotAfter.UTC().Format(time.RFC3339)
	}
	return true, ""
}

// newSelfSigned makes an ECDSA P-256 key and a certificate for it, signed by
// itself and valid for hosts (IP addresses become IP SANs, anything else DNS
// SANs) for both server and client authentication, since a member presents
// the same pair when it dials its peers. Like etcd's, the certificate is its
// own CA, so a client may trust it with --cacert.
func newSelfSigned(hosts []string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"etcd"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		switch ip := net.ParseIP(h); {
		case ip != nil:
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		case h != "":
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// writeFileAtomic writes data to path through a synced temporary file and a
// rename, so that a reader (or a crash) never sees half a file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly once renamed
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
