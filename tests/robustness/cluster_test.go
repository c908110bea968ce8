package robustness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/testutil/freeport"
)

// readyLine is what a member logs once its client listener serves.
const readyLine = "ready to serve client requests"

// clusterConfig shapes a process cluster.
type clusterConfig struct {
	members int
	// electionMs and heartbeatMs are the raft timings given to every
	// member: small, so that failover happens within a short run.
	electionMs, heartbeatMs int
	// snapshotCount is --snapshot-count: small, so that runs cross log
	// truncations and lagging members need snapshots.
	snapshotCount int
	// readyTimeout bounds the wait for every member's ready line.
	readyTimeout time.Duration
	// directPeers has members advertise their real peer ports, bypassing
	// the proxies: network faults then do nothing. It is for telling a
	// proxy problem from a server problem (ROBUSTNESS_DIRECT_PEERS=1).
	directPeers bool
}

func (c clusterConfig) withDefaults() clusterConfig {
	if c.members == 0 {
		c.members = 1
	}
	if c.electionMs == 0 {
		c.electionMs = 500
	}
	if c.heartbeatMs == 0 {
		c.heartbeatMs = 50
	}
	if c.snapshotCount == 0 {
		c.snapshotCount = 500
	}
	if c.readyTimeout == 0 {
		c.readyTimeout = 30 * time.Second
	}
	return c
}

// cluster is a set of etcd processes on 127.0.0.1 whose peer traffic
// flows through the proxies of net, so that the test can cut links.
type cluster struct {
	cfg     clusterConfig
	members []*member
	net     *peerNet
	name    string
	// quiet clusters keep no logs on failure (the clustering probe's).
	quiet bool
}

// member is one etcd process, restartable on the same data dir.
type member struct {
	name      string
	dataDir   string
	clientURL string // http://127.0.0.1:port, what clients dial
	args      []string
	bin       string
	logs      *logBuffer

	mu      sync.Mutex
	proc    *process // the current process; nil before start
	stopped bool     // frozen by stop, not yet resumed
}

// process is one run of a member's binary.
type process struct {
	cmd   *exec.Cmd
	pid   int
	ready chan struct{} // closed at the ready line
	done  chan struct{} // closed once the process has exited
	err   error         // exit status, valid after done
}

// logBuffer keeps a member's log lines across restarts, for failure
// reports.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

// tail returns the last n lines.
func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	from := max(0, len(l.lines)-n)
	return strings.Join(l.lines[from:], "\n")
}

// grep returns the lines containing s.
func (l *logBuffer) grep(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

func (l *logBuffer) writeTo(path string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return os.WriteFile(path, []byte(strings.Join(l.lines, "\n")+"\n"), 0o644)
}

// freePort returns a port that is free right now (see package freeport).
func freePort() (int, error) { return freeport.Pick() }

// newCluster prepares the members and their peer proxies and starts every
// member; it returns once all of them logged the ready line, or an error
// (with the members' last log lines) if one exits or the wait times out;
// the cluster is returned with the error once its members exist, so that
// the caller can read their logs.
// Processes and proxies are torn down by t.Cleanup, and on failure every
// member's full log is kept in a directory named in the test output.
func newCluster(t *testing.T, cfg clusterConfig) (*cluster, error) {
	t.Helper()
	// A free port may be taken by another process between the moment it
	// is picked and the moment a member binds it: start again on new
	// ports when that is why a member died.
	for attempt := 1; ; attempt++ {
		c, err := newClusterOnce(t, cfg)
		if err == nil || attempt == 3 || !c.portTaken() {
			return c, err
		}
		c.quiet = true
		c.close()
		t.Logf("a member's port was taken by another process; starting the cluster again on new ports")
	}
}

// portTaken reports whether a member's log says it could not bind.
func (c *cluster) portTaken() bool {
	for _, m := range c.members {
		if len(m.logs.grep("address already in use")) > 0 {
			return true
		}
	}
	return false
}

func newClusterOnce(t *testing.T, cfg clusterConfig) (*cluster, error) {
	cfg = cfg.withDefaults()
	bin := etcdBinary(t)
	// The data dirs must outlive the processes: t.TempDir's removal is
	// registered first so that it runs after the processes are killed.
	base := t.TempDir()
	c := &cluster{cfg: cfg, name: t.Name()}
	c.net = newPeerNet(t.Logf)
	t.Cleanup(func() {
		if !t.Failed() || c.quiet {
			c.close()
			return
		}
		if len(c.members) > 1 {
			t.Logf("peer connections through the proxies at the end: %s", c.net.describe())
		}
		c.saveLogs(t)
		c.close()
	})
	token := fmt.Sprintf("robustness-%d", time.Now().UnixNano())
	var initial []string
	peerPorts := make([]int, cfg.members)
	proxies := make([]*peerProxy, cfg.members)
	for i := range cfg.members {
		name := fmt.Sprintf("m%d", i)
		port, err := freePort()
		if err != nil {
			return c, err
		}
		peerPorts[i] = port
		p, err := c.net.listen(name, fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return c, err
		}
		proxies[i] = p
		advertised := p.addr()
		if cfg.directPeers {
			advertised = fmt.Sprintf("127.0.0.1:%d", port)
		}
		initial = append(initial, fmt.Sprintf("%s=http://%s", name, advertised))
	}
	for i := range cfg.members {
		name := fmt.Sprintf("m%d", i)
		clientPort, err := freePort()
		if err != nil {
			return c, err
		}
		m := &member{
			name:      name,
			dataDir:   filepath.Join(base, name),
			clientURL: fmt.Sprintf("http://127.0.0.1:%d", clientPort),
			bin:       bin,
			logs:      &logBuffer{},
		}
		m.args = []string{
			"--name", name,
			"--data-dir", m.dataDir,
			"--listen-client-urls", m.clientURL,
			"--advertise-client-urls", m.clientURL,
			"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPorts[i]),
			"--initial-advertise-peer-urls", strings.Split(initial[i], "=")[1],
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-token", token,
			"--initial-cluster-state", "new",
			"--election-timeout", fmt.Sprint(cfg.electionMs),
			"--heartbeat-interval", fmt.Sprint(cfg.heartbeatMs),
			"--snapshot-count", fmt.Sprint(cfg.snapshotCount),
		}
		c.members = append(c.members, m)
	}
	c.net.setWhoDialed(c.whoDialed) // after c.members is complete
	// Members of a new cluster wait for each other: start all, then wait.
	for _, m := range c.members {
		if err := m.start(); err != nil {
			return c, err
		}
	}
	for _, m := range c.members {
		if err := m.waitReady(cfg.readyTimeout); err != nil {
			return c, err
		}
	}
	return c, nil
}

// endpoints lists the members' client URLs.
func (c *cluster) endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.clientURL)
	}
	return eps
}

