package integration

// Tests of the client listener flags, each against a running member:
// --listen-client-http-urls, --grpc-keepalive-*, --max-concurrent-streams,
// --enable-grpc-gateway, --cors, --host-whitelist, the compaction pacing
// flags and the slow-request warnings. The socket options are in
// clientflags_unix_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/logging"
	"github.com/cairn-kv/cairn/internal/server"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// logLines collects a member's log, as etcd-shaped JSON lines.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// find returns the lines with message msg that match, polling until one
// shows up or the deadline passes.
func (l *logLines) find(t *testing.T, msg string, match func(map[string]any) bool) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out []map[string]any
		sc := bufio.NewScanner(strings.NewReader(l.String()))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("log line is not JSON: %q", sc.Text())
			}
			if line["msg"] == msg && (match == nil || match(line)) {
				out = append(out, line)
			}
		}
		if len(out) > 0 || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startLogged starts a single member as testutil.StartMember does, with its
// log collected.
func startLogged(t *testing.T, opts ...testutil.Option) (*testutil.Member, *logLines) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	u := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}
	cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []url.URL{u}, []url.URL{u}
	cfg.ListenPeerURLs = []url.URL{{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}}
	cfg.ElectionTimeout, cfg.HeartbeatInterval = 500*time.Millisecond, 50*time.Millisecond
	for _, o := range opts {
		o(cfg)
	}
	logs := &logLines{}
	srv, err := server.New(cfg, slog.New(logging.NewHandler(logs, logging.Options{})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start member: %v\n%s", err, logs)
	}
	t.Cleanup(func() { srv.Close() })
	return &testutil.Member{ClientURL: u.String(), Endpoint: u.Host, Config: cfg, Server: srv}, logs
}

func freeURL(t *testing.T, scheme string) url.URL {
	return url.URL{Scheme: scheme, Host: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}
}

