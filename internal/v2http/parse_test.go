package v2http

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairn-kv/cairn/internal/v2store"
)

// FuzzParseKeyRequest: any path and query parse without panicking into a
// clean path inside the keys namespace, or into a v2 error.
func FuzzParseKeyRequest(f *testing.F) {
	f.Add("/v2/keys/a/../../b", "ttl=5&prevExist=true")
	f.Add("/v2/keys", "wait=true&waitIndex=3&recursive=1")
	f.Add("/v2/keys/%2e%2e/x", "refresh=true&ttl=")
	f.Fuzz(func(t *testing.T, p, q string) {
		if !strings.HasPrefix(p, "/v2/keys") {
			p = "/v2/keys/" + p
		}
		u := &url.URL{Path: p, RawQuery: q}
		r := httptest.NewRequest("GET", "http://x"+u.RequestURI(), nil)
		kr, err := parseKeyRequest(r, time.Unix(0, 0))
		if err != nil {
			if _, ok := err.(*v2store.Error); !ok {
				t.Fatalf("non-v2 error %T %v", err, err)
			}
			return
		}
		if got := kr.store.Path; got != v2store.KeysPrefix && !strings.HasPrefix(got, v2store.KeysPrefix+"/") {
			t.Fatalf("path %q escapes the keys namespace", got)
		}
	})
}
