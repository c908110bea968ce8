package config

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// boundField finds the Config field a flag fills, by address.
func boundField(t *testing.T, c *Config, f flagSpec) reflect.StructField {
	t.Helper()
	ptr := reflect.ValueOf(f.bind(c)).Elem().Field(0).Pointer()
	cv := reflect.ValueOf(c).Elem()
	for i := range cv.NumField() {
		if cv.Field(i).Addr().Pointer() == ptr {
			return cv.Type().Field(i)
		}
	}
	t.Fatalf("flag --%s is bound to no Config field", f.name)
	return reflect.StructField{}
}

// TestFlagTableMatchesStruct keeps the flag table and Config's YAML tags in
// step: a flag's field is tagged with the flag's name, every tagged field has
// its flag, and no two flags share a field.
func TestFlagTableMatchesStruct(t *testing.T) {
	c := &Config{}
	byField := make(map[string]string)
	for _, f := range flagTable {
		if f.ignored {
			continue // bound to nothing
		}
		sf := boundField(t, c, f)
		if prev, dup := byField[sf.Name]; dup {
			t.Errorf("--%s and --%s both fill %s", prev, f.name, sf.Name)
		}
		byField[sf.Name] = f.name
		wantTag := f.name
		if f.cmdOnly {
			wantTag = "-"
		}
		if got := sf.Tag.Get("yaml"); got != wantTag {
			t.Errorf("field %s: yaml tag %q, want %q (flag --%s)", sf.Name, got, wantTag, f.name)
		}
	}
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		sf := ct.Field(i)
		if tag := sf.Tag.Get("yaml"); sf.IsExported() && tag != "-" && byField[sf.Name] == "" {
			t.Errorf("field %s (yaml %q) has no flag", sf.Name, tag)
		}
	}
}

func TestFlagTableNames(t *testing.T) {
	seen := make(map[string]bool)
	for _, f := range flagTable {
		if seen[f.name] {
			t.Errorf("--%s declared twice", f.name)
		}
		seen[f.name] = true
		if f.usage == "" || f.group == "" {
			t.Errorf("--%s lacks usage or group", f.name)
		}
		if strings.ToLower(f.name) != f.name || strings.ContainsAny(f.name, "_ =") {
			t.Errorf("--%s is not a lower-case dashed name", f.name)
		}
	}
	if got, want := envName("initial-cluster-token"), "ETCD_INITIAL_CLUSTER_TOKEN"; got != want {
		t.Errorf("envName = %q, want %q", got, want)
	}
}

func TestUsage(t *testing.T) {
	u := Usage()
	for _, f := range flagTable {
		line := "  --" + f.name
		if f.hidden || f.ignored {
			if strings.Contains(u, line+" ") || strings.Contains(u, line+"\n") {
				t.Errorf("usage lists hidden flag --%s", f.name)
			}
			continue
		}
		if !f.cmdOnly {
			def := f.def
			if f.shown != "" {
				def = f.shown
			}
			line += " '" + def + "'\n"
		}
		if !strings.Contains(u, line) {
			t.Errorf("usage lacks %q", line)
		}
	}
	for _, s := range []string{"Usage:", "ETCD_", "--config-file", "-h | --help"} {
		if !strings.Contains(u, s) {
			t.Errorf("usage lacks %q", s)
		}
	}
}

// canonical is every flag's value in flag syntax, to compare configs. The
// deprecated flags are left out: once loaded, their values live in their
// successors, or have no effect.
func canonical(c *Config) map[string]string {
	m := make(map[string]string)
	for _, f := range flagTable {
		if !f.cmdOnly && !f.ignored && !f.deprecated() {
			m[f.name] = f.bind(c).String()
		}
	}
	return m
}

