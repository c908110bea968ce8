package robustness

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The peer network. Every member advertises a proxy's address as its peer
// URL, so all raft traffic between members crosses a proxy that this test
// runs: one listener per member, forwarding to the member's real peer
// port. A connection is attributed to a link (dialing member -> member
// behind the proxy) when it is accepted; the faults below act on links.
//
// The dialing member is found through /proc: the proxy sees only a
// loopback address and an ephemeral port, and the process owning the
// socket with that port is the dialer. A connection whose dialer cannot be
// named (not a member, or no /proc) is attributed to "" and is affected
// only by faults on its destination.
//
// Faults are per link and directional in the sense of who dials: a link
// fault on from->to acts on the connections that from opened to to, in
// both byte directions. Partition(m) faults every link into and out of m,
// which cuts m off whatever way the transport uses its connections.

// linkMode is what happens to a link's connections.
type linkMode int

const (
	// linkUp forwards bytes, after the link's delay.
	linkUp linkMode = iota
	// linkDrop closes the link's connections and refuses new ones at once:
	// the dialer sees a reset, as from a host that is down.
	linkDrop
	// linkBlackhole closes the link's connections and holds new ones open
	// without reading or forwarding a byte, as a network that loses every
	// packet: the dialer sees nothing until its own timeouts fire.
	linkBlackhole
)

func (m linkMode) String() string {
	switch m {
	case linkUp:
		return "up"
	case linkDrop:
		return "drop"
	case linkBlackhole:
		return "blackhole"
	}
	return fmt.Sprintf("linkMode(%d)", int(m))
}

// link is a directed pair of member names: from dials to.
type link struct{ from, to string }

func (l link) String() string { return l.from + "->" + l.to }

// linkFault is the state of one link; the zero value is a healthy link.
type linkFault struct {
	mode   linkMode
	delay  time.Duration
	jitter time.Duration
}

// peerNet is the set of proxies between the members of one cluster and
// the faults on their links.
type peerNet struct {
	logf func(format string, args ...any)

	mu struct {
		sync.Mutex
		// whoDialed names the member that owns the local end of a
		// connection from srcPort to dstPort; "" when unknown.
		whoDialed func(srcPort, dstPort int) string
		closed    bool
		names     []string // every proxied member
		faults    map[link]linkFault
		conns     map[*proxyConn]struct{}
		proxies   []*peerProxy
		// accepted and anonymous count connections, and those whose
		// dialer could not be named.
		accepted, anonymous int
	}
	wg sync.WaitGroup
}

func newPeerNet(logf func(string, ...any)) *peerNet {
	n := &peerNet{logf: logf}
	n.mu.faults = map[link]linkFault{}
	n.mu.conns = map[*proxyConn]struct{}{}
	n.mu.whoDialed = func(int, int) string { return "" }
	return n
}

// setWhoDialed installs the function that names a connection's dialer.
func (n *peerNet) setWhoDialed(f func(srcPort, dstPort int) string) {
	n.mu.Lock()
	n.mu.whoDialed = f
	n.mu.Unlock()
}

// peerProxy fronts one member's peer port.
type peerProxy struct {
	to     string // the member behind the proxy
	ln     net.Listener
	target string // the member's real peer address
}

func (p *peerProxy) addr() string { return p.ln.Addr().String() }

// proxyConn is one proxied connection.
type proxyConn struct {
	link   link
	down   net.Conn      // accepted from the dialer
	closed chan struct{} // closed by close

	// Bytes forwarded each way and when the last were, for reports.
	sent, received atomic.Int64 // dialer->member, member->dialer
	lastByte       atomic.Int64 // unix nanoseconds

	mu struct {
		sync.Mutex
		up   net.Conn // to the member; nil while held or before dialing
		done bool
	}
}

func newProxyConn(l link, down net.Conn) *proxyConn {
	return &proxyConn{link: l, down: down, closed: make(chan struct{})}
}

// close closes both sides; it is idempotent.
func (c *proxyConn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.done {
		return
	}
	c.mu.done = true
	close(c.closed)
	c.down.Close()
	if c.mu.up != nil {
		c.mu.up.Close()
	}
}

// setUp attaches the member side; false (and up closed) if the connection
// was closed meanwhile.
func (c *proxyConn) setUp(up net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.done {
		up.Close()
		return false
	}
	c.mu.up = up
	return true
}

