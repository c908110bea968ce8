package server

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"syscall"
)

// socketOptions are --socket-reuse-port and --socket-reuse-address, set on
// every client, peer and metrics listener before it binds.
type socketOptions struct {
	reusePort, reuseAddress bool
}

// socketOptions returns the listener options of the configuration.
func (s *Server) socketOptions() socketOptions {
	return socketOptions{reusePort: s.cfg.SocketReusePort, reuseAddress: s.cfg.SocketReuseAddress}
}

// listenConfig applies the options to each socket between its creation and
// its bind.
func (o socketOptions) listenConfig() net.ListenConfig {
	if !o.reusePort && !o.reuseAddress {
		return net.ListenConfig{}
	}
	return net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = o.apply(fd) })
		if err != nil {
			return err
		}
		return serr
	}}
}

// listenURL opens a client, peer or metrics listener for u with the
// configured socket options.
func (s *Server) listenURL(u url.URL) (net.Listener, error) {
	return listenWith(u, s.socketOptions())
}

// listenWith opens a listener for u: TCP for http(s), a socket file for
// unix(s) URLs.
func listenWith(u url.URL, o socketOptions) (net.Listener, error) {
	network, addr := "tcp", u.Host
	if u.Scheme == "unix" || u.Scheme == "unixs" {
		network, addr = "unix", u.Host+u.Path
	}
	switch u.Scheme {
	case "http", "https", "unix", "unixs":
	default:
		return nil, fmt.Errorf("listen on %s: unsupported scheme %q", u.String(), u.Scheme)
	}
	lc := o.listenConfig()
	if network == "unix" {
		lc = net.ListenConfig{} // the options mean nothing for socket files
	}
	l, err := lc.Listen(context.Background(), network, addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", u.String(), err)
	}
	return l, nil
}
