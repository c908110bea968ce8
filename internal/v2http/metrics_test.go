package v2http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// storeSeries reads the etcd_debugging_store_* series from /metrics, keyed
// by name and action label, e.g. "writes_total/set" or "watchers".
func storeSeries(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), "etcd_debugging_store_")
		if !ok || name != "" {
			continue
		}
		series, value, _ := strings.Cut(rest, " ")
		if name, label, ok := strings.Cut(series, `{action="`); ok {
			series = name + "/" + strings.TrimSuffix(label, `"}`)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("series %q: %v", sc.Text(), err)
		}
		out[series] = v
	}
	return out
}

// TestStoreMetrics: the v2 store's operations show in etcd's
// etcd_debugging_store_* series, failed ones included, and in
// /v2/stats/store.
func TestStoreMetrics(t *testing.T) {
	m := testutil.StartMember(t)
	base := m.ClientURL
	keys := base + "/v2/keys"
	before := storeSeries(t, base)
	for _, want := range []string{"expires_total", "watch_requests_total", "watchers"} {
		if _, ok := before[want]; !ok {
			t.Errorf("no series %s before any use: %v", want, before)
		}
	}

	set(t, base, "/a", url.Values{"value": {"1"}})
	set(t, base, "/a?prevExist=true", url.Values{"value": {"2"}})
	call(t, "PUT", keys+"/a?prevValue=wrong", url.Values{"value": {"3"}}) // compareAndSwap, fails
	call(t, "POST", keys+"/queue", url.Values{"value": {"job"}})
	call(t, "DELETE", keys+"/a?prevIndex=1", nil) // compareAndDelete, fails
	call(t, "DELETE", keys+"/a", nil)
	call(t, "GET", keys+"/queue", nil)
	call(t, "GET", keys+"/missing", nil) // fails
	call(t, "GET", keys+"/?recursive=true", nil)
	set(t, base, "/short", url.Values{"value": {"v"}, "ttl": {"1"}})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", keys+"/watched?wait=true", nil)
	watchEnd, watchDone := make(chan string, 1), make(chan struct{})
	go func() {
		defer close(watchDone)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			watchEnd <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		watchEnd <- fmt.Sprintf("status %d, body %q", resp.StatusCode, b)
	}()
	defer func() { cancel(); <-watchDone }()
	waitFor(t, func() bool { return storeSeries(t, base)["watchers"] == 1 }, "the watcher")
	waitFor(t, func() bool { return storeSeries(t, base)["expires_total"] > before["expires_total"] }, "the expiry")
	after := storeSeries(t, base)
	if after["watchers"] != 1 {
		select {
		case end := <-watchEnd:
			t.Fatalf("the watch ended: %s", end)
		case <-time.After(time.Second):
			t.Fatalf("watchers = %v while the watch waits", after["watchers"])
		}
	}
	for series, want := range map[string]float64{
		"writes_total/set":              2, // /a and /short
		"writes_total/update":           1,
		"writes_total/compareAndSwap":   1,
		"writes_total/create":           1,
		"writes_total/compareAndDelete": 1,
		"writes_total/delete":           1,
		"reads_total/get":               2,
		"reads_total/getRecursive":      1,
		"expires_total":                 1,
		"watch_requests_total":          1,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s went up by %v, want %v", series, got, want)
		}
	}

	cancel()
	waitFor(t, func() bool { return storeSeries(t, base)["watchers"] == 0 }, "the watcher to go")

	resp, err := http.Get(base + "/v2/stats/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var stats map[string]uint64
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		t.Fatal(err)
	}
	if stats["getsSuccess"] < 2 || stats["getsFail"] < 1 || stats["compareAndSwapFail"] < 1 || stats["expireCount"] < 1 {
		t.Errorf("/v2/stats/store does not count the same operations: %v", stats)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