// listen starts the proxy for member name, forwarding to target.
func (n *peerNet) listen(name, target string) (*peerProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &peerProxy{to: name, ln: ln, target: target}
	n.mu.Lock()
	n.mu.names = append(n.mu.names, name)
	n.mu.proxies = append(n.mu.proxies, p)
	n.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.acceptLoop(p)
	}()
	return p, nil
}

func (n *peerNet) acceptLoop(p *peerProxy) {
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.serve(p, conn)
		}()
	}
}

func (n *peerNet) serve(p *peerProxy, down net.Conn) {
	src := down.RemoteAddr().(*net.TCPAddr).Port
	dst := down.LocalAddr().(*net.TCPAddr).Port
	n.mu.Lock()
	who := n.mu.whoDialed
	n.mu.Unlock()
	pc := newProxyConn(link{from: who(src, dst), to: p.to}, down)
	mode, ok := n.register(pc)
	if !ok {
		return
	}
	defer n.unregister(pc)
	switch mode {
	case linkDrop:
		pc.close()
		return
	case linkBlackhole:
		// Held, unread, until the fault changes and closes it.
		<-pc.closed
		return
	}
	up, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		pc.close()
		return
	}
	if !pc.setUp(up) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); n.pipe(pc, up, down, pc.link, &pc.sent) }()
	go func() { defer wg.Done(); n.pipe(pc, down, up, pc.link, &pc.received) }()
	wg.Wait()
}

// register records a new connection and returns its link's mode at this
// moment; a fault set later closes it if needed. ok is false once the
// network is closed.
func (n *peerNet) register(pc *proxyConn) (linkMode, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mu.closed {
		pc.down.Close()
		return 0, false
	}
	f := n.mu.faults[pc.link]
	n.mu.conns[pc] = struct{}{}
	n.mu.accepted++
	if pc.link.from == "" {
		n.mu.anonymous++
	}
	return f.mode, true
}

func (n *peerNet) unregister(pc *proxyConn) {
	pc.close()
	n.mu.Lock()
	delete(n.mu.conns, pc)
	n.mu.Unlock()
}

// chunk is bytes in flight, due at a time.
type chunk struct {
	b  []byte
	at time.Time
}

// pipe copies src to dst, holding each chunk for the link's delay at the
// time it was read. Order is kept: a chunk is never due before the one
// read before it.
func (n *peerNet) pipe(pc *proxyConn, dst, src net.Conn, l link, count *atomic.Int64) {
	defer pc.close()
	ch := make(chan chunk, 256)
	go func() {
		defer close(ch)
		var last time.Time
		for {
			buf := make([]byte, 32<<10)
			k, err := src.Read(buf)
			if k > 0 {
				at := time.Now()
				if f := n.fault(l); f.delay > 0 || f.jitter > 0 {
					at = at.Add(f.delay)
					if f.jitter > 0 {
						at = at.Add(rand.N(f.jitter))
					}
				}
				if at.Before(last) {
					at = last
				}
				last = at
				ch <- chunk{b: buf[:k], at: at}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		if d := time.Until(c.at); d > 0 {
			timer := time.NewTimer(d)
			<-timer.C
		}
		if _, err := dst.Write(c.b); err != nil {
			pc.close()
			for range ch { // let the reader finish
			}
			return
		}
		count.Add(int64(len(c.b)))
		pc.lastByte.Store(time.Now().UnixNano())
	}
}

func (n *peerNet) fault(l link) linkFault {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.faults[l]
}

// setLocked changes one link's fault and closes the connections the
// change invalidates: every connection of a link that stops forwarding,
// and held connections of a link that forwards again (so that the dialer
// reconnects through the healthy link).
func (n *peerNet) setLocked(l link, f linkFault) {
	old := n.mu.faults[l]
	if f == (linkFault{}) {
		delete(n.mu.faults, l)
	} else {
		n.mu.faults[l] = f
	}
	if old.mode == f.mode {
		return
	}
	for pc := range n.mu.conns {
		if pc.link == l {
			pc.close()
		}
	}
}

// linksOf returns every link into and out of name, including the link
// from unattributed dialers into it.
func (n *peerNet) linksOfLocked(name string) []link {
	ls := []link{{from: "", to: name}}
	for _, o := range n.mu.names {
		if o != name {
			ls = append(ls, link{from: name, to: o}, link{from: o, to: name})
		}
	}
	return ls
}

// Partition cuts member name off from every other member: its links in
// both directions black-hole their traffic until Heal.
func (n *peerNet) Partition(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.linksOfLocked(name) {
		n.setLocked(l, linkFault{mode: linkBlackhole})
	}
	n.logf("peer network: %s partitioned from the others", name)
}

// Blackhole makes from's connections to to lose everything.
func (n *peerNet) Blackhole(from, to string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.setLocked(link{from, to}, linkFault{mode: linkBlackhole})
	n.logf("peer network: %s->%s blackholed", from, to)
}

// Drop makes from's connections to to fail at once.
func (n *peerNet) Drop(from, to string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.setLocked(link{from, to}, linkFault{mode: linkDrop})
	n.logf("peer network: %s->%s dropped", from, to)
}

// Delay holds every chunk on from->to for d plus up to jitter.
func (n *peerNet) Delay(from, to string, d, jitter time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := n.mu.faults[link{from, to}]
	f.delay, f.jitter = d, jitter
	n.setLocked(link{from, to}, f)
}

// DelayAll delays every link between members.
func (n *peerNet) DelayAll(d, jitter time.Duration) {
	n.mu.Lock()
	names := append([]string(nil), n.mu.names...)
	n.mu.Unlock()
	for _, a := range names {
		for _, b := range names {
			if a != b {
				n.Delay(a, b, d, jitter)
			}
		}
	}
	n.logf("peer network: every link delayed by %v (+%v jitter)", d, jitter)
}

// Heal removes every fault.
func (n *peerNet) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.mu.faults) == 0 {
		return
	}
	for l := range n.mu.faults {
		n.setLocked(l, linkFault{})
	}
	n.logf("peer network: healed")
}

