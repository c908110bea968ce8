//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd

package integration

import (
	"context"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// reusePortListen binds addr with SO_REUSEPORT, as a second etcd would.
func reusePortListen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) }); err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}

// TestSocketReusePort: with --socket-reuse-port (and
// --socket-reuse-address) another process may bind the member's client and
// peer ports too; without it the ports are the member's alone.
func TestSocketReusePort(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reuse bool
	}{{"reuse", true}, {"default", false}} {
		t.Run(tc.name, func(t *testing.T) {
			m := testutil.StartMember(t, func(c *config.Config) {
				c.SocketReusePort, c.SocketReuseAddress = tc.reuse, tc.reuse
			})
			if tc.reuse {
				if err := grpcWorks(t, m.Endpoint); err != nil {
					t.Fatal(err)
				}
			}
			for _, addr := range []string{m.Endpoint, m.Config.ListenPeerURLs[0].Host} {
				l, err := reusePortListen(addr)
				if err == nil {
					l.Close()
				}
				if got := err == nil; got != tc.reuse {
					t.Errorf("second bind of %s: %v, want success %v", addr, err, tc.reuse)
				}
			}
		})
	}
}
