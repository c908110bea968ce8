// Package httpapi serves the member's plain HTTP endpoints on the client
// port: /health, /livez, /readyz (with their per-check paths) and /version,
// with etcd's paths, status codes and bodies, so probes and scripts written
// for etcd work unchanged.
package httpapi

import (
	"context"
	"encoding/json"
	"expvar"
	"fmt"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/version"
)

// Member is what the handlers need from the member.
type Member interface {
	// HasLeader reports whether raft knows a leader.
	HasLeader() bool
	// Alarms lists the active alarms.
	Alarms() []*pb.AlarmMember
	// IsLearner reports whether this member is a learner.
	IsLearner() bool
	// Read performs a range on a probe key, serializable or linearizable.
	Read(ctx context.Context, serializable bool) error
	// ClusterVersion is the agreed cluster version.
	ClusterVersion() string
}

// checkTimeout bounds each read a probe performs.
const checkTimeout = 2 * time.Second

// Options select optional endpoints.
type Options struct {
	// Pprof serves runtime profiles at /debug/pprof/ (--enable-pprof, or
	// --log-level debug, as etcd does).
	Pprof bool
	// Vars serves the process's expvar variables at /debug/vars, as etcd's
	// client URLs do.
	Vars bool
	// Metrics, when set, serves /metrics.
	Metrics http.Handler
	// Gateway, when set, serves the JSON gateway under /v3/ and /v3beta/.
	Gateway http.Handler
	// V2, when set, serves etcd's v2 API under /v2/ (--enable-v2).
	V2 http.Handler
	// OnHealth, when set, counts each /health answer: healthy or not.
	OnHealth func(healthy bool)
}

// Handler returns the HTTP handler for the client port. The client
// listeners wrap it in WithHostWhitelist and WithCORS; the metrics
// listeners serve it bare, as etcd's do.
func Handler(m Member, opts Options) http.Handler {
	mux := http.NewServeMux()
	if opts.Metrics != nil {
		mux.Handle("/metrics", opts.Metrics)
	}
	if opts.Gateway != nil {
		mux.Handle("/v3/", opts.Gateway)
		mux.Handle("/v3beta/", opts.Gateway)
	}
	if opts.V2 != nil {
		mux.Handle("/v2/", opts.V2)
	}
	if opts.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if opts.Vars {
		mux.HandleFunc("/debug/vars", getOnly(expvar.Handler().ServeHTTP))
	}
	mux.HandleFunc("/version", getOnly(versionHandler(m)))
	mux.HandleFunc("/health", getOnly(healthHandler(m, opts.OnHealth)))
	registerProbe(mux, "livez", livezChecks(m))
	registerProbe(mux, "readyz", readyzChecks(m))
	return mux
}

func getOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

// versionInfo is /version's body: etcd's three fields, plus Cairn's own
// release (clients that decode etcd's fields ignore it).
type versionInfo struct {
	Server  string `json:"etcdserver"`
	Cluster string `json:"etcdcluster"`
	Storage string `json:"storage"`
	Cairn   string `json:"cairn"`
}

func versionHandler(m Member) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cv := m.ClusterVersion()
		if cv == "" {
			cv = "not_decided"
		}
		writeJSON(w, http.StatusOK, versionInfo{
			Server:  version.EtcdVersion,
			Cluster: cv,
			Storage: version.StorageVersion,
			Cairn:   version.Version,
		})
	}
}

type healthBody struct {
	Health string `json:"health"`
	Reason string `json:"reason"`
}

// healthHandler serves /health: alarms (minus ?exclude=), a leader (unless
// ?serializable=true) and a read on the probe key.
func healthHandler(m Member, onHealth func(bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		serializable := q.Get("serializable") == "true"
		excluded := map[string]bool{}
		for _, a := range q["exclude"] {
			excluded[a] = true
		}
		reason := healthFailure(r.Context(), m, serializable, excluded)
		if onHealth != nil {
			onHealth(reason == "")
		}
		if reason != "" {
			writeJSON(w, http.StatusServiceUnavailable, healthBody{Health: "false", Reason: reason})
			return
		}
		writeJSON(w, http.StatusOK, healthBody{Health: "true"})
	}
}

func healthFailure(ctx context.Context, m Member, serializable bool, excluded map[string]bool) string {
	for _, a := range m.Alarms() {
		if name := a.Alarm.String(); !excluded[name] {
			return "ALARM " + name
		}
	}
	if !serializable && !m.HasLeader() {
		return "RAFT NO LEADER"
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := m.Read(ctx, serializable); err != nil {
		return "RANGE ERROR:" + err.Error()
	}
	return ""
}

// writeJSON writes v without a trailing newline and, like etcd, lets the
// content type be sniffed (text/plain).
func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// check is one named probe check; it returns nil when healthy.
type check struct {
	name string
	run  func(ctx context.Context) error
}

func livezChecks(m Member) []check {
	return []check{{"serializable_read", func(ctx context.Context) error { return m.Read(ctx, true) }}}
}

func readyzChecks(m Member) []check {
	return []check{
		{"data_corruption", func(context.Context) error {
			for _, a := range m.Alarms() {
				if a.Alarm == pb.AlarmType_CORRUPT {
					return fmt.Errorf("alarm activated: %s", a.Alarm)
				}
			}
			return nil
		}},
		{"serializable_read", func(ctx context.Context) error { return m.Read(ctx, true) }},
		{"linearizable_read", func(ctx context.Context) error { return m.Read(ctx, false) }},
		{"non_learner", func(context.Context) error {
			if m.IsLearner() {
				return fmt.Errorf("learner member")
			}
			return nil
		}},
	}
}

// registerProbe serves /<name> (all checks, minus ?exclude=) and
// /<name>/<check> (one check). The body is "ok", or with ?verbose, or on
// failure, one "[+]check ok" / "[-]check failed: reason" line per check.
func registerProbe(mux *http.ServeMux, name string, checks []check) {
	mux.HandleFunc("/"+name, getOnly(func(w http.ResponseWriter, r *http.Request) {
		excluded := map[string]bool{}
		for _, e := range r.URL.Query()["exclude"] {
			excluded[e] = true
		}
		var run []check
		for _, c := range checks {
			if !excluded[c.name] {
				run = append(run, c)
			}
		}
		serveChecks(w, r, name, run)
	}))
	for _, c := range checks {
		mux.HandleFunc("/"+name+"/"+c.name, getOnly(func(w http.ResponseWriter, r *http.Request) {
			serveChecks(w, r, name, []check{c})
		}))
	}
}

func serveChecks(w http.ResponseWriter, r *http.Request, name string, checks []check) {
	_, verbose := r.URL.Query()["verbose"]
	var b strings.Builder
	failed := false
	for _, c := range checks {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		err := c.run(ctx)
		cancel()
		if err != nil {
			failed = true
			fmt.Fprintf(&b, "[-]%s failed: %v\n", c.name, err)
			continue
		}
		fmt.Fprintf(&b, "[+]%s ok\n", c.name)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if failed {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "%s%s check failed\n", b.String(), name)
		return
	}
	if verbose {
		fmt.Fprintf(w, "%sok\n", b.String())
		return
	}
	fmt.Fprint(w, "ok\n")
}
