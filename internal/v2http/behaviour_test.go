package v2http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

type node struct {
	Key           string  `json:"key"`
	Value         *string `json:"value"`
	Dir           bool    `json:"dir"`
	TTL           int64   `json:"ttl"`
	Nodes         []*node `json:"nodes"`
	ModifiedIndex uint64  `json:"modifiedIndex"`
	CreatedIndex  uint64  `json:"createdIndex"`
}

type event struct {
	Action    string `json:"action"`
	Node      *node  `json:"node"`
	PrevNode  *node  `json:"prevNode"`
	ErrorCode int    `json:"errorCode"`
	Cause     string `json:"cause"`
	Index     uint64 `json:"index"`

	status    int
	etcdIndex string
}

func call(t *testing.T, method, u string, form url.Values) *event {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	e := &event{status: resp.StatusCode, etcdIndex: resp.Header.Get("X-Etcd-Index")}
	if err := json.NewDecoder(resp.Body).Decode(e); err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return e
}

func set(t *testing.T, base, key string, form url.Values) *event {
	t.Helper()
	e := call(t, "PUT", base+"/v2/keys"+key, form)
	if e.status >= 300 {
		t.Fatalf("PUT %s: status %d, error %d %s", key, e.status, e.ErrorCode, e.Cause)
	}
	return e
}

// TestTTLExpiryNotifiesWatchers: a key with a TTL expires through the
// leader's SYNC, and a watcher waiting on it gets the expire event.
func TestTTLExpiryNotifiesWatchers(t *testing.T) {
	m := testutil.StartMember(t)
	created := set(t, m.ClientURL, "/ttl", url.Values{"value": {"v"}, "ttl": {"1"}})
	if created.Node.TTL != 1 {
		t.Errorf("ttl = %d, want 1", created.Node.TTL)
	}
	got := make(chan *event, 1)
	go func() { got <- call(t, "GET", m.ClientURL+"/v2/keys/ttl?wait=true", nil) }()
	select {
	case e := <-got:
		if e.Action != "expire" || e.Node.Key != "/ttl" || e.Node.ModifiedIndex != created.Node.ModifiedIndex+1 || e.PrevNode == nil || *e.PrevNode.Value != "v" {
			t.Errorf("watch got %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no expire event within 10s")
	}
	if e := call(t, "GET", m.ClientURL+"/v2/keys/ttl", nil); e.ErrorCode != 100 {
		t.Errorf("expired key still readable: %+v", e)
	}
	// Refreshing keeps the value and tells no watcher.
	set(t, m.ClientURL, "/r", url.Values{"value": {"keep"}, "ttl": {"100"}})
	e := set(t, m.ClientURL, "/r?refresh=true&ttl=200&prevExist=true", nil)
	if e.Action != "update" || *e.Node.Value != "keep" || e.Node.TTL != 200 {
		t.Errorf("refresh: %+v", e.Node)
	}
}

// TestWaitIndexHistory: the last 1000 events stay reachable with
// waitIndex; older ones answer error 401.
func TestWaitIndexHistory(t *testing.T) {
	m := testutil.StartMember(t)
	first := set(t, m.ClientURL, "/h/first", url.Values{"value": {"1"}})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 125; i++ {
				set(t, m.ClientURL, fmt.Sprintf("/h/k%d", w), url.Values{"value": {fmt.Sprint(i)}})
			}
		}()
	}
	wg.Wait()
	last := call(t, "GET", m.ClientURL+"/v2/keys/h", nil)
	cur := last.etcdIndex
	e := call(t, "GET", fmt.Sprintf("%s/v2/keys/h/first?wait=true&waitIndex=%d", m.ClientURL, first.Node.ModifiedIndex), nil)
	if e.ErrorCode != 401 || e.status != 400 || fmt.Sprint(e.Index) != cur {
		t.Errorf("old waitIndex: %+v (current index %s)", e, cur)
	}
	var curN uint64
	fmt.Sscan(cur, &curN)
	oldest := curN - 999
	e = call(t, "GET", fmt.Sprintf("%s/v2/keys/h?wait=true&recursive=true&waitIndex=%d", m.ClientURL, oldest), nil)
	if e.ErrorCode != 0 || e.Node.ModifiedIndex != oldest {
		t.Errorf("oldest kept index %d: %+v", oldest, e)
	}
}

