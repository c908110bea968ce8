package ctlv2

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// client speaks etcd's v2 HTTP API to a list of endpoints the way etcd's
// old v2 client did, because etcdctl's output (errors included) comes from
// it: a request goes to the pinned endpoint first and then to the others; a
// network error or a 5xx answer moves on to the next one; when all fail the
// error lists each failure ("client: etcd cluster is unavailable or
// misconfigured; error #0: ..."). A 500 or 503 is reported as "has no
// leader", as that client did.
type client struct {
	endpoints []url.URL
	pinned    int
	rt        http.RoundTripper
	// headerTimeout bounds the wait for response headers of each attempt
	// (--timeout).
	headerTimeout time.Duration
	user, pass    string
	hasAuth       bool
	// debug, when set, receives a curl command line for every attempt.
	debug io.Writer
}

// errInvalidJSON is the old client's answer to a body it cannot decode.
var errInvalidJSON = errors.New("client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.")

// errNoEndpoints: a sync found no published client URLs.
var errNoEndpoints = errors.New("client: no endpoints available")

// clusterError collects the failure of every endpoint of one request.
type clusterError struct {
	errs []error
}

func (e *clusterError) Error() string {
	s := "client: etcd cluster is unavailable or misconfigured"
	for i, err := range e.errs {
		s += fmt.Sprintf("; error #%d: %s\n", i, err)
	}
	return s
}

// detail is the second, per-endpoint listing etcdctl prints after the
// error itself.
func (e *clusterError) detail() string {
	var s string
	for i, err := range e.errs {
		s += fmt.Sprintf("error #%d: %s\n", i, err)
	}
	return s
}

// request builds one attempt's HTTP request for an endpoint.
type request func(ep url.URL) *http.Request

// do sends a request to the endpoints in turn, starting with the pinned
// one, and returns the first answer that is not a failure. oneShot
// requests (creates, which must not be repeated) stop at the first
// failure.
func (c *client) do(ctx context.Context, build request, oneShot bool) (*http.Response, []byte, error) {
	cerr := &clusterError{}
	n := len(c.endpoints)
	for i := c.pinned; i < c.pinned+n; i++ {
		k := i % n
		ep := c.endpoints[k]
		resp, body, err := c.doOne(ctx, ep, build)
		if err != nil {
			cerr.errs = append(cerr.errs, err)
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil, nil, err
			}
		} else if resp.StatusCode/100 == 5 {
			switch resp.StatusCode {
			case http.StatusInternalServerError, http.StatusServiceUnavailable:
				err = fmt.Errorf("client: etcd member %s has no leader", ep.String())
			default:
				err = fmt.Errorf("client: etcd member %s returns server error [%s]", ep.String(), http.StatusText(resp.StatusCode))
			}
			cerr.errs = append(cerr.errs, err)
		}
		if err != nil {
			if oneShot {
				c.pinned = (k + 1) % n
				return nil, nil, err
			}
			continue
		}
		c.pinned = k
		return resp, body, nil
	}
	return nil, nil, cerr
}

// doOne makes one attempt against one endpoint and reads the whole body.
func (c *client) doOne(ctx context.Context, ep url.URL, build request) (*http.Response, []byte, error) {
	req := build(ep)
	if c.hasAuth {
		req.SetBasicAuth(c.user, c.pass)
	}
	if c.debug != nil {
		c.printCurl(req)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The header timeout must not cut the body of a long poll short, so
	// it only fires while the headers are awaited.
	var mu sync.Mutex
	headers, timedOut := false, false
	if c.headerTimeout > 0 {
		t := time.AfterFunc(c.headerTimeout, func() {
			mu.Lock()
			defer mu.Unlock()
			if !headers {
				timedOut = true
				cancel()
			}
		})
		defer t.Stop()
	}
	resp, err := c.rt.RoundTrip(req.WithContext(rctx))
	mu.Lock()
	headers = true
	to := timedOut
	mu.Unlock()
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case to:
			return nil, nil, fmt.Errorf("client: endpoint %s exceeded header timeout", ep.String())
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, nil, err
	}
	return resp, body, nil
}

// printCurl prints the request as the curl command line that repeats it
// (--debug).
func (c *client) printCurl(req *http.Request) {
	cmd := fmt.Sprintf("curl -X %s %s", req.Method, req.URL.String())
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		cmd += fmt.Sprintf(" -d %q", string(b))
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	fmt.Fprintf(c.debug, "cURL Command: %s\n", cmd)
}

// sync replaces the endpoints with the client URLs the cluster publishes.
func (c *client) sync(ctx context.Context) error {
	ms, err := c.memberList(ctx)
	if err != nil {
		return err
	}
	var eps []url.URL
	for _, m := range ms {
		for _, s := range m.ClientURLs {
			u, err := url.Parse(s)
			if err != nil {
				return err
			}
			eps = append(eps, *u)
		}
	}
	if len(eps) == 0 {
		return errNoEndpoints
	}
	if sameEndpoints(c.endpoints, eps) {
		return nil
	}
	rand.Shuffle(len(eps), func(i, j int) { eps[i], eps[j] = eps[j], eps[i] })
	c.endpoints, c.pinned = eps, 0
	return nil
}

