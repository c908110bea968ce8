package backup

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-kv/cairn/internal/snapshot"
)

const etcdFile = "../snapshot/testdata/etcd-3.6.16-compacted.snap"

func openFile(t *testing.T) *snapshot.File {
	t.Helper()
	f, err := snapshot.Open(etcdFile, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func config(dir string) RestoreConfig {
	return RestoreConfig{
		DataDir:             dir,
		Name:                "default",
		InitialCluster:      map[string][]url.URL{"default": {{Scheme: "http", Host: "localhost:2380"}}},
		InitialClusterToken: "etcd-cluster",
	}
}

func TestRestoreRefusesUnknownName(t *testing.T) {
	cfg := config(t.TempDir())
	cfg.Name = "other"
	err := Restore(context.Background(), cfg, openFile(t))
	if err == nil || !strings.Contains(err.Error(), `couldn't find local name "other"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestRestoreRefusesExistingMember(t *testing.T) {
	dir := t.TempDir()
	if err := Restore(context.Background(), config(dir), openFile(t)); err != nil {
		t.Fatal(err)
	}
	err := Restore(context.Background(), config(dir), openFile(t))
	if err == nil || !strings.Contains(err.Error(), "already holds a member") {
		t.Fatalf("second restore: %v", err)
	}
}

// An interrupted restore leaves no member behind: a half-written data dir
// must never start as if it were whole.
func TestInterruptedRestoreLeavesNoMember(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Restore(ctx, config(dir), openFile(t))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want %v", err, context.Canceled)
	}
	if _, err := os.Stat(filepath.Join(dir, "member")); !os.IsNotExist(err) {
		t.Fatalf("member dir after an interrupted restore: %v", err)
	}
}
