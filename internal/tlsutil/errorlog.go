package tlsutil

import (
	"log"
	"log/slog"
	"strings"
)

// ErrorLog returns a logger for http.Server.ErrorLog that writes through
// lg. A TLS listener's refused handshakes (net/http's "http: TLS handshake
// error from <addr>: <error>") become etcd's "rejected connection" warning
// with the fields remote-addr, server-name and error, which log queries
// written for etcd look for; any other line is a warning as it stands.
// Without it net/http writes those lines, unstructured, to the process's
// standard error.
func ErrorLog(lg *slog.Logger) *log.Logger {
	return log.New(errorLogWriter{lg}, "", 0)
}

type errorLogWriter struct{ lg *slog.Logger }

const handshakeErrorPrefix = "http: TLS handshake error from "

func (w errorLogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	if rest, ok := strings.CutPrefix(line, handshakeErrorPrefix); ok {
		// The address is host:port, and an IPv6 host is bracketed, so the
		// first ": " ends it.
		if addr, reason, ok := strings.Cut(rest, ": "); ok {
			w.lg.Warn("rejected connection", "remote-addr", addr, "server-name", "", "error", reason)
			return len(p), nil
		}
	}
	w.lg.Warn(line)
	return len(p), nil
}