// httpDo sends a request with the given method, Host and Origin (when not
// empty) and returns the response with its body read.
func httpDo(t *testing.T, c *http.Client, method, u, host, origin string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// grpcWorks reports whether a KV request over gRPC to endpoint succeeds.
func grpcWorks(t *testing.T, endpoint string) error {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = c.Put(ctx, "probe", "v")
	return err
}

// TestListenClientHTTPURLs: with --listen-client-http-urls the client URL
// serves gRPC alone and the HTTP URL the HTTP endpoints alone (health,
// version, metrics, the JSON gateway, v2), as in etcd: each hangs up on the
// other protocol.
func TestListenClientHTTPURLs(t *testing.T) {
	httpURL := freeURL(t, "http")
	m := testutil.StartMember(t, func(c *config.Config) { c.ListenClientHTTPURLs = []url.URL{httpURL} })
	if err := grpcWorks(t, m.Endpoint); err != nil {
		t.Fatalf("gRPC on the client URL: %v", err)
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, path := range []string{"/health", "/version", "/metrics", "/v2/keys"} {
		if resp, body := httpDo(t, hc, "GET", httpURL.String()+path, "", ""); resp.StatusCode != 200 {
			t.Errorf("GET %s on the HTTP URL: %d %s", path, resp.StatusCode, body)
		}
	}
	if code, out := post(t, httpURL.String()+"/v3/kv/range", `{"key": "cHJvYmU="}`); code != 200 || out["count"] != "1" {
		t.Errorf("gateway on the HTTP URL: %d %v", code, out)
	}
	if _, err := hc.Get(m.ClientURL + "/health"); err == nil {
		t.Error("HTTP served on the gRPC-only client URL")
	}
	if err := grpcWorks(t, httpURL.Host); err == nil {
		t.Error("gRPC served on the HTTP URL")
	}
}

// TestGRPCGatewayDisabled: --enable-grpc-gateway=false drops /v3/ (404) and
// keeps the other HTTP endpoints and gRPC.
func TestGRPCGatewayDisabled(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) { c.EnableGRPCGateway = false })
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, path := range []string{"/v3/kv/range", "/v3beta/kv/range", "/v3/maintenance/status"} {
		resp, err := hc.Post(m.ClientURL+path, "application/json", strings.NewReader(`{"key":"YQ=="}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, body := httpDo(t, hc, "GET", m.ClientURL+"/health", "", ""); resp.StatusCode != 200 {
		t.Errorf("/health: %d %s", resp.StatusCode, body)
	}
	if err := grpcWorks(t, m.Endpoint); err != nil {
		t.Errorf("gRPC: %v", err)
	}
}

// TestCORS: the client and HTTP URLs answer with etcd's Access-Control
// headers: "*" by default, the request's origin when --cors lists it, none
// otherwise; preflights get 200 with no body. --listen-metrics-urls serve
// without them, as etcd's.
func TestCORS(t *testing.T) {
	hc := &http.Client{Timeout: 5 * time.Second}
	t.Run("default", func(t *testing.T) {
		httpURL, metricsURL := freeURL(t, "http"), freeURL(t, "http")
		m := testutil.StartMember(t, func(c *config.Config) {
			c.ListenClientHTTPURLs = []url.URL{httpURL}
			c.ListenMetricsURLs = []url.URL{metricsURL}
		})
		if got := m.Config.CORS; len(got) != 1 || got[0] != "*" {
			t.Fatalf("default --cors %q", got)
		}
		resp, _ := httpDo(t, hc, "GET", httpURL.String()+"/version", "", "http://any.example:1")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("Access-Control-Allow-Origin %q, want *", got)
		}
		resp, _ = httpDo(t, hc, "GET", metricsURL.String()+"/health", "", "http://any.example:1")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("metrics URL sends Access-Control-Allow-Origin %q", got)
		}
	})
	t.Run("listed origins", func(t *testing.T) {
		m := testutil.StartMember(t, func(c *config.Config) { c.CORS = []string{"http://a.example:8080"} })
		for _, path := range []string{"/version", "/health", "/v3/kv/range"} {
			method := "GET"
			if strings.HasPrefix(path, "/v3/") {
				method = "POST"
			}
			resp, _ := httpDo(t, hc, method, m.ClientURL+path, "", "http://a.example:8080")
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://a.example:8080" {
				t.Errorf("%s: Access-Control-Allow-Origin %q", path, got)
			}
			if got := resp.Header.Get("Access-Control-Allow-Methods"); got != "POST, GET, OPTIONS, PUT, DELETE" {
				t.Errorf("%s: Access-Control-Allow-Methods %q", path, got)
			}
			if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "accept, content-type, authorization" {
				t.Errorf("%s: Access-Control-Allow-Headers %q", path, got)
			}
			resp, _ = httpDo(t, hc, method, m.ClientURL+path, "", "http://b.example:8080")
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("%s: unlisted origin gets Access-Control-Allow-Origin %q", path, got)
			}
		}
		resp, body := httpDo(t, hc, "OPTIONS", m.ClientURL+"/v3/kv/put", "", "http://a.example:8080")
		if resp.StatusCode != 200 || body != "" || resp.Header.Get("Access-Control-Allow-Origin") != "http://a.example:8080" {
			t.Errorf("preflight: %d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
}

// TestHostWhitelist: over plain HTTP a Host outside --host-whitelist is
// refused with etcd's 421 and a warning; listed hosts (any port) pass, and
// so do gRPC and every request over TLS.
func TestHostWhitelist(t *testing.T) {
	ca := testutil.NewCA(t, "cairn")
	cert, key := ca.Issue("server")
	secure := freeURL(t, "https")
	m, logs := startLogged(t, func(c *config.Config) {
		c.HostWhitelist = []string{"example.com"}
		c.ListenClientURLs = append(c.ListenClientURLs, secure)
		c.CertFile, c.KeyFile = cert, key
	})
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, body := httpDo(t, hc, "GET", m.ClientURL+"/version", "evil.com:2379", "")
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("unlisted host: %d %s", resp.StatusCode, body)
	}
	const want = "\netcd received your request, but the Host header was unrecognized.\n\n" +
		"To fix this, choose one of the following options:\n" +
		"- Enable TLS, then any HTTPS request will be allowed.\n" +
		"- Add the hostname you want to use to the whitelist in settings.\n" +
		"  - e.g. etcd --host-whitelist \"evil.com\"\n\n" +
		"This requirement has been added to help prevent \"DNS Rebinding\" attacks (CVE-2018-5702).\n\n"
	if body != want {
		t.Errorf("body:\n%q\nwant\n%q", body, want)
	}
	if lines := logs.find(t, "rejecting HTTP request to prevent DNS rebinding attacks", func(l map[string]any) bool { return l["host"] == "evil.com" }); len(lines) == 0 {
		t.Error("no warning logged")
	}
	if resp, body := httpDo(t, hc, "GET", m.ClientURL+"/version", "example.com:2379", ""); resp.StatusCode != 200 {
		t.Errorf("listed host: %d %s", resp.StatusCode, body)
	}
	if resp, body := httpDo(t, hc, "POST", m.ClientURL+"/v3/kv/range", "evil.com", ""); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("gateway, unlisted host: %d %s", resp.StatusCode, body)
	}
	if err := grpcWorks(t, m.Endpoint); err != nil {
		t.Errorf("gRPC: %v", err)
	}
	tc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: ca.ClientTLS("", "")}}
	if resp, body := httpDo(t, tc, "GET", secure.String()+"/version", "evil.com", ""); resp.StatusCode != 200 {
		t.Errorf("TLS, unlisted host: %d %s", resp.StatusCode, body)
	}
}

// rawH2 is a bare HTTP/2 client connection: it answers nothing by itself,
// so tests see every ping and can leave the server's pings unanswered.
type rawH2 struct {
	c  net.Conn
	fr *http2.Framer
}

func dialH2(t *testing.T, addr string) *rawH2 {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	h := &rawH2{c: c, fr: http2.NewFramer(c, c)}
	if err := h.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return h
}

// openStream opens stream id towards a gRPC method and leaves it open.
func (h *rawH2) openStream(t *testing.T, id uint32, method string) {
	t.Helper()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", method}, {":authority", "cairn"},
		{"content-type", "application/grpc"}, {"te", "trailers"}} {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
}

// next reads the next frame that is not a settings or window frame before
// the deadline, acknowledging the server's settings.
func (h *rawH2) next(deadline time.Time) (http2.Frame, error) {
	if err := h.c.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			return nil, err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := h.fr.WriteSettingsAck(); err != nil {
					return nil, err
				}
			}
		case *http2.WindowUpdateFrame:
		default:
			return f, nil
		}
	}
}

// pingOften opens a stream, then pings the server n times, every gap, and
// returns the GOAWAY frame the server sent, if any.
func pingOften(t *testing.T, addr string, n int, gap time.Duration) *http2.GoAwayFrame {
	t.Helper()
	h := dialH2(t, addr)
	h.openStream(t, 1, "/etcdserverpb.Watch/Watch")
	for i := range n {
		if err := h.fr.WritePing(false, [8]byte{byte(i)}); err != nil {
			break // the server may have closed the connection already
		}
		until := time.Now().Add(gap)
		for {
			f, err := h.next(until)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return nil // closed without GOAWAY
			}
			if ga, ok := f.(*http2.GoAwayFrame); ok {
				return ga
			}
		}
	}
	return nil
}

// TestGRPCKeepAliveMinTime: a client pinging more often than
// --grpc-keepalive-min-time is sent away with GOAWAY ENHANCE_YOUR_CALM
// "too_many_pings"; under a shorter minimum the same pings are fine.
func TestGRPCKeepAliveMinTime(t *testing.T) {
	strict := testutil.StartMember(t, func(c *config.Config) { c.GRPCKeepAliveMinTime = 5 * time.Second })
	ga := pingOften(t, strict.Endpoint, 6, 50*time.Millisecond)
	if ga == nil || ga.ErrCode != http2.ErrCodeEnhanceYourCalm || string(ga.DebugData()) != "too_many_pings" {
		t.Errorf("min-time 5s, pings every 50ms: got %v, want GOAWAY ENHANCE_YOUR_CALM too_many_pings", ga)
	}
	lax := testutil.StartMember(t, func(c *config.Config) { c.GRPCKeepAliveMinTime = 10 * time.Millisecond })
	if ga := pingOften(t, lax.Endpoint, 6, 50*time.Millisecond); ga != nil {
		t.Errorf("min-time 10ms, pings every 50ms: GOAWAY %v %q", ga.ErrCode, ga.DebugData())
	}
}

// TestGRPCKeepAliveIntervalTimeout: after --grpc-keepalive-interval without
// activity the server pings, and it closes a connection that does not
// answer within --grpc-keepalive-timeout.
func TestGRPCKeepAliveIntervalTimeout(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) {
		c.GRPCKeepAliveInterval = time.Second // gRPC's floor
		c.GRPCKeepAliveTimeout = 300 * time.Millisecond
	})
	h := dialH2(t, m.Endpoint)
	start := time.Now()
	var pinged time.Time
	for {
		f, err := h.next(start.Add(10 * time.Second))
		if err != nil {
			if pinged.IsZero() {
				t.Fatalf("connection ended before the server pinged: %v", err)
			}
			if closed := time.Since(pinged); closed > 3*time.Second {
				t.Errorf("closed %v after the unanswered ping, want about 300ms", closed)
			}
			return
		}
		if p, ok := f.(*http2.PingFrame); ok && !p.IsAck() && pinged.IsZero() {
			pinged = time.Now()
			if idle := pinged.Sub(start); idle < 800*time.Millisecond || idle > 5*time.Second {
				t.Errorf("server pinged after %v idle, want about 1s", idle)
			}
		}
	}
}

// TestMaxConcurrentStreams: one connection holds at most
// --max-concurrent-streams streams; the next waits for one to end.
func TestMaxConcurrentStreams(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) { c.MaxConcurrentStreams = 2 })
	conn, err := grpc.NewClient(m.Endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := ctxT(t)
	// A first call makes the client learn the server's settings.
	if _, err := pb.NewKVClient(conn).Range(ctx, &pb.RangeRequest{Key: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	wc := pb.NewWatchClient(conn)
	openWatch := func(ctx context.Context) error {
		s, err := wc.Watch(ctx)
		if err != nil {
			return err
		}
		if err := s.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: &pb.WatchCreateRequest{Key: []byte("a")}}}); err != nil {
			return err
		}
		_, err = s.Recv()
		return err
	}
	first, cancelFirst := context.WithCancel(ctx)
	if err := openWatch(first); err != nil {
		t.Fatal(err)
	}
	if err := openWatch(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := openWatch(short); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("third stream: %v, want DeadlineExceeded while two are open", err)
	}
	cancelFirst()
	if err := openWatch(ctx); err != nil {
		t.Fatalf("stream after one ended: %v", err)
	}
}

// TestCompactionPacing: --compaction-batch-limit and
// --compaction-sleep-interval spread a compaction over batches with pauses,
// and writes go on while it runs.
func TestCompactionPacing(t *testing.T) {
	const (
		revs  = 100
		limit = 10
		pause = 100 * time.Millisecond
	)
	m := testutil.StartMember(t, func(c *config.Config) {
		c.CompactionBatchLimit, c.CompactionSleepInterval = limit, pause
	})
	c := m.Client(t)
	ctx := ctxT(t)
	var last int64
	for i := range revs {
		resp, err := c.Put(ctx, fmt.Sprint("k", i%10), "v")
		if err != nil {
			t.Fatal(err)
		}
		last = resp.Header.Revision
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := c.Compact(ctx, last, clientv3.WithCompactPhysical())
		done <- err
	}()
	var writes int
	var slowest time.Duration
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		default:
			t0 := time.Now()
			if _, err := c.Put(ctx, "during", "v"); err != nil {
				t.Fatal(err)
			}
			writes++
			slowest = max(slowest, time.Since(t0))
		}
	}
	took := time.Since(start)
	// revs revisions in batches of limit: at least revs/limit-1 pauses.
	if want := (revs/limit - 1) * pause; took < want {
		t.Errorf("compaction took %v, want at least %v of pauses", took, want)
	}
	if writes < 3 || slowest > took/2 {
		t.Errorf("%d writes during a %v compaction, the slowest %v: writes were held back", writes, took, slowest)
	}
	if _, err := c.Get(ctx, "k1", clientv3.WithRev(last-1)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("read below the compaction: %v", err)
	}
}

// TestSlowRequestWarnings: --warning-apply-duration and
// --warning-unary-request-duration log etcd's "apply request took too
// long" and "request stats" lines, put values shown only as their sizes.
func TestSlowRequestWarnings(t *testing.T) {
	m, logs := startLogged(t, func(c *config.Config) {
		c.WarningApplyDuration = time.Nanosecond
		c.WarningUnaryRequestDuration = time.Nanosecond
	})
	c := m.Client(t)
	ctx := ctxT(t)
	if _, err := c.Put(ctx, "foo", "secret-value"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "foo", clientv3.WithSerializable()); err != nil {
		t.Fatal(err)
	}
	applied := logs.find(t, "apply request took too long", func(l map[string]any) bool {
		req, _ := l["request"].(string)
		return l["prefix"] == "" && strings.Contains(req, `put:<key:"foo" value_size:12`)
	})
	if len(applied) == 0 {
		t.Fatalf("no slow apply line for the put:\n%s", logs)
	}
	if l := applied[0]; l["level"] != "warn" || l["expected-duration"] != "1ns" || l["took"] == nil || l["response"] != "size:4" {
		t.Errorf("slow apply line: %v", l)
	}
	if ranges := logs.find(t, "apply request took too long", func(l map[string]any) bool { return l["prefix"] == "read-only range " }); len(ranges) == 0 {
		t.Errorf("no slow read-only range line:\n%s", logs)
	}
	stats := logs.find(t, "request stats", func(l map[string]any) bool { return l["response type"] == "/etcdserverpb.KV/Put" })
	if len(stats) == 0 {
		t.Fatalf("no request stats line for the put:\n%s", logs)
	}
	l := stats[0]
	content, _ := l["request content"].(string)
	if l["level"] != "warn" || l["request count"] != 1.0 || l["response count"] != 0.0 || !strings.Contains(content, "value_size:12") ||
		l["time spent"] == nil || l["start time"] == nil || !strings.HasPrefix(fmt.Sprint(l["remote"]), "127.0.0.1:") {
		t.Errorf("request stats line: %v", l)
	}
	if strings.Contains(logs.String(), "secret-value") {
		t.Error("a put value reached the log")
	}
}
