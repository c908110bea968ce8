package robustness

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// echoServer answers every connection with what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// testNet is a peer network of two proxied "members", a and b, both in
// this process: dialers are named by the local port they dial from.
type testNet struct {
	net   *peerNet
	proxy map[string]*peerProxy

	mu    sync.Mutex
	ports map[int]string
}

func newTestNet(t *testing.T) *testNet {
	t.Helper()
	tn := &testNet{net: newPeerNet(t.Logf), proxy: map[string]*peerProxy{}, ports: map[int]string{}}
	tn.net.setWhoDialed(func(src, _ int) string {
		tn.mu.Lock()
		defer tn.mu.Unlock()
		return tn.ports[src]
	})
	t.Cleanup(tn.net.close)
	for _, name := range []string{"a", "b"} {
		p, err := tn.net.listen(name, echoServer(t))
		if err != nil {
			t.Fatal(err)
		}
		tn.proxy[name] = p
	}
	return tn
}

// dial opens a connection from member from to member to's proxy.
func (tn *testNet) dial(t *testing.T, from, to string) net.Conn {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	tn.mu.Lock()
	tn.ports[port] = from
	tn.mu.Unlock()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, Timeout: time.Second}
	c, err := d.Dial("tcp", tn.proxy[to].addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends a message and waits up to wait for its echo.
func roundTrip(c net.Conn, wait time.Duration) error {
	msg := []byte("ping")
	if err := c.SetDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	if _, err := c.Write(msg); err != nil {
		return err
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != string(msg) {
		return errors.New("echo garbled: " + string(buf))
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestProxyForwards(t *testing.T) {
	tn := newTestNet(t)
	c := tn.dial(t, "a", "b")
	for range 3 {
		if err := roundTrip(c, time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProxyPartition(t *testing.T) {
	tn := newTestNet(t)
	ab := tn.dial(t, "a", "b")
	if err := roundTrip(ab, time.Second); err != nil {
		t.Fatal(err)
	}
	tn.net.Partition("b")
	// The open connection is cut.
	if err := roundTrip(ab, time.Second); err == nil || isTimeout(err) {
		t.Fatalf("open connection through a partition: %v, want it closed", err)
	}
	// New ones, either way, are held: nothing comes back.
	for _, pair := range [][2]string{{"a", "b"}, {"b", "a"}} {
		c := tn.dial(t, pair[0], pair[1])
		if err := roundTrip(c, 200*time.Millisecond); !isTimeout(err) {
			t.Fatalf("%s->%s through a partition: %v, want a timeout", pair[0], pair[1], err)
		}
	}
	tn.net.Heal()
	if err := roundTrip(tn.dial(t, "a", "b"), time.Second); err != nil {
		t.Fatalf("after heal: %v", err)
	}
}

func TestProxyDropIsDirectional(t *testing.T) {
	tn := newTestNet(t)
	tn.net.Drop("a", "b")
	if err := roundTrip(tn.dial(t, "a", "b"), time.Second); err == nil || isTimeout(err) {
		t.Fatalf("a->b dropped: %v, want the connection closed at once", err)
	}
	if err := roundTrip(tn.dial(t, "b", "a"), time.Second); err != nil {
		t.Fatalf("b->a is not dropped: %v", err)
	}
	if err := roundTrip(tn.dial(t, "", "b"), time.Second); err != nil {
		t.Fatalf("an unattributed dialer is not dropped: %v", err)
	}
}

func TestProxyDelay(t *testing.T) {
	tn := newTestNet(t)
	c := tn.dial(t, "a", "b")
	const d = 100 * time.Millisecond
	tn.net.Delay("a", "b", d, 0)
	began := time.Now()
	if err := roundTrip(c, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	// Both byte directions of a's connection are held.
	if took := time.Since(began); took < 2*d {
		t.Fatalf("round trip took %v, want at least %v", took, 2*d)
	}
	tn.net.Heal()
	if err := roundTrip(c, d/2); err != nil {
		t.Fatalf("after heal: %v", err)
	}
}

// TestSocketOwner checks the /proc lookup that names a dialer: the test's
// own connection must be found in the test's own process.
func TestSocketOwner(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src := c.LocalAddr().(*net.TCPAddr).Port
	dst := ln.Addr().(*net.TCPAddr).Port
	inode, err := socketInode(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if !processHasSocket(os.Getpid(), inode) {
		t.Fatalf("socket inode %d not found among the test's descriptors", inode)
	}
	if processHasSocket(os.Getppid(), inode) {
		t.Fatalf("socket inode %d found in the parent process", inode)
	}
}
