package httpapi

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
)

// allowsAll reports whether a --cors or --host-whitelist list lets every
// value through: "*" among its items, or no items at all.
func allowsAll(list []string) bool { return len(list) == 0 || slices.Contains(list, "*") }

// WithCORS answers browsers' cross-origin checks for the origins in allowed
// (--cors), as etcd does: a request from an allowed origin gets the
// Access-Control-Allow-* headers ("*" as the origin when all are allowed,
// the request's Origin otherwise), and every OPTIONS request, a preflight,
// is answered 200 with an empty body without reaching h. Origins are
// compared as written, scheme and port included.
func WithCORS(h http.Handler, allowed []string) http.Handler {
	all := allowsAll(allowed)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if all || slices.Contains(allowed, origin) {
			if all {
				origin = "*"
			}
			w.Header().Set("Access-Control-Allow-Headers", "accept, content-type, authorization")
			w.Header().Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE")
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// WithHostWhitelist refuses requests whose Host header, without its port,
// is not in hosts (--host-whitelist), against DNS rebinding: a browser
// tricked into calling a local member still sends the attacker's host name.
// The answer is etcd's: 421 Misdirected Request with a text telling how to
// allow the host, and a warning in the log. Only plain-HTTP listeners need
// it; TLS already proves the server's name.
func WithHostWhitelist(h http.Handler, hosts []string, lg *slog.Logger) http.Handler {
	if allowsAll(hosts) {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if name, _, err := net.SplitHostPort(host); err == nil {
			host = name
		}
		if !slices.Contains(hosts, host) {
			lg.Warn("rejecting HTTP request to prevent DNS rebinding attacks", "host", host)
			http.Error(w, fmt.Sprintf(unrecognizedHost, host), http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// unrecognizedHost is the body of a refused request (etcd's text; the host
// name is filled in).
const unrecognizedHost = `
etcd received your request, but the Host header was unrecognized.

To fix this, choose one of the following options:
- Enable TLS, then any HTTPS request will be allowed.
- Add the hostname you want to use to the whitelist in settings.
  - e.g. etcd --host-whitelist %q

This requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).
`
