package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/usage.golden")

// TestUsageGolden pins the whole --help text, so that a change to it is
// reviewed as one. Rewrite it with go test -run TestUsageGolden -update.
func TestUsageGolden(t *testing.T) {
	path := filepath.Join("testdata", "usage.golden")
	got := Usage()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("Usage() differs from %s (run with -update and review the diff):\n%s", path, got)
	}
}
