package v2http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/v2store"
)

// Backend is what the handlers need from the member.
type Backend interface {
	// Store is the member's v2 store.
	Store() *v2store.Store
	// ClusterID and MemberID identify the member.
	ClusterID() uint64
	MemberID() uint64
	// RaftStatus is the committed index and the term (X-Raft-Index,
	// X-Raft-Term).
	RaftStatus() (index, term uint64)
	// ProposeV2 replicates a v2 change and returns its event; the
	// requester (empty while auth is off) is checked again at apply.
	ProposeV2(ctx context.Context, user string, req *v2store.Request) (*v2store.Event, error)
	// LinearizableRead returns once the member applied everything
	// committed when it was called.
	LinearizableRead(ctx context.Context) error
	// Authenticate returns the user of a request while v3 auth is
	// enabled ("" when it is off); an error means bad or missing
	// credentials.
	Authenticate(r *http.Request) (string, error)
	// Permitted reports whether user may read (or write) the keys in
	// [key, end) (end nil: key alone); root may do anything.
	Permitted(user string, key, end []byte, write bool) bool
	// IsAdmin reports whether user has the root role.
	IsAdmin(user string) bool

	Members(ctx context.Context) ([]*pb.Member, error)
	Leader() uint64
	AddMember(ctx context.Context, peerURLs []string) (*pb.Member, error)
	RemoveMember(ctx context.Context, id uint64) error
	UpdateMember(ctx context.Context, id uint64, peerURLs []string) error
	// SelfStats and LeaderStats are /v2/stats/self and /v2/stats/leader;
	// LeaderStats reports false on a follower.
	SelfStats() any
	LeaderStats() (any, bool)
	// Done is closed when the member stops (long polls end).
	Done() <-chan struct{}
}

// Register adds the v2 endpoints to mux.
func Register(mux *http.ServeMux, b Backend) {
	k := &keys{b: b}
	mux.Handle("/v2/keys", k)
	mux.Handle("/v2/keys/", k)
	m := &members{b: b}
	mux.Handle("/v2/members", m)
	mux.Handle("/v2/members/", m)
	mux.HandleFunc("/v2/machines", func(w http.ResponseWriter, r *http.Request) { machines(b, w, r) })
	mux.HandleFunc("/v2/stats/self", func(w http.ResponseWriter, r *http.Request) { selfStats(b, w, r) })
	mux.HandleFunc("/v2/stats/leader", func(w http.ResponseWriter, r *http.Request) { leaderStats(b, w, r) })
	mux.HandleFunc("/v2/stats/store", func(w http.ResponseWriter, r *http.Request) { storeStats(b, w, r) })
	registerAuth(mux, b)
}

func allowMethod(w http.ResponseWriter, m string, ms ...string) bool {
	for _, x := range ms {
		if m == x {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(ms, ","))
	http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	return false
}

// httpError is the {"message": ...} error of the members and stats
// endpoints.
func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{msg})
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if code != http.StatusOK {
		w.WriteHeader(code)
	}
	_ = json.NewEncoder(w).Encode(v)
}

func idString(id uint64) string { return fmt.Sprintf("%x", id) }

func machines(b Backend, w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r.Method, "GET", "HEAD") {
		return
	}
	ms, err := b.Members(r.Context())
	if err != nil {
		httpError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	var urls []string
	for _, m := range ms {
		urls = append(urls, m.ClientURLs...)
	}
	_, _ = w.Write([]byte(strings.Join(urls, ", ")))
}

func selfStats(b Backend, w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r.Method, "GET") {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	out, _ := json.Marshal(b.SelfStats())
	_, _ = w.Write(out)
}

func leaderStats(b Backend, w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r.Method, "GET") {
		return
	}
	st, ok := b.LeaderStats()
	if !ok {
		httpError(w, http.StatusForbidden, "not current leader")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	out, _ := json.Marshal(st)
	_, _ = w.Write(out)
}

func storeStats(b Backend, w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r.Method, "GET") {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.Store().StatsJSON())
}
