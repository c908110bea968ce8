package robustness

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Run length and reproducibility. `go test` uses short defaults that keep
// the package within CI's budget; `make robustness` passes a longer
// duration. Each flag falls back to its environment variable, so the
// duration can be set without -args when several packages are tested.
var (
	flagDuration = flag.Duration("robustness.duration", envDuration("ROBUSTNESS_DURATION", 0),
		"workload duration per scenario (env ROBUSTNESS_DURATION); 0 picks a short default")
	flagSeed = flag.Int64("robustness.seed", envInt("ROBUSTNESS_SEED", 0),
		"seed for the workload and fault choices (env ROBUSTNESS_SEED); 0 picks one from the clock")
	flagCheckTimeout = flag.Duration("robustness.check-timeout", envDuration("ROBUSTNESS_CHECK_TIMEOUT", 0),
		"time allowed to the linearizability checker (env ROBUSTNESS_CHECK_TIMEOUT); 0 picks a default from the duration")
)

// directPeers reports ROBUSTNESS_DIRECT_PEERS: members talk to each other
// without the test's proxies (see clusterConfig.directPeers).
func directPeers() bool { return os.Getenv("ROBUSTNESS_DIRECT_PEERS") != "" }

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "robustness: %s=%q: %v\n", name, v, err)
			os.Exit(2)
		}
		return d
	}
	return def
}

func envInt(name string, def int64) int64 {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "robustness: %s=%q: %v\n", name, v, err)
			os.Exit(2)
		}
		return n
	}
	return def
}

// binDir holds the etcd binary, built on first use and shared by the tests
// of one run.
var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cairn-robustness-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	return m.Run()
}

// etcdBinary builds ./cmd/etcd once per run and returns its path. The
// environment variable ROBUSTNESS_ETCD_BIN names a prebuilt server binary
// to test instead: Cairn at another commit, or etcd itself to check the
// harness against the behaviour Cairn copies.
func etcdBinary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("ROBUSTNESS_ETCD_BIN"); bin != "" {
		return bin
	}
	path := filepath.Join(binDir, "etcd")
	buildOnce.Do(func() {
		began := time.Now()
		out, err := exec.Command("go", "build", "-o", path, "github.com/cairn-kv/cairn/cmd/etcd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build cmd/etcd: %v\n%s", err, out)
			return
		}
		t.Logf("built cmd/etcd in %v", time.Since(began).Round(100*time.Millisecond))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return path
}
