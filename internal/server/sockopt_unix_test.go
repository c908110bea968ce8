//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd

package server

import (
	"net"
	"net/url"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestListenSocketOptions: --socket-reuse-port and --socket-reuse-address
// set SO_REUSEPORT and SO_REUSEADDR on the socket before it binds.
func TestListenSocketOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts socketOptions
	}{
		{name: "none"},
		{name: "reuse port", opts: socketOptions{reusePort: true}},
		{name: "reuse address", opts: socketOptions{reuseAddress: true}},
		{name: "both", opts: socketOptions{reusePort: true, reuseAddress: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := listenWith(url.URL{Scheme: "http", Host: "127.0.0.1:0"}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			port := getsockopt(t, l, unix.SO_REUSEPORT) != 0
			if port != tc.opts.reusePort {
				t.Errorf("SO_REUSEPORT %v, want %v", port, tc.opts.reusePort)
			}
			// Go sets SO_REUSEADDR on every listener already, so the
			// option can only be checked to be on.
			if tc.opts.reuseAddress && getsockopt(t, l, unix.SO_REUSEADDR) == 0 {
				t.Error("SO_REUSEADDR off")
			}
		})
	}
}

func getsockopt(t *testing.T, l net.Listener, opt int) int {
	t.Helper()
	rc, err := l.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) { v, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, opt) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return v
}