// TestStreamWatch: stream=true delivers every event until the client goes.
func TestStreamWatch(t *testing.T) {
	m := testutil.StartMember(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", m.ClientURL+"/v2/keys/s?wait=true&stream=true&recursive=true", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for i := 0; i < 3; i++ {
		set(t, m.ClientURL, fmt.Sprintf("/s/%d", i), url.Values{"value": {"x"}})
	}
	sc := bufio.NewScanner(resp.Body)
	for i := 0; i < 3; i++ {
		if !sc.Scan() {
			t.Fatalf("stream ended after %d events: %v", i, sc.Err())
		}
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Node.Key != fmt.Sprintf("/s/%d", i) {
			t.Fatalf("event %d: %s (%v)", i, sc.Text(), err)
		}
	}
}

// TestInOrderKeys: POST creates keys named by the index, in order.
func TestInOrderKeys(t *testing.T) {
	m := testutil.StartMember(t)
	var keys []string
	for i := 0; i < 3; i++ {
		e := call(t, "POST", m.ClientURL+"/v2/keys/queue", url.Values{"value": {fmt.Sprint(i)}})
		if e.status != 201 || e.Action != "create" {
			t.Fatalf("POST: %+v", e)
		}
		if want := fmt.Sprintf("/queue/%020d", e.Node.CreatedIndex); e.Node.Key != want {
			t.Errorf("key %s, want %s", e.Node.Key, want)
		}
		keys = append(keys, e.Node.Key)
	}
	l := call(t, "GET", m.ClientURL+"/v2/keys/queue?sorted=true", nil)
	for i, n := range l.Node.Nodes {
		if n.Key != keys[i] || *n.Value != fmt.Sprint(i) {
			t.Errorf("listing[%d] = %s=%s", i, n.Key, *n.Value)
		}
	}
}

// TestCluster: a write on one member is read with quorum on another, a
// watcher on a third sees it, and TTL expiry gives every member the same
// index.
func TestCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	urls := []string{c.Members[0].ClientURL, c.Members[1].ClientURL, c.Members[2].ClientURL}
	watch := make(chan *event, 1)
	var base uint64
	fmt.Sscan(call(t, "GET", urls[2]+"/v2/keys/", nil).etcdIndex, &base)
	// From the next index: the watch finds the write whether it registers
	// before or after it.
	go func() {
		watch <- call(t, "GET", fmt.Sprintf("%s/v2/keys/c/k?wait=true&waitIndex=%d", urls[2], base+1), nil)
	}()
	w := set(t, urls[0], "/c/k", url.Values{"value": {"v"}})
	r := call(t, "GET", urls[1]+"/v2/keys/c/k?quorum=true", nil)
	if r.status != 200 || *r.Node.Value != "v" || r.Node.ModifiedIndex != w.Node.ModifiedIndex {
		t.Errorf("quorum read on m1: %+v (write %+v)", r, w.Node)
	}
	select {
	case e := <-watch:
		if e.Action != "set" || e.Node.ModifiedIndex != w.Node.ModifiedIndex {
			t.Errorf("watch on m2 got %+v (start index %d)", e, base)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event on m2")
	}
	set(t, urls[1], "/c/t", url.Values{"value": {"x"}, "ttl": {"1"}})
	e := call(t, "GET", fmt.Sprintf("%s/v2/keys/c/t?wait=true&waitIndex=%d", urls[2], w.Node.ModifiedIndex+2), nil)
	if e.Action != "expire" {
		t.Fatalf("expire watch: %+v", e)
	}
	for _, u := range urls {
		got := call(t, "GET", u+"/v2/keys/c?quorum=true", nil)
		if got.etcdIndex != fmt.Sprint(e.Node.ModifiedIndex) || len(got.Node.Nodes) != 1 {
			t.Errorf("%s: index %s nodes %d, want index %d and one node", u, got.etcdIndex, len(got.Node.Nodes), e.Node.ModifiedIndex)
		}
	}
}

