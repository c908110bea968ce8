package tlsutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func autoInfo(dir string, role Role) Info {
	return Info{Role: role, AutoTLS: true, AutoTLSDir: dir,
		AutoTLSHosts: []string{"127.0.0.1", "localhost", "::1"}, SelfSignedValidity: 1}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAutoTLSGenerates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "fixtures", "peer")
	info := autoInfo(dir, RolePeer)
	info.SelfSignedValidity = 2
	var logs logBuffer
	srv := mustServerConfig(t, info, logs.logger())

	for name, perm := range map[string]os.FileMode{".": 0o700, SelfCertFile: 0o644, SelfKeyFile: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != perm {
			t.Errorf("%s has mode %v, want %v", name, got, perm)
		}
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, SelfCertFile), filepath.Join(dir, SelfKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	cert := pair.Leaf
	if k, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", cert.PublicKey)
	}
	if !slices.Equal(cert.DNSNames, []string{"localhost"}) || len(cert.IPAddresses) != 2 ||
		cert.IPAddresses[0].String() != "127.0.0.1" || cert.IPAddresses[1].String() != "::1" {
		t.Errorf("SANs = %v %v, want localhost, 127.0.0.1, ::1", cert.DNSNames, cert.IPAddresses)
	}
	wantEnd := time.Now().AddDate(2, 0, 0)
	if d := cert.NotAfter.Sub(wantEnd); d < -time.Minute || d > time.Minute {
		t.Errorf("NotAfter = %v, want about %v", cert.NotAfter, wantEnd)
	}
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if !slices.Contains(cert.ExtKeyUsage, u) {
			t.Errorf("ExtKeyUsage %v lacks %v", cert.ExtKeyUsage, u)
		}
	}
	if n := logs.count("automatically generated a self-signed certificate"); n != 1 {
		t.Errorf("generation logged %d times, want once", n)
	}

	// A member dialing with the same settings presents the generated
	// certificate and does not verify the server's.
	cli, err := ClientConfig(info)
	if err != nil {
		t.Fatal(err)
	}
	if !cli.InsecureSkipVerify {
		t.Errorf("auto TLS client verifies the server; self-signed peers cannot be verified")
	}
	wantOK(t, handshake(t, srv, cli))

	// The certificate works as a trust anchor for itself (etcdctl
	// --cacert <data-dir>/fixtures/client/cert.pem).
	strict := clientConfig(t, filepath.Join(dir, SelfCertFile), "", "")
	wantOK(t, handshake(t, srv, strict))
}

func TestAutoTLSReuse(t *testing.T) {
	dir := t.TempDir()
	info := autoInfo(dir, RoleClient)
	mustServerConfig(t, info, nil)
	certPEM := readFile(t, filepath.Join(dir, SelfCertFile))
	keyPEM := readFile(t, filepath.Join(dir, SelfKeyFile))

	var logs logBuffer
	mustServerConfig(t, info, logs.logger())
	if _, err := ClientConfig(info); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, SelfCertFile)), certPEM) ||
		!bytes.Equal(readFile(t, filepath.Join(dir, SelfKeyFile)), keyPEM) {
		t.Errorf("a second start replaced the generated certificate")
	}
	if n := logs.count("generated"); n != 0 {
		t.Errorf("a second start logged generation")
	}
}

func TestAutoTLSReplacesUnusable(t *testing.T) {
	f := newFixture(t)
	expired := f.ca.issue(t, leaf{cn: "old", notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)})
	tests := []struct {
		name    string
		cert    []byte
		key     []byte
		wantWhy string
	}{
		{"expired", expired.certPEM, expired.keyPEM, "expired on"},
		{"corrupt", []byte("garbage"), expired.keyPEM, "failed to find any PEM data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, SelfCertFile, tt.cert)
			write(t, dir, SelfKeyFile, tt.key)
			var logs logBuffer
			mustServerConfig(t, autoInfo(dir, RoleClient), logs.logger())
			pair, err := tls.LoadX509KeyPair(filepath.Join(dir, SelfCertFile), filepath.Join(dir, SelfKeyFile))
			if err != nil {
				t.Fatal(err)
			}
			if time.Now().After(pair.Leaf.NotAfter) {
				t.Errorf("still serving an expired certificate")
			}
			if logs.count("replacing the self-signed certificate") != 1 || logs.count(tt.wantWhy) != 1 {
				t.Errorf("logs %q, want one replacement saying %q", logs.msgs, tt.wantWhy)
			}
		})
	}
}

func TestAutoTLSIgnoredWithCertificates(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "fixtures")
	info := f.serverInfo()
	info.AutoTLS, info.AutoTLSDir, info.SelfSignedValidity = true, dir, 1
	var logs logBuffer
	srv := mustServerConfig(t, info, logs.logger())
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("fixtures directory created although certificates were given (stat: %v)", err)
	}
	if logs.count("ignoring auto TLS") != 1 {
		t.Errorf("no warning that auto TLS is ignored; logs %q", logs.msgs)
	}
	r := handshake(t, srv, clientConfig(t, f.caFile, "", ""))
	wantOK(t, r)
}

func TestAutoTLSDropsClientAuth(t *testing.T) {
	f := newFixture(t)
	info := autoInfo(t.TempDir(), RolePeer)
	info.ClientCertAuth, info.TrustedCAFile = true, f.caFile
	var logs logBuffer
	srv := mustServerConfig(t, info, logs.logger())
	if srv.ClientAuth != tls.NoClientCert {
		t.Errorf("ClientAuth = %v with auto TLS, want none", srv.ClientAuth)
	}
	if logs.count("ignoring client certificate authentication") != 1 {
		t.Errorf("no warning; logs %q", logs.msgs)
	}
}

func TestAutoTLSErrors(t *testing.T) {
	file := write(t, t.TempDir(), "file", nil)
	tests := []struct {
		name   string
		modify func(*Info)
		want   string
	}{
		{"zero validity", func(i *Info) { i.SelfSignedValidity = 0 },
			"--auto-tls: --self-signed-cert-validity must be greater than 0 (set to 0)"},
		{"validity past 9999", func(i *Info) { i.Role, i.SelfSignedValidity = RolePeer, 100000 },
			"--peer-auto-tls: --self-signed-cert-validity 100000 years ends after the year 9999"},
		{"no directory", func(i *Info) { i.AutoTLSDir = "" },
			"--auto-tls: no directory for the generated certificate"},
		{"directory under a file", func(i *Info) { i.AutoTLSDir = filepath.Join(file, "fixtures") },
			"--auto-tls: mkdir " + file + ": not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := autoInfo(filepath.Join(t.TempDir(), "fixtures"), RoleClient)
			tt.modify(&info)
			_, err := ServerConfig(info, nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %s", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
		})
	}
}
