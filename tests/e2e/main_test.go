// Package e2e tests the built binaries as processes: the etcd server killed
// with SIGKILL and restarted, and etcdctl against it.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/testutil/freeport"
)

// binDir holds the binaries, built on first use and shared by the package.
var (
	binDir   string
	buildMu  sync.Mutex
	builtBin = map[string]error{}
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cairn-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	return m.Run()
}

// binary builds cmd/<name> once and returns its path.
func binary(t *testing.T, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	path := filepath.Join(binDir, name)
	err, done := builtBin[name]
	if !done {
		out, berr := exec.Command("go", "build", "-o", path, "github.com/cairn-kv/cairn/cmd/"+name).CombinedOutput()
		if berr != nil {
			err = fmt.Errorf("build %s: %v\n%s", name, berr, out)
		}
		builtBin[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// proc is a running etcd process.
type proc struct {
	cmd      *exec.Cmd
	endpoint string
	logs     *logBuffer
	done     chan struct{}
}

// logBuffer keeps a process's stderr for failure reports.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

// find returns the first line containing s, or "".
func (l *logBuffer) find(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startEtcd starts the server on dataDir with a client URL on port and
// waits until it logs that it serves clients.
func startEtcd(t *testing.T, dataDir string, port int, extra ...string) *proc {
	t.Helper()
	p, ready := launchEtcd(t, dataDir, port, extra...)
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("etcd exited before serving:\n%s", p.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("etcd did not become ready:\n%s", p.logs)
	}
	return p
}

// launchEtcd starts the server without waiting: ready is closed once it
// logs that it serves clients.
func launchEtcd(t *testing.T, dataDir string, port int, extra ...string) (*proc, <-chan struct{}) {
	t.Helper()
	ep := fmt.Sprintf("127.0.0.1:%d", port)
	args := append([]string{
		"--data-dir", dataDir,
		"--listen-client-urls", "http://" + ep,
		"--advertise-client-urls", "http://" + ep,
		"--election-timeout", "500", "--heartbeat-interval", "50",
	}, extra...)
	cmd := exec.Command(binary(t, "etcd"), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, endpoint: ep, logs: &logBuffer{}, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			p.logs.add(sc.Text())
			if strings.Contains(sc.Text(), "ready to serve client requests") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	return p, ready
}

// waitLog waits until the process logged a line containing s.
func (p *proc) waitLog(t *testing.T, s string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if l := p.logs.find(s); l != "" {
			return l
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no log line with %q within %v:\n%s", s, timeout, p.logs)
	return ""
}

// kill sends SIGKILL and waits for the process to go.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (p *proc) client(t *testing.T) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{p.endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
