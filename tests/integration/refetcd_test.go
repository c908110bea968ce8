package integration

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// The conformance tests compare Cairn with etcd itself. Their golden files
// hold etcd's answers: run the tests with CAIRN_REF_ETCD set to an etcd
// v3.6 binary and -update to record them (see DEVELOPERS notes in the
// README). Without CAIRN_REF_ETCD they run against an in-process Cairn
// member and must reproduce the golden files exactly.

// refEtcd is the path of a reference etcd binary, or "".
func refEtcd() string { return os.Getenv("CAIRN_REF_ETCD") }

// startTarget starts the server the test talks to: the reference etcd when
// CAIRN_REF_ETCD is set, else a Cairn member. It returns the client
// endpoint.
func startTarget(t *testing.T) string {
	t.Helper()
	if bin := refEtcd(); bin != "" {
		return startRefEtcd(t, bin)
	}
	return testutil.StartMember(t).Endpoint
}

// startRefEtcd runs the reference etcd on free loopback ports with default
// name and peer URL, so its IDs equal a default Cairn member's.
func startRefEtcd(t *testing.T, bin string) string {
	t.Helper()
	client := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	peer := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--data-dir", t.TempDir(),
		"--listen-client-urls", "http://"+client, "--advertise-client-urls", "http://"+client,
		"--listen-peer-urls", "http://"+peer,
		"--election-timeout", "500", "--heartbeat-interval", "50")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		closed := false
		for sc.Scan() {
			if !closed && strings.Contains(sc.Text(), "ready to serve client requests") {
				close(ready)
				closed = true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("reference etcd did not become ready")
	}
	return client
}