func TestYAMLRoundTrip(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"--name", "m1", "--data-dir", "/d", "--initial-cluster", "m1=http://localhost:2380,m2=http://m2:2380",
			"--listen-client-urls", "http://a:1,unix://s:0", "--advertise-client-urls", "http://a:1",
			"--heartbeat-interval", "7", "--election-timeout", "70", "--quota-backend-bytes", "-5",
			"--log-outputs", "stdout,/var/log/a.log", "--log-format", "console"},
	} {
		c := mustLoad(t, args, nil)
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back := mustLoad(t, []string{"--config-file", writeFile(t, string(out))}, nil)
		if !reflect.DeepEqual(canonical(back), canonical(c)) {
			t.Errorf("%q: YAML\n%s\nloads as %v, want %v", args, out, canonical(back), canonical(c))
		}
	}
}

func TestMarshalYAMLTypes(t *testing.T) {
	out, err := yaml.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"snapshot-count":     10000,
		"heartbeat-interval": 100,
		"election-timeout":   1000,
		"listen-client-urls": "http://localhost:2379",
		"initial-cluster":    "default=http://localhost:2380",
		"log-outputs":        []any{"default"},
		"name":               "default",
	}
	for k, w := range want {
		if !reflect.DeepEqual(m[k], w) {
			t.Errorf("%s = %#v, want %#v", k, m[k], w)
		}
	}
}

func TestUnmarshalYAML(t *testing.T) {
	c := Default()
	err := yaml.Unmarshal([]byte("name: m1\nsnapshot-count: 5\nbogus: 1\n"), c)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "m1" || c.SnapshotCount != 5 || c.MaxTxnOps != 128 {
		t.Errorf("got name %q, snapshot-count %d, max-txn-ops %d", c.Name, c.SnapshotCount, c.MaxTxnOps)
	}
	if len(c.Warnings) != 1 || c.Warnings[0].Msg != "unrecognized config file key" {
		t.Errorf("warnings = %v", c.Warnings)
	}
	err = yaml.Unmarshal([]byte("snapshot-count: x\nmax-txn-ops: y\n"), Default())
	if err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("error = %v, want two lines", err)
	}
}

func TestParseInitialCluster(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{",,", ""},
		{"a=http://a:1", "a=http://a:1"},
		{"b=http://b:1,a=http://a:1", "a=http://a:1,b=http://b:1"},
		{"a=http://a:2,a=http://a:1", "a=http://a:1,a=http://a:2"},
		{"a= http://a:1 ", "a=http://a:1"},
		{" a =http://a:1", " a =http://a:1"}, // names are kept verbatim, as etcd keeps them
		{"=http://a:1", "=http://a:1"},
		{"a=unix://sock", "a=unix://sock"},
		{"a=http://[::1]:2380", "a=http://[::1]:2380"},
	}
	for _, tt := range tests {
		m, err := ParseInitialCluster(tt.in)
		if err != nil {
			t.Errorf("ParseInitialCluster(%q): %v", tt.in, err)
			continue
		}
		if got := FormatInitialCluster(m); got != tt.want {
			t.Errorf("ParseInitialCluster(%q) formats as %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseURLs(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "", want: ""},
		{in: "  ", want: ""},
		{in: "http://b:1, https://a:2", want: "http://b:1,https://a:2"},
		{in: "unixs://x", want: "unixs://x"},
		{in: "http://:2379", want: "http://:2379"},
		{in: "http://a:1?x=1", want: "http://a:1?x=1"},
		{in: "ftp://a:1", err: "URL scheme must be http, https, unix, or unixs: ftp://a:1"},
		{in: "http://u:p@a:1/", err: "URL must not contain a path: http://u:p@a:1/"},
		{in: "unix://a/b", err: "URL must not contain a path: unix://a/b"},
		{in: "http://a:1,,http://b:1", err: "URL scheme must be http, https, unix, or unixs: "},
		{in: "unix: x", err: `URL must not contain spaces or control characters: "unix: x"`},
		{in: "http://a:1#\n0", err: `URL must not contain spaces or control characters: "http://a:1#\n0"`},
	}
	for _, tt := range tests {
		us, err := ParseURLs(tt.in)
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseURLs(%q) error = %v, want %q", tt.in, err, tt.err)
			}
		case err != nil:
			t.Errorf("ParseURLs(%q): %v", tt.in, err)
		default:
			if got := FormatURLs(us); got != tt.want {
				t.Errorf("ParseURLs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		}
	}
}
