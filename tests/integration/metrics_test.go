package integration

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cairn-kv/cairn/internal/config"
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
			"etcd_mvcc_current_revision":            11,
			"etcd_mvcc_put_total":                   10,
			"etcd_server_version":                   1,
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
		} {
			if got[name] == nil {
				t.Errorf("%s: %s missing", u, name)
			}
		}
		if got["etcd_disk_wal_fsync_duration_seconds"] != nil && got["etcd_disk_wal_fsync_duration_seconds"].value < 10 {
			t.Errorf("fsync histogram has %v samples", got["etcd_disk_wal_fsync_duration_seconds"].value)
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