// TestRestartKeepsData: keys, TTLs, the index and the history survive a
// restart.
func TestRestartKeepsData(t *testing.T) {
	c := testutil.StartCluster(t, 1)
	m := c.Members[0]
	set(t, m.ClientURL, "/dir/a", url.Values{"value": {"1"}})
	w := set(t, m.ClientURL, "/dir/b", url.Values{"value": {"2"}, "ttl": {"300"}})
	m.Stop()
	m.Restart(t)
	got := call(t, "GET", m.ClientURL+"/v2/keys/dir?recursive=true&sorted=true", nil)
	if len(got.Node.Nodes) != 2 || *got.Node.Nodes[1].Value != "2" || got.Node.Nodes[1].TTL <= 0 {
		t.Fatalf("after restart: %+v", got.Node)
	}
	// The restart published the member again, which advanced the index
	// once, as in etcd.
	var before, after uint64
	fmt.Sscan(got.etcdIndex, &after)
	before = w.Node.ModifiedIndex
	if after != before+1 {
		t.Errorf("index after restart %d, want %d", after, before+1)
	}
	h := call(t, "GET", fmt.Sprintf("%s/v2/keys/dir/a?wait=true&waitIndex=1", m.ClientURL), nil)
	if h.Action != "set" || h.Node.Key != "/dir/a" {
		t.Errorf("history after restart: %+v", h)
	}
}

// TestSnapshotCatchUp: a member that missed many entries catches up from a
// state snapshot and has the v2 keys and index.
func TestSnapshotCatchUp(t *testing.T) {
	c := testutil.StartCluster(t, 3, func(cfg *config.Config) {
		cfg.SnapshotCount = 20
		cfg.SnapshotCatchUpEntries = 5
	})
	lagging := c.Members[2]
	lagging.Stop()
	u := c.Members[0].ClientURL
	var last *event
	for i := 0; i < 60; i++ {
		last = set(t, u, fmt.Sprintf("/snap/k%02d", i), url.Values{"value": {fmt.Sprint(i)}})
	}
	lagging.Restart(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := call(t, "GET", lagging.ClientURL+"/v2/keys/snap/k59", nil)
		if got.status == 200 {
			if got.Node.ModifiedIndex != last.Node.ModifiedIndex {
				t.Errorf("modifiedIndex %d on the caught-up member, want %d", got.Node.ModifiedIndex, last.Node.ModifiedIndex)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lagging member never got the keys: %+v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	l := call(t, "GET", lagging.ClientURL+"/v2/keys/snap", nil)
	if len(l.Node.Nodes) != 60 {
		t.Errorf("%d keys on the caught-up member, want 60", len(l.Node.Nodes))
	}
}

// TestDisabled: with --enable-v2=false no /v2 path is served, while the
// v3 API and /version still are.
func TestDisabled(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) { c.EnableV2 = false })
	for _, p := range []string{"/v2/keys/a", "/v2/members", "/v2/stats/self", "/v2/machines", "/v2/auth/enable"} {
		resp, err := http.Get(m.ClientURL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
	}
	resp, err := http.Get(m.ClientURL + "/version")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /version: status %d", resp.StatusCode)
	}
	if _, err := m.Client(t).Put(context.Background(), "k", "v"); err != nil {
		t.Errorf("v3 put with v2 off: %v", err)
	}
}