func sameEndpoints(a, b []url.URL) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, u := range a {
		seen[u.String()]++
	}
	for _, u := range b {
		seen[u.String()]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func (c *client) endpointList(sep string) string {
	var s []string
	for _, u := range c.endpoints {
		s = append(s, u.String())
	}
	return strings.Join(s, sep)
}

// isConnectionError reports whether err means no endpoint could be
// reached at all (etcdctl then exits with its bad-connection code).
func isConnectionError(err error) bool {
	var cerr *clusterError
	if errors.As(err, &cerr) {
		for _, e := range cerr.errs {
			if !isConnectionError(e) {
				return false
			}
		}
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Op == "dial" || op.Op == "read"
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// newTransport builds the HTTP transport with the TLS files given.
func newTransport(certFile, keyFile, caFile string, dialTimeout time.Duration) (*http.Transport, error) {
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	if certFile == "" && keyFile == "" && caFile == "" {
		return tr, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("failed to load CA certificates from %s", caFile)
		}
		cfg.RootCAs = pool
	}
	tr.TLSClientConfig = cfg
	return tr, nil
}

// member is a member as /v2/members lists it.
type member struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
}

// membersError is a {"message": ...} answer of /v2/members or /v2/auth.
type membersError struct {
	Message string `json:"message"`
}

func (e membersError) Error() string { return e.Message }

func unexpectedStatus(code int, want ...int) error {
	for _, w := range want {
		if code == w {
			return nil
		}
	}
	return fmt.Errorf("unexpected status code %d", code)
}

func plainRequest(method, path string, body any) request {
	return func(ep url.URL) *http.Request {
		ep.Path = canonicalPath(ep.Path + path)
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, ep.String(), rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req
	}
}

func (c *client) memberList(ctx context.Context) ([]member, error) {
	resp, body, err := c.do(ctx, plainRequest("GET", "/v2/members", nil), false)
	if err != nil {
		return nil, err
	}
	if err := unexpectedStatus(resp.StatusCode, http.StatusOK); err != nil {
		return nil, err
	}
	var out struct {
		Members []member `json:"members"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	return out.Members, nil
}

func (c *client) memberLeader(ctx context.Context) (*member, error) {
	resp, body, err := c.do(ctx, plainRequest("GET", "/v2/members/leader", nil), false)
	if err != nil {
		return nil, err
	}
	if err := unexpectedStatus(resp.StatusCode, http.StatusOK); err != nil {
		return nil, err
	}
	var m member
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func (c *client) memberAdd(ctx context.Context, peerURL string) (*member, error) {
	urls, err := checkURLs([]string{peerURL})
	if err != nil {
		return nil, err
	}
	resp, body, err := c.do(ctx, plainRequest("POST", "/v2/members", map[string][]string{"peerURLs": urls}), false)
	if err != nil {
		return nil, err
	}
	if err := unexpectedStatus(resp.StatusCode, http.StatusCreated, http.StatusConflict); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusCreated {
		var merr membersError
		if err := json.Unmarshal(body, &merr); err != nil {
			return nil, err
		}
		return nil, merr
	}
	var m member
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func (c *client) memberRemove(ctx context.Context, id string) error {
	resp, _, err := c.do(ctx, plainRequest("DELETE", "/v2/members/"+id, nil), false)
	if err != nil {
		return err
	}
	return unexpectedStatus(resp.StatusCode, http.StatusNoContent, http.StatusGone)
}

func (c *client) memberUpdate(ctx context.Context, id string, peerURLs []string) error {
	urls, err := checkURLs(peerURLs)
	if err != nil {
		return err
	}
	resp, body, err := c.do(ctx, plainRequest("PUT", "/v2/members/"+id, map[string][]string{"peerURLs": urls}), false)
	if err != nil {
		return err
	}
	if err := unexpectedStatus(resp.StatusCode, http.StatusNoContent, http.StatusNotFound, http.StatusConflict); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusNoContent {
		var merr membersError
		if err := json.Unmarshal(body, &merr); err != nil {
			return err
		}
		return merr
	}
	return nil
}

// checkURLs validates peer URLs as etcd does before sending them, and
// sorts them.
func checkURLs(in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "unix" && u.Scheme != "unixs" {
			return nil, fmt.Errorf("URL scheme must be http, https, unix, or unixs: %s", s)
		}
		if _, _, err := net.SplitHostPort(u.Host); err != nil {
			return nil, fmt.Errorf(`URL address does not have the form "host:port": %s`, s)
		}
		if u.Path != "" {
			return nil, fmt.Errorf("URL must not contain a path: %s", s)
		}
		out = append(out, u.String())
	}
	sort.Strings(out)
	return out, nil
}
