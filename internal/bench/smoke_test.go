package bench

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// TestSmoke runs every subcommand briefly against an in-process member and
// checks the report and the JSON line.
func TestSmoke(t *testing.T) {
	m := testutil.StartMember(t)
	global := []string{"--endpoints", m.Endpoint, "--clients", "4", "--conns", "2"}
	tests := []struct {
		name    string
		args    []string
		wantOps int
		want    []string // in the output besides the summary
	}{
		{"put", []string{"put", "--total", "50", "--key-space-size", "100", "--val-size", "64"}, 50, nil},
		{"put sequential with compaction", []string{"put", "--total", "40", "--sequential-keys", "--key-space-size", "10", "--rate", "400", "--compact-interval", "20ms", "--compact-index-delta", "5"}, 40, nil},
		{"range linearizable", []string{"range", "0", "1", "--total", "30"}, 30, []string{"bench with linearizable range\n"}},
		{"range serializable with limit", []string{"range", "00000000", "\x00", "--consistency", "s", "--limit", "5", "--total", "30"}, 30, []string{"bench with serializable range\n"}},
		{"range count only", []string{"range", "0", "--count-only", "--total", "10"}, 10, nil},
		{"txn-put", []string{"txn-put", "--total", "30", "--txn-ops", "4", "--key-space-size", "20"}, 30, nil},
		{"txn-mixed", []string{"txn-mixed", "--total", "40", "--key-space-size", "20", "--rw-ratio", "3", "--limit", "10"}, 40, []string{"Total Read Ops: ", "Total Write Ops: "}},
		{"watch", []string{"watch", "--streams", "3", "--watch-per-stream", "5", "--watched-key-total", "4", "--key-space-size", "6", "--put-total", "30"}, -1, []string{"Watch creation summary:\n", "Watch events received summary:\n"}},
		{"watch-latency", []string{"watch-latency", "--streams", "2", "--watchers-per-stream", "3", "--put-total", "20", "--put-rate", "1000", "--prevkv"}, 20 * 6, []string{"Put summary:\n", "Watch events summary:\n"}},
		{"lease-keepalive", []string{"lease-keepalive", "--total", "50"}, 50, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, append(global, tt.args...)...)
			if code != ExitSuccess {
				t.Fatalf("exit code %d\nstderr: %s\nstdout: %s", code, stderr, stdout)
			}
			for _, w := range append([]string{"\nSummary:\n", "\nResponse time histogram:\n", "\nLatency distribution:\n", "  99.9% in "}, tt.want...) {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
			if strings.Contains(stdout, "Error distribution") {
				t.Errorf("requests failed:\n%s", stdout)
			}
			lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
			var sum Summary
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
				t.Fatalf("last line is not the JSON summary: %v\n%s", err, stdout)
			}
			if sum.Errors != 0 || sum.Ops == 0 || (tt.wantOps > 0 && sum.Ops != tt.wantOps) {
				t.Errorf("summary %+v, want %d ops and no error", sum, tt.wantOps)
			}
			if sum.RPS <= 0 || sum.P50MS <= 0 || sum.MaxMS < sum.P99MS {
				t.Errorf("implausible summary %+v", sum)
			}
		})
	}
}

// TestSmokeWatchEventCount checks that a fan-out delivers every event:
// each put to a watched key reaches each of that key's watchers once.
func TestSmokeWatchEventCount(t *testing.T) {
	m := testutil.StartMember(t)
	// 2 streams x 3 watchers over 2 keys: 3 watchers each. Sequential puts
	// over 4 keys: 10 of the 20 puts hit a watched key, so 30 events.
	code, stdout, stderr := runMain(t, "--endpoints", m.Endpoint, "watch", "--streams", "2", "--watch-per-stream", "3",
		"--watched-key-total", "2", "--key-space-size", "4", "--sequential-keys", "--put-total", "20")
	if code != ExitSuccess {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	var sum Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Ops != 30 || sum.Errors != 0 {
		t.Errorf("events %d, errors %d; want 30, 0", sum.Ops, sum.Errors)
	}
	if len(sum.Parts) != 2 || sum.Parts[0].Bench != "create" || sum.Parts[0].Ops != 6 {
		t.Errorf("parts = %+v, want 6 watch creations first", sum.Parts)
	}
}

func TestSmokeAllFailed(t *testing.T) {
	m := testutil.StartMember(t)
	// The server allows at most 128 operations in a txn.
	code, stdout, stderr := runMain(t, "--endpoints", m.Endpoint, "txn-put", "--total", "5", "--txn-ops", "200", "--key-space-size", "1000")
	if code != ExitError || !strings.Contains(stderr, "Error: all 5 requests failed") {
		t.Errorf("code %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "Error distribution:\n  [5]\tetcdserver: too many operations in txn request\n") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// TestSmokeCluster runs against a 3-member cluster: --target-leader finds
// the leader, and --check-hashkv compares every member's hash after a put
// run.
func TestSmokeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-member cluster")
	}
	c := testutil.StartCluster(t, 3)
	eps := strings.Join(c.Endpoints(), ",")

	cl := c.Client(t)
	leader := ""
	for _, ep := range c.Endpoints() {
		st, err := cl.Status(t.Context(), ep)
		if err != nil {
			t.Fatal(err)
		}
		if st.Leader == st.Header.MemberId {
			leader = ep
		}
	}
	code, _, stderr := runMain(t, "--endpoints", eps, "--target-leader", "--clients", "4", "put", "--total", "40", "--key-space-size", "10")
	if code != ExitSuccess {
		t.Fatalf("--target-leader put: exit code %d: %s", code, stderr)
	}
	if want := "target-leader: using " + leader + "\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}

	code, stdout, stderr := runMain(t, "--endpoints", eps, "--clients", "4", "put", "--total", "40", "--check-hashkv")
	if code != ExitSuccess {
		t.Fatalf("--check-hashkv put: exit code %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "hashkv: 3 endpoint(s) agree at revision ") {
		t.Errorf("no hashkv agreement line:\n%s", stdout)
	}
}
