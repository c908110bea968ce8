package server

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"sync"
	"time"
)

// http2Preface starts every HTTP/2 connection; gRPC clients send it first.
var http2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// sniffTimeout bounds how long a new connection may stay silent before it is
// dropped: a client that connects and sends nothing must not hold a slot.
const sniffTimeout = 10 * time.Second

// portMux shares one listener between gRPC and HTTP/1: connections that open
// with the HTTP/2 preface go to gRPC, all others to the HTTP server.
type portMux struct {
	l    net.Listener
	grpc *chanListener
	http *chanListener
}

func newPortMux(l net.Listener) *portMux {
	return &portMux{l: l, grpc: newChanListener(l.Addr()), http: newChanListener(l.Addr())}
}

// serve accepts until the listener closes.
func (m *portMux) serve() {
	defer m.grpc.Close()
	defer m.http.Close()
	for {
		c, err := m.l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		go m.route(c)
	}
}

func (m *portMux) route(c net.Conn) {
	br := bufio.NewReaderSize(c, len(http2Preface))
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	head, err := br.Peek(len(http2Preface))
	_ = c.SetReadDeadline(time.Time{})
	if err != nil && len(head) == 0 {
		c.Close()
		return
	}
	pc := &peekedConn{Conn: c, r: br}
	if bytes.Equal(head, http2Preface) {
		m.grpc.deliver(pc)
		return
	}
	m.http.deliver(pc)
}

// peekedConn replays the sniffed bytes before the rest of the stream.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// chanListener is a net.Listener fed by the mux.
type chanListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *chanListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.closed:
		c.Close()
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
