package v2http

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

const membersPrefix = "/v2/members"

// member is a member as /v2/members shows it.
type member struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
}

func toMember(m *pb.Member) member {
	out := member{ID: idString(m.ID), Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs}
	if out.PeerURLs == nil {
		out.PeerURLs = []string{}
	}
	if out.ClientURLs == nil {
		out.ClientURLs = []string{}
	}
	return out
}

type members struct{ b Backend }

func (h *members) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r.Method, "GET", "POST", "DELETE", "PUT") {
		return
	}
	// Reading the members is open to all, as in etcd; changing them takes
	// root once auth is on.
	if r.Method == "GET" {
	} else if user, err := h.b.Authenticate(r); err != nil || (user != "" && !h.b.IsAdmin(user)) {
		httpError(w, http.StatusUnauthorized, "Insufficient credentials")
		return
	}
	w.Header().Set("X-Etcd-Cluster-ID", idString(h.b.ClusterID()))
	ctx := r.Context()
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, membersPrefix), "/")
	switch r.Method {
	case "GET":
		ms, err := h.b.Members(ctx)
		if err != nil {
			memberError(w, err)
			return
		}
		sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
		switch rest {
		case "":
			out := struct {
				Members []member `json:"members"`
			}{Members: []member{}}
			for _, m := range ms {
				out.Members = append(out.Members, toMember(m))
			}
			writeJSON(w, http.StatusOK, out)
		case "leader":
			lead := h.b.Leader()
			for _, m := range ms {
				if lead != 0 && m.ID == lead {
					writeJSON(w, http.StatusOK, toMember(m))
					return
				}
			}
			httpError(w, http.StatusServiceUnavailable, "During election")
		default:
			httpError(w, http.StatusNotFound, "Not found")
		}
	case "POST":
		urls, ok := readPeerURLs(w, r)
		if !ok {
			return
		}
		m, err := h.b.AddMember(ctx, urls)
		if err != nil {
			memberError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, toMember(m))
	case "DELETE":
		id, ok := memberID(w, rest)
		if !ok {
			return
		}
		if err := h.b.RemoveMember(ctx, id); err != nil {
			memberIDError(w, err, id)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "PUT":
		id, ok := memberID(w, rest)
		if !ok {
			return
		}
		urls, ok := readPeerURLs(w, r)
		if !ok {
			return
		}
		if err := h.b.UpdateMember(ctx, id, urls); err != nil {
			memberIDError(w, err, id)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func memberID(w http.ResponseWriter, s string) (uint64, bool) {
	if s == "" {
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return 0, false
	}
	id, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		httpError(w, http.StatusNotFound, "No such member: "+s)
		return 0, false
	}
	return id, true
}

// readPeerURLs reads {"peerURLs": [...]} from a JSON body.
func readPeerURLs(w http.ResponseWriter, r *http.Request) ([]string, bool) {
	ctype := r.Header.Get("Content-Type")
	if i := strings.Index(ctype, ";"); i != -1 {
		ctype = strings.TrimSpace(strings.ToLower(ctype[:i]))
	}
	if ctype != "application/json" {
		httpError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Bad Content-Type %s, accept application/json", ctype))
		return nil, false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	var req struct {
		PeerURLs []string `json:"peerURLs"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	for _, s := range req.PeerURLs {
		u, err := url.Parse(s)
		if err != nil {
			httpError(w, http.StatusBadRequest, err.Error())
			return nil, false
		}
		if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "unix" && u.Scheme != "unixs" {
			httpError(w, http.StatusBadRequest, "URL scheme must be http, https, unix, or unixs: "+s)
			return nil, false
		}
	}
	return req.PeerURLs, true
}

// HTTPError is a failure with the status and message /v2/members answers
// with; the backend returns it for the failures etcd names (no such member,
// URL taken...). Any other error is a 500 "Internal Server Error".
type HTTPError struct {
	Code    int
	Message string
}

func (e *HTTPError) Error() string { return e.Message }

func memberIDError(w http.ResponseWriter, err error, _ uint64) { memberError(w, err) }

func memberError(w http.ResponseWriter, err error) {
	var he *HTTPError
	if errors.As(err, &he) {
		httpError(w, he.Code, he.Message)
		return
	}
	httpError(w, http.StatusInternalServerError, "Internal Server Error")
}
