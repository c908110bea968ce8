//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd

package server

import "golang.org/x/sys/unix"

// apply sets the options on the socket fd.
func (o socketOptions) apply(fd uintptr) error {
	if o.reusePort {
		if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return err
		}
	}
	if o.reuseAddress {
		if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return err
		}
	}
	return nil
}
