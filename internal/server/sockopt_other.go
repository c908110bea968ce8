//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package server

import "errors"

// apply refuses the options where the platform has no SO_REUSEPORT.
func (o socketOptions) apply(uintptr) error {
	return errors.New("--socket-reuse-port and --socket-reuse-address are not supported on this platform")
}
