package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })

// TestWithCORS: the Access-Control headers name "*" when all origins are
// allowed and the request's origin when it is listed; preflights are
// answered without reaching the handler.
func TestWithCORS(t *testing.T) {
	for _, tc := range []struct {
		name       string
		allowed    []string
		method     string
		origin     string
		wantOrigin string // Access-Control-Allow-Origin, "" for no CORS headers
		wantBody   string
	}{
		{name: "all by default", method: "GET", origin: "http://x:1", wantOrigin: "*", wantBody: "ok"},
		{name: "star", allowed: []string{"*"}, method: "GET", wantOrigin: "*", wantBody: "ok"},
		{name: "listed origin", allowed: []string{"http://a:8080"}, method: "GET", origin: "http://a:8080", wantOrigin: "http://a:8080", wantBody: "ok"},
		{name: "other origin", allowed: []string{"http://a:8080"}, method: "GET", origin: "http://b:8080", wantBody: "ok"},
		{name: "no origin", allowed: []string{"http://a:8080"}, method: "GET", wantBody: "ok"},
		{name: "preflight", allowed: []string{"http://a:8080"}, method: "OPTIONS", origin: "http://a:8080", wantOrigin: "http://a:8080"},
		{name: "preflight from elsewhere", allowed: []string{"http://a:8080"}, method: "OPTIONS", origin: "http://b:8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/version", nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			rec := httptest.NewRecorder()
			WithCORS(okHandler, tc.allowed).ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("status %d, want 200", rec.Code)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.wantOrigin)
			}
			wantMethods := ""
			if tc.wantOrigin != "" {
				wantMethods = "POST, GET, OPTIONS, PUT, DELETE"
			}
			if got := rec.Header().Get("Access-Control-Allow-Methods"); got != wantMethods {
				t.Errorf("Access-Control-Allow-Methods %q, want %q", got, wantMethods)
			}
			if got := rec.Body.String(); got != tc.wantBody {
				t.Errorf("body %q, want %q", got, tc.wantBody)
			}
		})
	}
}

// TestWithHostWhitelist: a Host outside the list gets etcd's 421 answer;
// the port does not matter.
func TestWithHostWhitelist(t *testing.T) {
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name  string
		hosts []string
		host  string
		want  int
	}{
		{name: "no list", host: "evil.com", want: 200},
		{name: "star", hosts: []string{"*"}, host: "evil.com", want: 200},
		{name: "listed with port", hosts: []string{"example.com"}, host: "example.com:2379", want: 200},
		{name: "listed ip", hosts: []string{"127.0.0.1"}, host: "127.0.0.1:2379", want: 200},
		{name: "other", hosts: []string{"example.com"}, host: "evil.com:2379", want: http.StatusMisdirectedRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/version", nil)
			req.Host = tc.host
			rec := httptest.NewRecorder()
			WithHostWhitelist(okHandler, tc.hosts, lg).ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			if tc.want == http.StatusMisdirectedRequest {
				if body := rec.Body.String(); !strings.Contains(body, `etcd --host-whitelist "evil.com"`) || !strings.HasSuffix(body, "(CVE-2018-5702).\n\n") {
					t.Errorf("body %q", body)
				}
			}
		})
	}
}
