package v2http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-kv/cairn/internal/v2store"
)

const keysPrefix = "/v2/keys"

// keyRequest is a parsed /v2/keys request.
type keyRequest struct {
	store            v2store.Request
	wait, stream     bool
	quorum, sorted   bool
	since            uint64
	noValueOnSuccess bool
}

type keys struct{ b Backend }

func (h *keys) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r.Method, "HEAD", "GET", "PUT", "POST", "DELETE") {
		return
	}
	w.Header().Set("X-Etcd-Cluster-ID", idString(h.b.ClusterID()))
	kr, err := parseKeyRequest(r, time.Now())
	if err != nil {
		writeKeyError(w, err)
		return
	}
	user, ok := h.authorize(r, kr)
	if !ok {
		writeKeyError(w, v2store.NewError(v2store.EcodeUnauthorized, "Insufficient credentials", 0))
		return
	}
	switch r.Method {
	case "GET", "HEAD":
		h.get(w, r, kr)
	default:
		ev, err := h.b.ProposeV2(r.Context(), user, &kr.store)
		if err != nil {
			writeKeyError(w, err)
			return
		}
		h.writeEvent(w, ev, kr.noValueOnSuccess)
	}
}

// authorize checks the request's credentials and its permission on the
// key, as v3 permissions on the same key bytes: recursive requests and
// directories need the whole prefix.
func (h *keys) authorize(r *http.Request, kr *keyRequest) (string, bool) {
	user, err := h.b.Authenticate(r)
	if err != nil {
		return "", false
	}
	if user == "" {
		return "", true
	}
	key := strings.TrimPrefix(kr.store.Path, v2store.KeysPrefix)
	if key == "" {
		key = "/"
	}
	var end []byte
	if kr.store.Recursive || kr.store.Dir {
		end = prefixEnd([]byte(key))
	}
	write := r.Method != "GET" && r.Method != "HEAD"
	return user, h.b.Permitted(user, []byte(key), end, write)
}

func prefixEnd(key []byte) []byte {
	end := append([]byte(nil), key...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0}
}

func (h *keys) get(w http.ResponseWriter, r *http.Request, kr *keyRequest) {
	if kr.quorum {
		if err := h.b.LinearizableRead(r.Context()); err != nil {
			writeKeyError(w, err)
			return
		}
	}
	st := h.b.Store()
	if kr.wait {
		wa, err := st.Watch(kr.store.Path, kr.store.Recursive, kr.stream, kr.since)
		if err != nil {
			writeKeyError(w, err)
			return
		}
		h.watch(w, r, wa, kr.stream)
		return
	}
	ev, err := st.Get(kr.store.Path, kr.store.Recursive, kr.sorted)
	if err != nil {
		writeKeyError(w, err)
		return
	}
	h.writeEvent(w, ev, false)
}

func (h *keys) raftHeaders(w http.ResponseWriter) {
	idx, term := h.b.RaftStatus()
	w.Header().Set("X-Raft-Index", strconv.FormatUint(idx, 10))
	w.Header().Set("X-Raft-Term", strconv.FormatUint(term, 10))
}

func (h *keys) writeEvent(w http.ResponseWriter, ev *v2store.Event, noValueOnSuccess bool) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Etcd-Index", strconv.FormatUint(ev.EtcdIndex, 10))
	h.raftHeaders(w)
	if ev.IsCreated() {
		w.WriteHeader(http.StatusCreated)
	}
	out := ev.Render(v2store.KeysPrefix, time.Now())
	if noValueOnSuccess {
		switch out.Action {
		case v2store.ActionSet, v2store.ActionCompareAndSwap, v2store.ActionCreate, v2store.ActionUpdate:
			out.Node, out.PrevNode = nil, nil
		}
	}
	_ = json.NewEncoder(w).Encode(out)
}

// watch long-polls: headers go out at once, then the first event (or
// every event, when streaming) as a JSON line.
func (h *keys) watch(w http.ResponseWriter, r *http.Request, wa *v2store.Watcher, stream bool) {
	defer wa.Remove()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Etcd-Index", strconv.FormatUint(wa.StartIndex(), 10))
	h.raftHeaders(w)
	w.WriteHeader(http.StatusOK)
	flush(w)
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.b.Done():
			return
		case ev, ok := <-wa.EventChan():
			if !ok {
				return
			}
			if err := json.NewEncoder(w).Encode(ev.Render(v2store.KeysPrefix, time.Now())); err != nil || !stream {
				return
			}
			flush(w)
		}
	}
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// writeKeyError writes a v2 error; any other error is etcd's 300 "Raft
// Internal Error" with the error's text as the cause.
func writeKeyError(w http.ResponseWriter, err error) {
	var e *v2store.Error
	if errors.As(err, &e) {
		c := *e
		c.Cause = strings.TrimPrefix(c.Cause, v2store.KeysPrefix)
		e = &c
	} else {
		if errors.Is(err, context.Canceled) {
			return
		}
		e = v2store.NewError(v2store.EcodeRaftInternal, err.Error(), 0)
	}
	w.Header().Add("X-Etcd-Index", strconv.FormatUint(e.Index, 10))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.StatusCode())
	_, _ = w.Write(append(e.JSON(), '\n'))
}

