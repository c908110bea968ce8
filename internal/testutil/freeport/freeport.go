// Package freeport picks TCP ports on 127.0.0.1 for test servers.
//
// A port the kernel hands out for ":0" lies in the ephemeral range, which
// the kernel also uses for the source ports of outgoing connections: in
// the time between picking such a port and the server binding it, any
// client connection in any test process may take it ("address already in
// use"). Ports below the ephemeral range are never used that way, so Pick
// draws from there, at random so that test processes running side by side
// rarely draw the same one, and never hands out a port twice in a process.
package freeport

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

var (
	mu     sync.Mutex
	handed = map[int]bool{}
)

// Pick returns a port on 127.0.0.1 that was free a moment ago.
func Pick() (int, error) {
	lo, hi := span()
	mu.Lock()
	defer mu.Unlock()
	for range 200 {
		p := lo + rand.IntN(hi-lo)
		if handed[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		handed[p] = true
		return p, nil
	}
	return 0, errors.New("freeport: no free port found")
}

// span is the range to draw from: the ports below the kernel's ephemeral
// range, down to 10000 (or 20000-32767 where the range is unknown).
func span() (lo, hi int) {
	lo, hi = 20000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	first, err := strconv.Atoi(f[0])
	if err != nil || first < 11000 {
		return lo, hi
	}
	return 10000, first
}
