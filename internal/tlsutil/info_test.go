package tlsutil

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"
)

func TestCheckProtocol(t *testing.T) {
	tests := []struct {
		name     string
		suites   []string
		min, max string
		want     []string // error lines; none when valid
	}{
		{name: "defaults"},
		{name: "etcd's defaults", min: "TLS1.2"},
		{name: "TLS 1.2 suites", suites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}},
		{name: "insecure suite accepted, as in etcd", suites: []string{"TLS_RSA_WITH_AES_128_CBC_SHA"}},
		{name: "TLS 1.3 suite name accepted", suites: []string{"TLS_AES_128_GCM_SHA256"}},
		{name: "range", min: "TLS1.2", max: "TLS1.3"},
		{name: "only 1.3", min: "TLS1.3", max: "TLS1.3"},
		{name: "suites with max 1.3", suites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, max: "TLS1.3"},
		{name: "unknown suite", suites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "FOO"},
			want: []string{`--cipher-suites: unexpected TLS cipher suite "FOO"`}},
		{name: "names are not trimmed", suites: []string{" TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
			want: []string{`--cipher-suites: unexpected TLS cipher suite " TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"`}},
		{name: "empty suite name", suites: []string{""},
			want: []string{`--cipher-suites: unexpected TLS cipher suite ""`}},
		{name: "old version", min: "TLS1.1",
			want: []string{`--tls-min-version: unexpected TLS version "TLS1.1" (must be one of: TLS1.2, TLS1.3)`}},
		{name: "lower case", max: "tls1.3",
			want: []string{`--tls-max-version: unexpected TLS version "tls1.3" (must be one of: TLS1.2, TLS1.3)`}},
		{name: "max below min", min: "TLS1.3", max: "TLS1.2",
			want: []string{"min version (TLS1.3) is greater than max version (TLS1.2)"}},
		{name: "suites with only 1.3", suites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, min: "TLS1.3",
			want: []string{"cipher suites cannot be configured when only TLS1.3 is enabled"}},
		{name: "every problem", suites: []string{"X"}, min: "SSL3", max: "TLS1.0",
			want: []string{
				`--cipher-suites: unexpected TLS cipher suite "X"`,
				`--tls-min-version: unexpected TLS version "SSL3" (must be one of: TLS1.2, TLS1.3)`,
				`--tls-max-version: unexpected TLS version "TLS1.0" (must be one of: TLS1.2, TLS1.3)`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckProtocol(tt.suites, tt.min, tt.max)
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("CheckProtocol(%q, %q, %q) =\n%s\nwant\n%s", tt.suites, tt.min, tt.max,
					strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseCipherSuitesEveryGoName(t *testing.T) {
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			ids, err := ParseCipherSuites([]string{cs.Name})
			if err != nil || len(ids) != 1 || ids[0] != cs.ID {
				t.Errorf("ParseCipherSuites(%s) = %v, %v; want [%#04x]", cs.Name, ids, err, cs.ID)
			}
			if tls.CipherSuiteName(cs.ID) != cs.Name {
				t.Errorf("%s is not tls.CipherSuiteName(%#04x)", cs.Name, cs.ID)
			}
		}
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]uint16{"": 0, "TLS1.2": tls.VersionTLS12, "TLS1.3": tls.VersionTLS13} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %#x, %v; want %#x", in, got, err, want)
		}
	}
}

func TestRoleFlags(t *testing.T) {
	for _, tt := range []struct {
		role       Role
		name, cert string
	}{
		{RoleClient, "client", "--cert-file"},
		{RolePeer, "peer", "--peer-cert-file"},
		{RoleCtl, "etcdctl", "--cert"},
	} {
		if got := tt.role.String(); got != tt.name {
			t.Errorf("%d.String() = %q, want %q", tt.role, got, tt.name)
		}
		if got := tt.role.flags().cert; got != tt.cert {
			t.Errorf("%s cert flag = %q, want %q", tt.name, got, tt.cert)
		}
	}
}
