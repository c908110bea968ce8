package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/server"
	"github.com/cairn-kv/cairn/internal/testutil"
)

func scrape(t *testing.T, u string) map[string]*struct{ value float64 } {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	out := map[string]*struct{ value float64 }{}
	for name, f := range fams {
		var v float64
		for _, m := range f.Metric {
			switch {
			case m.Gauge != nil:
				v += m.Gauge.GetValue()
			case m.Counter != nil:
				v += m.Counter.GetValue()
			case m.Histogram != nil:
				v += float64(m.Histogram.GetSampleCount())
			}
		}
		out[name] = &struct{ value float64 }{v}
	}
	return out
}

// TestMetricsUnderEtcdNames scrapes /metrics on the client URL and on
// --listen-metrics-urls and finds the series operators alert on.
func TestMetricsUnderEtcdNames(t *testing.T) {
	metricsPort := testutil.FreePort(t)
	m := testutil.StartMember(t, func(c *config.Config) {
		c.ListenMetricsURLs = []url.URL{{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", metricsPort)}}
	})
	c := m.Client(t)
	ctx := ctxT(t)
	for i := 0; i < 10; i++ {
		if _, err := c.Put(ctx, fmt.Sprint("k", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Get(ctx, "k0"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{m.ClientURL + "/metrics", fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)} {
		got := scrape(t, u)
		want := map[string]float64{
			"etcd_server_has_leader":                1,
			"etcd_server_is_leader":                 1,
			"etcd_debugging_mvcc_keys_total":        10,
			"etcd_debugging_mvcc_current_revision":  11,
			"etcd_server_is_learner":                0,
			"etcd_network_known_peers":              1,
			"etcd_mvcc_put_total":                   10,
			"etcd_server_version":                   1,
			"etcd_server_go_version":                1,
			"etcd_server_leader_changes_seen_total": 1,
		}
		for name, v := range want {
			if got[name] == nil || got[name].value != v {
				t.Errorf("%s: %s = %v, want %v", u, name, got[name], v)
			}
		}
		for _, name := range []string{
			"etcd_server_proposals_committed_total", "etcd_server_proposals_applied_total",
			"etcd_server_proposals_pending", "etcd_server_proposals_failed_total",
			"etcd_mvcc_db_total_size_in_bytes", "etcd_mvcc_db_total_size_in_use_in_bytes",
			"etcd_disk_wal_fsync_duration_seconds", "etcd_disk_backend_commit_duration_seconds",
			"grpc_server_handled_total", "grpc_server_started_total", "process_resident_memory_bytes",
			"cairn_engine_block_cache_hits_total", "cairn_engine_block_cache_misses_total", "cairn_engine_memtable_bytes",
			"cairn_engine_compactions_total", "cairn_engine_read_amplification",
		} {
			if got[name] == nil {
				t.Errorf("%s: %s missing", u, name)
			}
		}
		for _, name := range []string{"etcd_disk_wal_fsync_duration_seconds", "etcd_server_apply_duration_seconds", "etcd_disk_backend_commit_duration_seconds"} {
			if got[name] != nil && got[name].value < 10 {
				t.Errorf("%s: %s has %v samples, want at least 10", u, name, got[name].value)
			}
		}
		for _, name := range []string{"etcd_server_slow_apply_total", "etcd_server_quota_backend_bytes"} {
			if got[name] == nil {
				t.Errorf("%s: %s missing", u, name)
			}
		}
		// Basic metrics leave out the latency histograms of --metrics
		// extensive.
		if got["grpc_server_handling_seconds"] != nil {
			t.Errorf("%s: grpc_server_handling_seconds without --metrics extensive", u)
		}
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", metricsPort))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz on the metrics URL: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestMetricsOverHTTPS: an https --listen-metrics-urls serves with the
// client TLS settings.
func TestMetricsOverHTTPS(t *testing.T) {
	ca := testutil.NewCA(t, "cairn")
	serverCert, serverKey := ca.Issue("server")
	clientCert, clientKey := ca.Issue("client")
	metricsURL := url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}
	m := testutil.StartMember(t, func(c *config.Config) {
		c.CertFile, c.KeyFile, c.TrustedCAFile, c.ClientCertAuth = serverCert, serverKey, ca.CertFile, true
		u := url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}
		c.ListenClientURLs, c.AdvertiseClientURLs = []url.URL{u}, []url.URL{u}
		c.ListenMetricsURLs = []url.URL{metricsURL}
	})
	_ = m
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientTLS(clientCert, clientKey)}, Timeout: 5 * time.Second}
	resp, err := hc.Get(metricsURL.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "etcd_server_has_leader") {
		t.Fatalf("metrics over https: %d %.200s", resp.StatusCode, body)
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + metricsURL.Host + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain http served on an https metrics URL")
		}
	}
}

// notExported are the metric families etcd exports that Cairn does not,
// and why.
var notExported = map[string]string{
	"etcd_debugging_disk_backend_commit_rebalance_duration_seconds":    "phases of a B+tree commit",
	"etcd_debugging_disk_backend_commit_spill_duration_seconds":        "phases of a B+tree commit",
	"etcd_debugging_disk_backend_commit_write_duration_seconds":        "phases of a B+tree commit",
	"etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds": "no in-memory key index",
	"etcd_mvcc_db_open_read_transactions":                              "no B+tree read transactions",
	"etcd_debugging_snap_save_marshalling_duration_seconds":            "no v2 snapshot files",
	"etcd_debugging_snap_save_total_duration_seconds":                  "no v2 snapshot files",
	"etcd_snap_db_fsync_duration_seconds":                              "no snapshot database files",
	"etcd_snap_db_save_total_duration_seconds":                         "no snapshot database files",
	"etcd_snap_fsync_duration_seconds":                                 "no v2 snapshot files",
	"etcd_grpc_proxy_cache_hits_total":                                 "the gRPC proxy is not part of the server",
	"etcd_grpc_proxy_cache_keys_total":                                 "the gRPC proxy is not part of the server",
	"etcd_grpc_proxy_cache_misses_total":                               "the gRPC proxy is not part of the server",
	"etcd_grpc_proxy_events_coalescing_total":                          "the gRPC proxy is not part of the server",
	"etcd_grpc_proxy_watchers_coalescing_total":                        "the gRPC proxy is not part of the server",
	"etcd_server_feature_enabled":                                      "no feature gates",
}

// TestMetricsFamiliesOfEtcd compares the families a member exports with
// those etcd exports after the same work (testdata/etcd_metrics.txt): each
// of etcd's is exported or listed in notExported with the reason, and each
// etcd_* family exported is one of etcd's, under etcd's name.
func TestMetricsFamiliesOfEtcd(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "etcd_metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	etcd := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			etcd[line] = true
		}
	}
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	for i := range 3 { // k0 at 2, 3, 4: the compaction at 4 removes two versions
		if _, err := c.Put(ctx, "k0", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Put(ctx, "k1", "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compact(ctx, 4, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	lease, err := c.Grant(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "lk", "v", clientv3.WithLease(lease.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.KeepAliveOnce(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wch := c.Watch(wctx, "k2")
	if _, err := c.Put(ctx, "k2", "x"); err != nil {
		t.Fatal(err)
	}
	<-wch
	// etcd keeps its member records in its v2 store, so its v2 store
	// counters have series; a member's own show once a v2 client writes
	// and reads.
	v2Write(t, m.ClientURL+"/v2/keys/v2k", "v")
	if resp, err := http.Get(m.ClientURL + "/v2/keys/v2k"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	got := scrape(t, m.ClientURL+"/metrics")
	for name := range etcd {
		if got[name] == nil && notExported[name] == "" {
			t.Errorf("etcd exports %s, Cairn does not", name)
		}
		if got[name] != nil && notExported[name] != "" {
			t.Errorf("%s is exported but listed as not: %s", name, notExported[name])
		}
	}
	for name := range got {
		if strings.HasPrefix(name, "etcd_") && !etcd[name] {
			t.Errorf("%s is not a metric etcd exports", name)
		}
	}
	for name, least := range map[string]float64{
		"etcd_debugging_mvcc_watch_stream_total":                        1,
		"etcd_debugging_mvcc_events_total":                              1,
		"etcd_debugging_mvcc_db_compaction_keys_total":                  2,
		"etcd_debugging_mvcc_db_compaction_last":                        1,
		"etcd_debugging_mvcc_db_compaction_total_duration_milliseconds": 1,
		"etcd_disk_wal_write_bytes_total":                               100,
		"etcd_disk_wal_write_duration_seconds":                          5,
		"etcd_debugging_lease_ttl_total":                                1,
		"etcd_server_client_requests_total":                             5,
		"etcd_debugging_mvcc_total_put_size_in_bytes":                   14,
	} {
		if v := got[name]; v == nil || v.value < least {
			t.Errorf("%s = %v, want at least %v", name, v, least)
		}
	}
	for _, name := range []string{"etcd_debugging_mvcc_pending_events_total", "etcd_disk_defrag_inflight", "etcd_server_snapshot_apply_in_progress_total"} {
		if v := got[name]; v == nil || v.value != 0 {
			t.Errorf("%s = %v at rest, want 0", name, v)
		}
	}
	if v := got["os_fd_used"]; v == nil || v.value < 5 || got["os_fd_limit"] == nil || got["os_fd_limit"].value < v.value {
		t.Errorf("os_fd_used %v, os_fd_limit %v", v, got["os_fd_limit"])
	}
}

// TestMetricsMove scrapes before and after writes: the series operators
// alert on exist and count what happened.
func TestMetricsMove(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	before := scrape(t, m.ClientURL+"/metrics")
	for i := range 20 {
		if _, err := c.Put(ctx, fmt.Sprint("k", i), strings.Repeat("v", 1000)); err != nil {
			t.Fatal(err)
		}
	}
	lease, err := c.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Revoke(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HashKV(ctx, m.Endpoint, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, "k0"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Txn(ctx).Then(clientv3.OpGet("k1")).Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compact(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Defragment(ctx, m.Endpoint); err != nil {
		t.Fatal(err)
	}
	rc, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(m.ClientURL + "/health")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/health: %v %v", resp, err)
	}
	resp.Body.Close()
	after := scrape(t, m.ClientURL+"/metrics")
	value := func(s map[string]*struct{ value float64 }, name string) float64 {
		if s[name] == nil {
			return 0
		}
		return s[name].value
	}
	for _, tc := range []struct {
		name string
		grew float64 // at least
	}{
		{"etcd_server_proposals_committed_total", 24},
		{"etcd_server_proposals_applied_total", 24},
		{"etcd_mvcc_put_total", 20},
		{"etcd_mvcc_delete_total", 1},
		{"etcd_mvcc_txn_total", 1},
		{"etcd_debugging_mvcc_keys_total", 19},
		{"etcd_debugging_mvcc_current_revision", 21},
		{"etcd_debugging_mvcc_compact_revision", 5},
		{"etcd_debugging_lease_granted_total", 1},
		{"etcd_debugging_lease_revoked_total", 1},
		{"etcd_debugging_lease_ttl_total", 1},
		{"etcd_server_range_duration_seconds", 1},
		{"etcd_server_client_requests_total", 25},
		{"etcd_mvcc_hash_rev_duration_seconds", 1},
		{"etcd_disk_wal_fsync_duration_seconds", 20},
		{"etcd_disk_backend_commit_duration_seconds", 20},
		{"etcd_server_apply_duration_seconds", 24},
		{"grpc_server_started_total", 25},
		{"grpc_server_handled_total", 25},
		{"etcd_mvcc_db_total_size_in_bytes", 1},
		{"etcd_network_client_grpc_received_bytes_total", 20 * 1000},
		{"etcd_network_client_grpc_sent_bytes_total", 25},
		{"etcd_server_health_success", 1},
		{"etcd_disk_backend_defrag_duration_seconds", 1},
		{"etcd_disk_backend_snapshot_duration_seconds", 1},
	} {
		if after[tc.name] == nil {
			t.Errorf("%s missing", tc.name)
			continue
		}
		if d := value(after, tc.name) - value(before, tc.name); d < tc.grew {
			t.Errorf("%s grew by %v, want at least %v", tc.name, d, tc.grew)
		}
	}
	if v := value(after, "etcd_mvcc_db_total_size_in_use_in_bytes"); v <= 0 || v > value(after, "etcd_mvcc_db_total_size_in_bytes") {
		t.Errorf("db size in use %v, total %v", v, value(after, "etcd_mvcc_db_total_size_in_bytes"))
	}
	if after["etcd_server_health_failures"] == nil || value(after, "etcd_server_health_failures") != 0 {
		t.Errorf("etcd_server_health_failures = %v", after["etcd_server_health_failures"])
	}
	if v := value(after, "etcd_server_proposals_pending"); v != 0 {
		t.Errorf("proposals pending %v at rest", v)
	}
}

// TestMetricsExtensiveSlowApplyAndPprof: --metrics extensive adds the gRPC
// latency histograms; a request slower than --warning-apply-duration counts
// in etcd_server_slow_apply_total; --enable-pprof serves /debug/pprof/.
func TestMetricsExtensiveSlowApplyAndPprof(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) {
		c.Metrics, c.EnablePprof = "extensive", true
		c.WarningApplyDuration = time.Nanosecond
	})
	c := m.Client(t)
	ctx := ctxT(t)
	for i := range 5 {
		if _, err := c.Put(ctx, fmt.Sprint("k", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Get(ctx, "k1", clientv3.WithSerializable()); err != nil {
		t.Fatal(err)
	}
	got := scrape(t, m.ClientURL+"/metrics")
	if got["etcd_server_slow_apply_total"] == nil || got["etcd_server_slow_apply_total"].value < 6 {
		t.Errorf("etcd_server_slow_apply_total = %v, want at least 6", got["etcd_server_slow_apply_total"])
	}
	if got["grpc_server_handling_seconds"] == nil || got["grpc_server_handling_seconds"].value < 6 {
		t.Errorf("grpc_server_handling_seconds = %v with --metrics extensive", got["grpc_server_handling_seconds"])
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	for path, want := range map[string]string{
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/goroutine?debug=1": "goroutine profile",
		"/debug/pprof/cmdline":           "",
		"/debug/pprof/heap?debug=1":      "heap profile",
		"/debug/pprof/profile?seconds=1": "",
		"/debug/pprof/symbol":            "num_symbols",
	} {
		resp, err := hc.Get(m.ClientURL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %.100q", path, resp.StatusCode, body)
		}
	}

	plain := testutil.StartMember(t)
	resp, err := hc.Get(plain.ClientURL + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/debug/pprof/ without --enable-pprof: %d", resp.StatusCode)
	}
	// --log-level debug serves the profiles too, as in etcd.
	debug := testutil.StartMember(t, func(c *config.Config) { c.LogLevel = "debug" })
	if resp, err = hc.Get(debug.ClientURL + "/debug/pprof/"); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/debug/pprof/ with --log-level debug: %d", resp.StatusCode)
	}
	// /debug/vars is always there: expvar's JSON, GET only.
	if resp, err = hc.Get(plain.ClientURL + "/debug/vars"); err != nil {
		t.Fatal(err)
	}
	var vars map[string]any
	err = json.NewDecoder(resp.Body).Decode(&vars)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || vars["memstats"] == nil || vars["cmdline"] == nil {
		t.Errorf("/debug/vars: %d %v %d vars", resp.StatusCode, err, len(vars))
	}
	if resp, err = hc.Post(plain.ClientURL+"/debug/vars", "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /debug/vars: %d", resp.StatusCode)
	}
}

// TestMetricsPeers: a three-member cluster reports round trips to its peers
// and the bytes it sends them and receives from them; after a member
// stops, the others count messages they failed to send it.
func TestMetricsPeers(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	if _, err := c.Client(t).Put(ctxT(t), "k", strings.Repeat("v", 10000)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, m := range c.Members {
		for {
			got := scrape(t, m.ClientURL+"/metrics")
			rtt := got["etcd_network_peer_round_trip_time_seconds"]
			sent, received := got["etcd_network_peer_sent_bytes_total"], got["etcd_network_peer_received_bytes_total"]
			if rtt != nil && rtt.value > 0 && got["etcd_server_has_leader"].value == 1 && sent != nil && sent.value > 0 &&
				received != nil && received.value > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: peer round trips %v, bytes sent %v, received %v", m.Config.Name, rtt, sent, received)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	leader := -1
	for i, m := range c.Members {
		if scrape(t, m.ClientURL+"/metrics")["etcd_server_is_leader"].value == 1 {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no leader")
	}
	// The leader's writes to a stopped follower fail.
	c.Members[(leader+1)%3].Stop()
	cli := c.Members[leader].Client(t)
	for {
		if _, err := cli.Put(ctxT(t), "k", "v"); err != nil {
			t.Fatal(err)
		}
		if f := scrape(t, c.Members[leader].ClientURL+"/metrics")["etcd_network_peer_sent_failures_total"]; f != nil && f.value > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no send failures counted to a stopped member")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMetricsHTTPSNeedsCert: an https metrics URL without client
// certificate settings is refused with etcd's error.
func TestMetricsHTTPSNeedsCert(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	u := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}
	cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []url.URL{u}, []url.URL{u}
	cfg.ListenPeerURLs = []url.URL{{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}}
	cfg.ListenMetricsURLs = []url.URL{{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}}
	srv, err := server.New(cfg, testutil.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = srv.Start(ctx)
	if err == nil {
		srv.Close()
	}
	if want := "client TLS key/cert (--cert-file, --key-file) must be provided for metrics secure url"; err == nil || err.Error() != want {
		t.Fatalf("start: %v, want %q", err, want)
	}
}

// TestMetricsSlowReadIndex: a member that lost its quorum cannot get a read
// index; each retry and the final timeout count as slow read indexes.
func TestMetricsSlowReadIndex(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	if _, err := c.Client(t).Put(ctxT(t), "k", "v"); err != nil {
		t.Fatal(err)
	}
	c.Members[1].Stop()
	c.Members[2].Stop()
	m := c.Members[0]
	before := scrape(t, m.ClientURL+"/metrics")["etcd_server_slow_read_indexes_total"]
	if before == nil || before.value != 0 {
		t.Fatalf("etcd_server_slow_read_indexes_total before: %v", before)
	}
	// The client retries a read refused for want of a leader until its
	// deadline; the member's request timeout is 6s.
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Second)
	defer cancel()
	if _, err := m.Client(t).Get(ctx, "k"); err == nil {
		t.Fatal("linearizable read without a quorum succeeded")
	}
	after := scrape(t, m.ClientURL+"/metrics")
	if got := after["etcd_server_slow_read_indexes_total"]; got == nil || got.value < 2 {
		t.Fatalf("etcd_server_slow_read_indexes_total = %v, want at least 2", got)
	}
	if after["etcd_server_read_indexes_failed_total"] == nil {
		t.Fatal("etcd_server_read_indexes_failed_total missing")
	}
	// Writes fail too, and count as failed proposals; the member has no
	// leader any more.
	pctx, pcancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer pcancel()
	if _, err := m.Client(t).Put(pctx, "k", "v2"); err == nil {
		t.Fatal("write without a quorum succeeded")
	}
	// The member counts the failure when its handler sees the client's
	// deadline, which may be just after the client gave up.
	deadline := time.Now().Add(5 * time.Second)
	for {
		after = scrape(t, m.ClientURL+"/metrics")
		got := after["etcd_server_proposals_failed_total"]
		if got != nil && got.value >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("etcd_server_proposals_failed_total = %v, want at least 1", got)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := after["etcd_server_has_leader"]; got == nil || got.value != 0 {
		t.Errorf("etcd_server_has_leader = %v without a quorum", got)
	}
}

// TestMetricsOverUnixSocket: a unix --listen-metrics-urls serves /metrics
// on a socket file, as etcd's does.
func TestMetricsOverUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "cairn-m")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "metrics.sock")
	testutil.StartMember(t, func(c *config.Config) {
		c.ListenMetricsURLs = []url.URL{{Scheme: "unix", Host: sock}}
	})
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	resp, err := hc.Get("http://metrics/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "etcd_server_has_leader 1") {
		t.Fatalf("metrics over a unix socket: %d %.200s", resp.StatusCode, body)
	}
}

func v2Write(t *testing.T, u, value string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, u, strings.NewReader(url.Values{"value": {value}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("PUT %s: status %d", u, resp.StatusCode)
	}
}
