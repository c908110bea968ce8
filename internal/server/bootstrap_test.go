package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckForeignDataDir: etcd's WAL directory or bbolt file mark a data
// dir as etcd's; member/snap alone (where this member receives state
// snapshots) does not, or a member that caught up from a snapshot could
// never restart.
func TestCheckForeignDataDir(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dirs    []string
		files   []string
		refused string
	}{
		{name: "empty"},
		{name: "received snapshots", dirs: []string{"member/snap"}, files: []string{"member/snap/0000000000000002-0000000000000064.state"}},
		{name: "etcd's WAL", dirs: []string{"member/wal"}, refused: "member/wal"},
		{name: "etcd's bbolt file", dirs: []string{"member/snap"}, files: []string{"member/snap/db"}, refused: "member/snap/db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := checkForeignDataDir(dir)
			switch {
			case tc.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), "holds etcd's own files ("+tc.refused+")")):
				t.Fatalf("got %v, want a refusal naming %s", err, tc.refused)
			}
		})
	}
}
