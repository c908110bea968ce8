package tlsutil

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestErrorLog(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       map[string]any
	}{
		{
			name: "handshake",
			line: "http: TLS handshake error from 127.0.0.1:5012: tls: client didn't provide a certificate\n",
			want: map[string]any{"msg": "rejected connection", "remote-addr": "127.0.0.1:5012", "server-name": "",
				"error": "tls: client didn't provide a certificate"},
		},
		{
			name: "handshake from IPv6",
			line: "http: TLS handshake error from [::1]:5012: EOF\n",
			want: map[string]any{"msg": "rejected connection", "remote-addr": "[::1]:5012", "error": "EOF"},
		},
		{
			name: "other line",
			line: "http: Accept error: too many open files; retrying in 5ms\n",
			want: map[string]any{"msg": "http: Accept error: too many open files; retrying in 5ms"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			ErrorLog(slog.New(slog.NewJSONHandler(&buf, nil))).Print(tc.line)
			if n := strings.Count(buf.String(), "\n"); n != 1 {
				t.Fatalf("%d lines: %s", n, buf.String())
			}
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got["level"] != "WARN" {
				t.Errorf("level %v", got["level"])
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: got %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
