package metrics

import (
	"os"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// registerFDs exports os_fd_used and os_fd_limit, etcd's file descriptor
// gauges.
func registerFDs(reg *prometheus.Registry) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "os", Subsystem: "fd", Name: "used",
			Help: "The number of used file descriptors."}, func() float64 {
			fds, err := os.ReadDir("/proc/self/fd")
			if err != nil {
				return 0
			}
			return float64(len(fds))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "os", Subsystem: "fd", Name: "limit",
			Help: "The file descriptor limit."}, func() float64 {
			var l syscall.Rlimit
			if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
				return 0
			}
			return float64(l.Cur)
		}),
	)
}
