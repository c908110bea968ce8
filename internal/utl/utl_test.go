package utl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/snapshot"
	"github.com/cairn-kv/cairn/internal/storage"
)

// run runs etcdutl in-process.
func run(t *testing.T, o Options, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	o.Stdout, o.Stderr = &stdout, &stderr
	code := Main(o, args)
	return result{stdout: stdout.String(), stderr: stderr.String(), exit: code}
}

func fixture(name string) string { return filepath.Join(fixtures, "etcd-3.6.16-"+name+".snap") }

// TestHashKVWithLeases: etcdutl hashkv panics on a snapshot whose live keys
// have leases ("no lessor to attach lease"); Cairn's prints the hash, which
// is the one the member that took the snapshot gave for the HashKV RPC.
func TestHashKVWithLeases(t *testing.T) {
	got := run(t, Options{}, "hashkv", fixture("auth-leases"))
	want := result{stdout: "2263955084, 20, 5\n"}
	if got != want {
		t.Errorf("hashkv: %+v, want %+v", got, want)
	}
}

// setRestore installs fn as Restore for the test.
func setRestore(t *testing.T, fn func(context.Context, RestoreOptions, *snapshot.File) error) {
	old := Restore
	Restore = fn
	t.Cleanup(func() { Restore = old })
}

func TestRestore(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(fixture("compacted"))
	if err != nil {
		t.Fatal(err)
	}
	rawDB := filepath.Join(dir, "raw.db")
	writeFile(t, rawDB, raw[:len(raw)-32])

	tests := []struct {
		name string
		args []string
		// want is the options Restore gets, printed by describe.
		want string
	}{
		{
			name: "defaults",
			args: []string{fixture("compacted")},
			want: "data-dir=default.etcd wal-dir= name=default cluster=default=http://localhost:2380 token=etcd-cluster " +
				"peers=[http://localhost:2380] skip-hash=false bump=0 mark=false mmap=10737418240 timeout=10s",
		},
		{
			name: "all flags",
			args: []string{fixture("compacted"), "--data-dir", filepath.Join(dir, "m1"), "--wal-dir", filepath.Join(dir, "wal"),
				"--name", "m1", "--initial-cluster", "m1=http://10.0.0.1:2380,m2=http://10.0.0.2:2380,m1=http://10.0.0.9:2380",
				"--initial-cluster-token", "tok", "--initial-advertise-peer-urls", "http://10.0.0.9:2380,http://10.0.0.1:2380",
				"--bump-revision", "1000", "--mark-compacted", "--initial-memory-map-size", "1", "--timeout", "3s"},
			want: "data-dir={dir}/m1 wal-dir={dir}/wal name=m1 cluster=m1=http://10.0.0.1:2380,m1=http://10.0.0.9:2380,m2=http://10.0.0.2:2380 token=tok " +
				"peers=[http://10.0.0.1:2380 http://10.0.0.9:2380] skip-hash=false bump=1000 mark=true mmap=1 timeout=3s",
		},
		{
			name: "copy of a db file",
			args: []string{rawDB, "--skip-hash-check", "--data-dir", filepath.Join(dir, "empty")},
			want: "data-dir={dir}/empty wal-dir= name=default cluster=default=http://localhost:2380 token=etcd-cluster " +
				"peers=[http://localhost:2380] skip-hash=true bump=0 mark=false mmap=10737418240 timeout=10s",
		},
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			var status snapshot.Status
			setRestore(t, func(ctx context.Context, o RestoreOptions, f *snapshot.File) error {
				if ctx == nil {
					t.Error("no context")
				}
				var peers []string
				for _, u := range o.PeerURLs {
					peers = append(peers, u.String())
				}
				got = fmt.Sprintf("data-dir=%s wal-dir=%s name=%s cluster=%s token=%s peers=%v skip-hash=%v bump=%d mark=%v mmap=%d timeout=%s",
					o.DataDir, o.WALDir, o.Name, config.FormatInitialCluster(o.InitialCluster), o.InitialClusterToken,
					peers, o.SkipHashCheck, o.BumpRevision, o.MarkCompacted, o.InitialMemoryMapSize, o.Timeout)
				if o.Logger == nil || o.SnapshotPath != tt.args[0] {
					t.Errorf("logger %v, snapshot path %q", o.Logger, o.SnapshotPath)
				}
				var err error
				status, err = f.Status()
				return err
			})
			r := run(t, Options{}, append([]string{"snapshot", "restore"}, tt.args...)...)
			if r.exit != 0 || r.stdout != "" {
				t.Fatalf("restore: %+v", r)
			}
			if !strings.Contains(r.stderr, `"msg":"restoring snapshot"`) {
				t.Errorf("stderr %q: want the restoring snapshot log line", r.stderr)
			}
			if got = strings.ReplaceAll(got, dir, "{dir}"); got != tt.want {
				t.Errorf("Restore got\n%s\nwant\n%s", got, tt.want)
			}
			if status.Revision != 21 {
				t.Errorf("Restore got a file at revision %d, want 21", status.Revision)
			}
		})
	}
}

