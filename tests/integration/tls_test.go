package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

func tlsClient(t *testing.T, ep string, cfg *tls.Config) (*clientv3.Client, error) {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, TLS: cfg, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = c.Put(ctx, "probe", "v")
	return c, err
}

// TestClientTLSWithCertAuth serves clients over https with
// --client-cert-auth: a client with a certificate from the trusted CA gets
// in; no certificate, another CA's certificate or an expired one do not.
func TestClientTLSWithCertAuth(t *testing.T) {
	ca := testutil.NewCA(t, "cairn")
	other := testutil.NewCA(t, "other")
	serverCert, serverKey := ca.Issue("server")
	clientCert, clientKey := ca.Issue("client")
	expiredCert, expiredKey := ca.Issue("client", testutil.CertOptions{Expired: true})
	foreignCert, foreignKey := other.Issue("client")

	port := testutil.FreePort(t)
	u := url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	m := testutil.StartMember(t, func(c *config.Config) {
		c.ListenClientURLs, c.AdvertiseClientURLs = []url.URL{u}, []url.URL{u}
		c.CertFile, c.KeyFile, c.TrustedCAFile, c.ClientCertAuth = serverCert, serverKey, ca.CertFile, true
	})
	if _, err := tlsClient(t, m.Endpoint, ca.ClientTLS(clientCert, clientKey)); err != nil {
		t.Fatalf("trusted client refused: %v", err)
	}
	for name, cfg := range map[string]*tls.Config{
		"no certificate":      ca.ClientTLS("", ""),
		"other CA":            ca.ClientTLS(foreignCert, foreignKey),
		"expired":             ca.ClientTLS(expiredCert, expiredKey),
		"not trusting the CA": other.ClientTLS(clientCert, clientKey),
	} {
		if _, err := tlsClient(t, m.Endpoint, cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// HTTPS on the same port serves the health endpoints.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientTLS(clientCert, clientKey)}}
	resp, err := hc.Get(u.String() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"health":"true","reason":""}` {
		t.Fatalf("/health over TLS: %d %s", resp.StatusCode, body)
	}
}

// TestClusterOverPeerTLS runs three members that talk to each other only
// over TLS with client certificates required.
func TestClusterOverPeerTLS(t *testing.T) {
	ca := testutil.NewCA(t, "peers")
	cert, key := ca.Issue("peer")
	c := testutil.StartCluster(t, 3, func(cfg *config.Config) {
		for i := range cfg.ListenPeerURLs {
			cfg.ListenPeerURLs[i].Scheme = "https"
		}
		for i := range cfg.InitialAdvertisePeerURLs {
			cfg.InitialAdvertisePeerURLs[i].Scheme = "https"
		}
		cfg.PeerCertFile, cfg.PeerKeyFile, cfg.PeerTrustedCAFile, cfg.PeerClientCertAuth = cert, key, ca.CertFile, true
	})
	cli := c.Client(t)
	ctx := ctxT(t)
	if _, err := cli.Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Members {
		r, err := memberClient(t, m).Get(ctx, "k")
		if err != nil || len(r.Kvs) != 1 {
			t.Fatalf("%s: %v %v", m.Config.Name, r, err)
		}
	}
}