// whoDialed names the member whose process owns the local end of a TCP
// connection from srcPort to dstPort, or "" if none does.
func (c *cluster) whoDialed(srcPort, dstPort int) string {
	inode, err := socketInode(srcPort, dstPort)
	if err != nil {
		return ""
	}
	for _, m := range c.members {
		if pid := m.pid(); pid != 0 && processHasSocket(pid, inode) {
			return m.name
		}
	}
	return ""
}

// close kills every member and stops the proxies; it is idempotent.
func (c *cluster) close() {
	for _, m := range c.members {
		m.kill()
	}
	c.net.close()
}

// saveLogs writes every member's log to a directory that outlives the
// test and names it, with the last lines of each.
func (c *cluster) saveLogs(t *testing.T) {
	dir, err := os.MkdirTemp("", "cairn-robustness-logs-")
	if err != nil {
		t.Logf("cannot keep member logs: %v", err)
		return
	}
	var dumped []string
	for _, m := range c.members {
		t.Logf("last lines of %s's log:\n%s", m.name, m.logs.tail(15))
		// A member still running may be the one that is stuck: SIGQUIT
		// makes the Go runtime print every goroutine's stack to its log.
		if m.running() && m.quit(3*time.Second) {
			dumped = append(dumped, m.name)
		}
		if err := m.logs.writeTo(filepath.Join(dir, m.name+".log")); err != nil {
			t.Logf("cannot keep %s's log: %v", m.name, err)
		}
	}
	t.Logf("member logs kept in %s", dir)
	if len(dumped) > 0 {
		t.Logf("the logs of %s end with goroutine dumps (SIGQUIT)", strings.Join(dumped, ", "))
	}
}

// client returns a client of the given endpoints (all members when none
// are given), closed by t.Cleanup.
func (c *cluster) client(t *testing.T, endpoints ...string) *clientv3.Client {
	t.Helper()
	if len(endpoints) == 0 {
		endpoints = c.endpoints()
	}
	cli, err := newClient(endpoints)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func newClient(endpoints []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          2 * time.Second,
		DialKeepAliveTime:    time.Second,
		DialKeepAliveTimeout: time.Second,
		Logger:               zap.NewNop(),
	})
}