func TestRestoreErrors(t *testing.T) {
	t.Run("into a data dir that holds a member", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		if r := run(t, Options{}, "snapshot", "restore", fixture("compacted"), "--data-dir", out); r.exit != 0 {
			t.Fatalf("restore: %+v", r)
		}
		if _, err := os.Stat(filepath.Join(out, "member")); err != nil {
			t.Fatalf("restore wrote no member: %v", err)
		}
		r := run(t, Options{}, "snapshot", "restore", fixture("compacted"), "--data-dir", out)
		want := fmt.Sprintf("Error: data-dir %q not empty or could not be read\n", out)
		if r.exit != 1 || !strings.HasSuffix(r.stderr, want) {
			t.Errorf("second restore: %+v, want stderr ending %q", r, want)
		}
	})
	t.Run("fails", func(t *testing.T) {
		setRestore(t, func(context.Context, RestoreOptions, *snapshot.File) error { return errors.New("disk full") })
		r := run(t, Options{}, "snapshot", "restore", fixture("compacted"), "--data-dir", filepath.Join(t.TempDir(), "out"))
		if r.exit != 1 || !strings.HasSuffix(r.stderr, "Error: disk full\n") {
			t.Errorf("restore: %+v", r)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		setRestore(t, func(ctx context.Context, _ RestoreOptions, _ *snapshot.File) error { return ctx.Err() })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := run(t, Options{Context: ctx}, "snapshot", "restore", fixture("compacted"), "--data-dir", filepath.Join(t.TempDir(), "out"))
		if r.exit != 1 || !strings.HasSuffix(r.stderr, "Error: context canceled\n") {
			t.Errorf("restore: %+v", r)
		}
	})
	t.Run("hash checked before Restore", func(t *testing.T) {
		called := false
		setRestore(t, func(context.Context, RestoreOptions, *snapshot.File) error { called = true; return nil })
		raw, _ := os.ReadFile(fixture("compacted"))
		p := filepath.Join(t.TempDir(), "raw.db")
		writeFile(t, p, raw[:len(raw)-32])
		r := run(t, Options{}, "snapshot", "restore", p, "--data-dir", filepath.Join(t.TempDir(), "out"))
		if r.exit != 1 || !strings.HasSuffix(r.stderr, "Error: snapshot missing hash but --skip-hash-check=false\n") || called {
			t.Errorf("restore: %+v, Restore called: %v", r, called)
		}
	})
}

func TestDefrag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if r := run(t, Options{}, "snapshot", "restore", fixture("compacted"), "--data-dir", dir); r.exit != 0 {
		t.Fatalf("restore: %+v", r)
	}
	r := run(t, Options{}, "defrag", "--data-dir", dir)
	if r.exit != 0 || r.stdout != "" || !strings.Contains(r.stderr, "finished defragmenting directory") {
		t.Errorf("defrag: %+v", r)
	}
	// A running member holds the engine's lock: defrag must not touch it.
	eng, err := storage.Open(filepath.Join(dir, "member"), storage.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r = run(t, Options{}, "defrag", "--data-dir", dir)
	eng.Close()
	if r.exit != 1 || !strings.Contains(r.stderr, "Failed to defragment etcd data") {
		t.Errorf("defrag of a data dir in use: %+v", r)
	}
	missing := filepath.Join(dir, "missing")
	r = run(t, Options{}, "defrag", "--data-dir", missing)
	want := fmt.Sprintf("Error: Failed to defragment etcd data[%s] (stat %s/member: no such file or directory)\n", missing, missing)
	if r.exit != 1 || r.stderr != want {
		t.Errorf("defrag of a missing dir: %+v, want stderr %q", r, want)
	}
}

func TestTimeoutFlagHidden(t *testing.T) {
	r := run(t, Options{}, "version", "--timeout", "1m")
	if r.exit != 0 {
		t.Errorf("--timeout: %+v", r)
	}
	if r := run(t, Options{}, "version", "--help"); strings.Contains(r.stdout, "timeout") {
		t.Errorf("--timeout shows in the help:\n%s", r.stdout)
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "0 B"}, {9, "9 B"}, {10, "10 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {1049, "1.0 kB"},
		{1050, "1.1 kB"}, {9949, "9.9 kB"}, {9950, "10 kB"}, {20480, "20 kB"}, {20500, "20 kB"},
		{45056, "45 kB"}, {1 << 20, "1.0 MB"}, {2147483648, "2.1 GB"}, {999_999_999, "1000 MB"},
	}
	for _, tt := range tests {
		if got := humanBytes(tt.n); got != tt.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
