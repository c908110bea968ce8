package config

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzConfigYAML feeds arbitrary config files through the loader. It must
// not panic; each error must be one line; a file that loads must survive
// Marshal and reload unchanged; and Validate must not panic on the result.
func FuzzConfigYAML(f *testing.F) {
	for _, seed := range []string{
		"",
		"name: m1\ndata-dir: /var/lib/etcd\n",
		"listen-client-urls: http://a:1,http://b:2\nadvertise-client-urls: [http://a:1]\n",
		"initial-cluster: m1=http://m1:2380,m2=http://m2:2380\ninitial-cluster-state: existing\n",
		"heartbeat-interval: 50\nelection-timeout: 500\nsnapshot-count: 1\n",
		"log-outputs: [stdout, /tmp/a.log]\nlog-level: debug\nlog-format: console\n",
		"a: &x http://a:1\nlisten-peer-urls: *x\n",
		"client-transport-security:\n  cert-file: /x\n",
		"peer-transport-security:\n  allowed-cn: [a, \"b,c\"]\n  auto-tls: true\ncipher-suites: [X, '']\n",
		"cert-file: /a\nclient-transport-security:\n  cert-file: /b\n  crl-file: ~\n",
		"- a\n- b\n",
		"name: [x\n",
		"quota-backend-bytes: -1\nmax-request-bytes: 0x10\nmax-txn-ops: 1e3\n",
		"socket-options:\n  reuse-port: true\ndiscovery-config:\n  client:\n    endpoints: [a, b]\n    secure: {cert: x}\n",
		"feature-gates: InitialCorruptCheck=true,AllBeta=false\ncors: http://a:1,http://b:2\nhost-whitelist: [b, a, a]\n",
		"experimental-snapshot-catch-up-entries: 7\nexperimental-corrupt-check-time: 1000\nmax-concurrent-streams: 0x10\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := defaults()
		errs := c.applyYAML(data)
		for _, err := range errs {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
		}
		if len(errs) > 0 {
			return
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back := defaults()
		if errs := back.applyYAML(out); len(errs) > 0 {
			t.Fatalf("reloading\n%s\n: %v", out, errs)
		}
		if !reflect.DeepEqual(canonical(back), canonical(c)) {
			t.Fatalf("round trip through\n%s\nchanged %v\nto %v", out, canonical(c), canonical(back))
		}
		derive(c)
		c.DataDir = t.TempDir()
		_ = c.Validate()
	})
}

// FuzzParseInitialCluster checks that a parsed --initial-cluster formats to
// a string that parses back to the same cluster, and that errors are one
// line.
func FuzzParseInitialCluster(f *testing.F) {
	for _, seed := range []string{
		"", "default=http://localhost:2380", "a=http://a:1,b=https://b:2,a=unix://s",
		"a=http://[::1]:2380", ",,a= http://a:1 ,", "x", "=http://a:1", "a=http://a:1=2",
		"a=http://a:1?q", "a=unixs://%41:1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseInitialCluster(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
			return
		}
		formatted := FormatInitialCluster(m)
		m2, err := ParseInitialCluster(formatted)
		if err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", s, formatted, err)
		}
		if again := FormatInitialCluster(m2); again != formatted {
			t.Fatalf("%q formats as %q, then as %q", s, formatted, again)
		}
		c := Default()
		c.DataDir = t.TempDir()
		c.InitialCluster = m2
		if err := c.Validate(); err != nil {
			for line := range strings.SplitSeq(err.Error(), "\n") {
				if line == "" {
					t.Errorf("empty line in %q", err)
				}
			}
		}
	})
}

// FuzzLoadArgs runs arbitrary command lines (NUL-separated) through Load:
// no panics, one-line errors, and flags that load are stable through their
// canonical form.
func FuzzLoadArgs(f *testing.F) {
	for _, seed := range []string{
		"--name\x00m1", "-name=m1\x00--initial-cluster\x00m1=http://localhost:2380",
		"--bogus\x00x", "--\x00x", "---x", "--version=maybe", "-h", "--listen-client-urls\x00foo",
		"--heartbeat-interval\x0018446744073709551615",
		"--feature-gates=AllAlpha=true\x00--experimental-initial-corrupt-check",
		"--experimental-corrupt-check-time=1s\x00--cors=http://a:1\x00--v\x00--max-wals=1",
		"--experimental-warning-unary-request-duration=1s\x00--warning-unary-request-duration=0",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		c, err := Load(args, nil)
		if err != nil {
			for line := range strings.SplitSeq(err.Error(), "\n") {
				if line == "" {
					t.Errorf("empty line in error %q", err)
				}
			}
			return
		}
		// Only valid configurations need to survive the trip (a name
		// with a comma, say, cannot be written in --initial-cluster).
		// The data dir is checked elsewhere; keep Validate off the
		// real filesystem.
		vc := *c
		vc.DataDir = t.TempDir()
		if vc.Validate() != nil {
			return
		}
		var again []string
		for name, v := range canonical(c) {
			again = append(again, "--"+name+"="+v)
		}
		c2, err := Load(again, nil)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not load: %v", again, args, err)
		}
		if !reflect.DeepEqual(canonical(c2), canonical(c)) {
			t.Fatalf("canonical form of %q changed: %v then %v", args, canonical(c), canonical(c2))
		}
	})
}