// leader returns the index of the member that every running member
// agrees is the leader, polling until ctx is done. Stopped or killed
// members are not asked.
func (c *cluster) leader(ctx context.Context, cli *clientv3.Client) (int, error) {
	for {
		idx, err := c.leaderOnce(ctx, cli)
		if err == nil {
			return idx, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("no agreed leader: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *cluster) leaderOnce(ctx context.Context, cli *clientv3.Client) (int, error) {
	leader := uint64(0)
	byID := map[uint64]int{}
	for i, m := range c.members {
		if !m.running() {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		st, err := cli.Status(sctx, m.clientURL)
		cancel()
		if err != nil {
			return -1, fmt.Errorf("status of %s: %w", m.name, err)
		}
		byID[st.Header.MemberId] = i
		if st.Leader == 0 {
			return -1, fmt.Errorf("%s knows no leader", m.name)
		}
		if leader != 0 && st.Leader != leader {
			return -1, fmt.Errorf("members disagree on the leader (%x, %x)", leader, st.Leader)
		}
		leader = st.Leader
	}
	idx, ok := byID[leader]
	if !ok {
		return -1, fmt.Errorf("leader %x is not among the running members", leader)
	}
	return idx, nil
}

// start launches the member's process in its own process group and
// collects its log. It does not wait for the ready line.
func (m *member) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil {
		select {
		case <-m.proc.done:
		default:
			return fmt.Errorf("%s is already running", m.name)
		}
	}
	cmd := exec.Command(m.bin, m.args...)
	// Its own process group, so that a kill reaches anything it starts;
	// and killed with the test binary, should that die without cleanup
	// (a -timeout panic).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", m.name, err)
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, ready: make(chan struct{}), done: make(chan struct{})}
	m.stopped = false
	m.logs.add(fmt.Sprintf("--- robustness: started %s, pid %d ---", m.name, p.pid))
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var once sync.Once
		for sc.Scan() {
			line := sc.Text()
			m.logs.add(line)
			if strings.Contains(line, readyLine) {
				once.Do(func() { close(p.ready) })
			}
		}
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it to the end first
		p.err = cmd.Wait()
		m.logs.add(fmt.Sprintf("--- robustness: %s (pid %d) exited: %v ---", m.name, p.pid, p.err))
		close(p.done)
	}()
	m.proc = p
	return nil
}

// waitReady waits for the current process's ready line.
func (m *member) waitReady(timeout time.Duration) error {
	p := m.current()
	if p == nil {
		return fmt.Errorf("%s was never started", m.name)
	}
	select {
	case <-p.ready:
		return nil
	case <-p.done:
		return fmt.Errorf("%s exited before serving (%v):\n%s", m.name, p.err, m.logs.tail(10))
	case <-time.After(timeout):
		return fmt.Errorf("%s did not log %q within %v:\n%s", m.name, readyLine, timeout, m.logs.tail(10))
	}
}

func (m *member) current() *process {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc
}

// pid is the current process's id, or 0 when none runs.
func (m *member) pid() int {
	if p := m.current(); p != nil && m.running() {
		return p.pid
	}
	return 0
}

// running reports whether the member's process is alive (it may be
// stopped by SIGSTOP).
func (m *member) running() bool {
	p := m.current()
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL to the member's process group and waits for the
// process to go. A stopped process dies too.
func (m *member) kill() {
	p := m.current()
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	m.logs.add(fmt.Sprintf("--- robustness: SIGKILL %s (pid %d) ---", m.name, p.pid))
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	<-p.done
}

// quit sends SIGQUIT, which makes a Go server print its goroutines and
// exit, and waits up to timeout for that; it reports whether the process
// exited. A frozen member is continued first so that it can dump.
func (m *member) quit(timeout time.Duration) bool {
	p := m.current()
	if p == nil || !m.running() {
		return false
	}
	m.logs.add(fmt.Sprintf("--- robustness: SIGQUIT %s (pid %d) for a goroutine dump ---", m.name, p.pid))
	_ = syscall.Kill(p.pid, syscall.SIGQUIT)
	_ = syscall.Kill(p.pid, syscall.SIGCONT)
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// stop freezes the member with SIGSTOP; resume undoes it.
func (m *member) stop() error {
	if err := m.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	m.mu.Lock()
	m.stopped = true
	m.mu.Unlock()
	return nil
}

// resume continues a member frozen by stop.
func (m *member) resume() error {
	m.mu.Lock()
	m.stopped = false
	m.mu.Unlock()
	return m.signal(syscall.SIGCONT)
}

// frozen reports whether the member was stopped and not resumed.
func (m *member) frozen() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopped && m.proc != nil
}

func (m *member) signal(sig syscall.Signal) error {
	p := m.current()
	if p == nil || !m.running() {
		return fmt.Errorf("%s is not running", m.name)
	}
	m.logs.add(fmt.Sprintf("--- robustness: %v %s (pid %d) ---", sig, m.name, p.pid))
	if err := syscall.Kill(-p.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// restart starts the member again on its data dir (a member with data
// ignores the initial-cluster flags) and waits until it serves.
func (m *member) restart(timeout time.Duration) error {
	if err := m.start(); err != nil {
		return err
	}
	return m.waitReady(timeout)
}
