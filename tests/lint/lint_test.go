// Package lint holds tests that keep the code's shape: which internal
// packages may import which, no forbidden modules, no global logger.
package lint

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/cairn-kv/cairn/"

// allowed lists, for each product package, the module packages it may
// import. Dependencies point one way (see DESIGN.md); a new package or edge
// must be added here on purpose.
var allowed = map[string][]string{
	"cmd/etcd":                     {"internal/config", "internal/gcfloor", "internal/logging", "internal/server", "internal/version"},
	"cmd/etcdctl":                  {"internal/ctl", "internal/ctlv2"},
	"cmd/benchmark":                {"internal/bench"},
	"cmd/etcdutl":                  {"internal/utl"},
	"internal/backup":              {"internal/alarm", "internal/apply", "internal/auth", "internal/lease", "internal/membership", "internal/mvcc", "internal/snapshot", "internal/storage"},
	"internal/utl":                 {"internal/backup", "internal/config", "internal/snapshot", "internal/storage", "internal/version"},
	"internal/snapshot":            {},
	"internal/bench":               {},
	"internal/ctl":                 {"internal/utl", "internal/version"},
	"internal/ctlv2":               {"internal/version"},
	"internal/config":              {"internal/compactor", "internal/tlsutil"},
	"internal/compactor":           {},
	"internal/metrics":             {},
	"internal/gcfloor":             {},
	"internal/tlsutil":             {},
	"internal/auth":                {"internal/storage"},
	"internal/alarm":               {"internal/storage"},
	"internal/logging":             {"internal/config"},
	"internal/version":             {},
	"internal/storage":             {},
	"internal/mvcc":                {"internal/storage", "internal/wirebuf"},
	"internal/membership":          {"internal/storage"},
	"internal/raftnode":            {"internal/storage", "internal/logging"},
	"internal/apply":               {"internal/alarm", "internal/auth", "internal/lease", "internal/membership", "internal/mvcc", "internal/raftnode", "internal/storage", "internal/v2store"},
	"internal/v2store":             {"internal/storage"},
	"internal/v2http":              {"internal/v2store"},
	"internal/lease":               {"internal/storage"},
	"internal/watch":               {},
	"internal/v3rpc":               {"internal/alarm", "internal/auth", "internal/lease", "internal/membership", "internal/mvcc", "internal/wirebuf"},
	"internal/wirebuf":             {},
	"internal/transport":           {},
	"internal/httpapi":             {"internal/version"},
	"internal/v3lock":              {"internal/tlsutil", "internal/v3lock/v3electionpb", "internal/v3lock/v3lockpb"},
	"internal/v3lock/v3electionpb": {},
	"internal/v3lock/v3lockpb":     {},
	"internal/server": {
		"internal/alarm", "internal/apply", "internal/auth", "internal/backup", "internal/compactor", "internal/config", "internal/metrics", "internal/httpapi", "internal/lease", "internal/membership", "internal/mvcc",
		"internal/raftnode", "internal/snapshot", "internal/storage", "internal/tlsutil", "internal/transport", "internal/v2http", "internal/v2store", "internal/v3lock", "internal/v3rpc", "internal/version", "internal/watch",
	},
	"internal/testutil":          {"internal/config", "internal/server", "internal/testutil/freeport"},
	"internal/testutil/freeport": {},
}

// forbidden are modules the product must never import: Cairn's server,
// CLI and storage are its own.
var forbidden = []string{
	"go.etcd.io/etcd/server/",
	"go.etcd.io/etcd/etcdctl/",
	"go.etcd.io/etcd/etcdutl/",
	"go.etcd.io/etcd/pkg/",
	"go.etcd.io/etcd/tests/",
	"go.etcd.io/bbolt", // only internal/snapshot may (see bboltAllowed)
}

// bboltAllowed is the one package that reads and writes etcd's bbolt
// snapshot files.
const bboltAllowed = "internal/snapshot"

type pkg struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestImportEdges(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module)
		if strings.HasPrefix(rel, "tests/") {
			continue
		}
		allow, known := allowed[rel]
		if !known {
			t.Errorf("package %s is not in the lint table: add it with its allowed imports", rel)
			continue
		}
		for _, imp := range p.Imports {
			for _, f := range forbidden {
				if strings.HasPrefix(imp, f) && !(f == "go.etcd.io/bbolt" && rel == bboltAllowed) {
					t.Errorf("%s imports forbidden %s", rel, imp)
				}
			}
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if !contains(allow, dep) {
				t.Errorf("%s may not import %s", rel, dep)
			}
		}
	}
}

// TestNoGlobalLogger keeps slog.Default out of internal packages: loggers
// are injected so each component's lines carry its fields.
func TestNoGlobalLogger(t *testing.T) {
	root := repoRoot(t)
	var bad []string
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(src, []byte("slog.Default(")) || bytes.Contains(src, []byte("slog.SetDefault(")) {
			rel, _ := filepath.Rel(root, path)
			bad = append(bad, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Fatalf("global slog logger used in: %s", strings.Join(bad, ", "))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