// describe lists the live connections per link and the links' faults,
// for failure reports.
func (n *peerNet) describe() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var lines []string
	for pc := range n.mu.conns {
		idle := "never used"
		if t := pc.lastByte.Load(); t != 0 {
			idle = fmt.Sprintf("last byte %v ago", time.Since(time.Unix(0, t)).Round(time.Millisecond))
		}
		lines = append(lines, fmt.Sprintf("%v: open, %d bytes sent, %d received, %s", pc.link, pc.sent.Load(), pc.received.Load(), idle))
	}
	for l, f := range n.mu.faults {
		lines = append(lines, fmt.Sprintf("%v: %v, delay %v+%v", l, f.mode, f.delay, f.jitter))
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

// stats reports how many connections the proxies accepted and how many of
// them came from a dialer that could not be named (and so escaped faults
// on their source).
func (n *peerNet) stats() (accepted, anonymous int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.accepted, n.mu.anonymous
}

// close stops the proxies and closes every connection, and waits for the
// proxies' goroutines.
func (n *peerNet) close() {
	n.mu.Lock()
	n.mu.closed = true
	for _, p := range n.mu.proxies {
		p.ln.Close()
	}
	for pc := range n.mu.conns {
		pc.close()
	}
	n.mu.Unlock()
	n.wg.Wait()
}

// socketInode finds, in /proc/net/tcp{,6}, the socket whose local port is
// srcPort and remote port dstPort, and returns its inode.
func socketInode(srcPort, dstPort int) (uint64, error) {
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			if hexPort(fields[1]) != srcPort || hexPort(fields[2]) != dstPort {
				continue
			}
			inode, err := strconv.ParseUint(fields[9], 10, 64)
			if err != nil || inode == 0 {
				continue
			}
			f.Close()
			return inode, nil
		}
		f.Close()
	}
	return 0, fmt.Errorf("no socket from port %d to port %d", srcPort, dstPort)
}

// hexPort parses the port of a /proc/net/tcp address ("0100007F:1F90").
func hexPort(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return -1
	}
	p, err := strconv.ParseUint(addr[i+1:], 16, 16)
	if err != nil {
		return -1
	}
	return int(p)
}

// processHasSocket reports whether process pid holds the socket inode.
func processHasSocket(pid int, inode uint64) bool {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	want := fmt.Sprintf("socket:[%d]", inode)
	for _, e := range ents {
		if target, err := os.Readlink(dir + "/" + e.Name()); err == nil && target == want {
			return true
		}
	}
	return false
}