func reqError(code int, cause string) error { return v2store.NewError(code, cause, 0) }

// parseKeyRequest reads the form (query and body) the way etcd does, with
// its error codes and causes. A TTL becomes an absolute expiration from now.
func parseKeyRequest(r *http.Request, now time.Time) (*keyRequest, error) {
	if err := r.ParseForm(); err != nil {
		return nil, reqError(v2store.EcodeInvalidForm, err.Error())
	}
	if !strings.HasPrefix(r.URL.Path, keysPrefix) {
		return nil, reqError(v2store.EcodeInvalidForm, "incorrect key prefix")
	}
	f := r.Form
	kr := &keyRequest{}
	kr.store.Method = r.Method
	kr.store.Path = path.Join(v2store.KeysPrefix, path.Clean("/"+r.URL.Path[len(keysPrefix):]))
	var err error
	if kr.store.PrevIndex, err = getUint64(f, "prevIndex"); err != nil {
		return nil, reqError(v2store.EcodeIndexNaN, `invalid value for "prevIndex"`)
	}
	if kr.since, err = getUint64(f, "waitIndex"); err != nil {
		return nil, reqError(v2store.EcodeIndexNaN, `invalid value for "waitIndex"`)
	}
	for _, b := range []struct {
		name string
		p    *bool
	}{
		{"recursive", &kr.store.Recursive}, {"sorted", &kr.sorted}, {"wait", &kr.wait},
		{"dir", &kr.store.Dir}, {"quorum", &kr.quorum}, {"stream", &kr.stream},
	} {
		if *b.p, err = getBool(f, b.name); err != nil {
			return nil, reqError(v2store.EcodeInvalidField, fmt.Sprintf("invalid value for %q", b.name))
		}
	}
	if kr.wait && r.Method != "GET" {
		return nil, reqError(v2store.EcodeInvalidField, `"wait" can only be used with GET requests`)
	}
	kr.store.PrevValue = f.Get("prevValue")
	if _, ok := f["prevValue"]; ok && kr.store.PrevValue == "" {
		return nil, reqError(v2store.EcodePrevValueRequired, `"prevValue" cannot be empty`)
	}
	if kr.noValueOnSuccess, err = getBool(f, "noValueOnSuccess"); err != nil {
		return nil, reqError(v2store.EcodeInvalidField, `invalid value for "noValueOnSuccess"`)
	}
	var ttl *uint64
	if f.Get("ttl") != "" {
		i, err := getUint64(f, "ttl")
		if err != nil {
			return nil, reqError(v2store.EcodeTTLNaN, `invalid value for "ttl"`)
		}
		ttl = &i
	}
	if _, ok := f["prevExist"]; ok {
		bv, err := getBool(f, "prevExist")
		if err != nil {
			return nil, reqError(v2store.EcodeInvalidField, "invalid value for prevExist")
		}
		kr.store.PrevExist = &bv
	}
	if _, ok := f["refresh"]; ok {
		bv, err := getBool(f, "refresh")
		if err != nil {
			return nil, reqError(v2store.EcodeInvalidField, "invalid value for refresh")
		}
		kr.store.Refresh = bv
		if bv {
			if _, ok := f["value"]; ok && f.Get("value") != "" {
				return nil, reqError(v2store.EcodeRefreshValue, "A value was provided on a refresh")
			}
			if ttl == nil {
				return nil, reqError(v2store.EcodeRefreshTTLRequired, "No TTL value set")
			}
		}
	}
	kr.store.Val = f.Get("value")
	if ttl != nil {
		kr.store.Expiration = now.Add(time.Duration(*ttl) * time.Second).UnixNano()
	}
	return kr, nil
}

// getUint64 and getBool parse the first value of a form field when
// present (strconv's syntax, as etcd's).
func getUint64(f url.Values, key string) (uint64, error) {
	if v, ok := f[key]; ok {
		return strconv.ParseUint(v[0], 10, 64)
	}
	return 0, nil
}

func getBool(f url.Values, key string) (bool, error) {
	if v, ok := f[key]; ok {
		return strconv.ParseBool(v[0])
	}
	return false, nil
}
