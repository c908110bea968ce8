package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// TestManyWatchStreamsDoNotStarveRequests opens hundreds of watch streams
// on one connection, as an API server with many watch caches does, far more
// than the member's gRPC stream workers (a stream holds one for its life),
// and checks that puts are still served promptly and that every stream
// sees every put.
func TestManyWatchStreamsDoNotStarveRequests(t *testing.T) {
	m := testutil.StartMember(t)
	cli := m.Client(t)
	ctx := ctxT(t)

	const streams = 600
	chans := make([]clientv3.WatchChan, streams)
	for i := range chans {
		// The client shares one stream among watchers with equal
		// metadata: a distinct value gives each watcher its own.
		wctx := metadata.AppendToOutgoingContext(ctx, "stream", fmt.Sprint(i))
		chans[i] = cli.Watch(clientv3.WithRequireLeader(wctx), "w/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	}
	for i, ch := range chans {
		select {
		case resp := <-ch:
			if !resp.Created {
				t.Fatalf("stream %d: first response is not the creation: %+v", i, resp)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("stream %d: not created", i)
		}
	}

	if n := openWatchStreams(t, m.ClientURL); n != streams {
		t.Fatalf("server has %d watch streams open, want %d", n, streams)
	}

	const puts = 20
	var wg sync.WaitGroup
	errs := make(chan error, puts)
	start := time.Now()
	for i := range puts {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if _, err := cli.Put(pctx, fmt.Sprintf("w/%02d", i), "v"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("put with %d watch streams open: %v", streams, err)
	}
	t.Logf("%d concurrent puts with %d watch streams open took %v", puts, streams, time.Since(start).Round(time.Millisecond))

	for i, ch := range chans {
		seen := 0
		for seen < puts {
			select {
			case resp := <-ch:
				if err := resp.Err(); err != nil {
					t.Fatalf("stream %d: %v", i, err)
				}
				seen += len(resp.Events)
			case <-time.After(20 * time.Second):
				t.Fatalf("stream %d: saw %d of %d puts", i, seen, puts)
			}
		}
	}
}

// openWatchStreams reads from /metrics how many watch streams are open
// (started and not yet handled).
func openWatchStreams(t *testing.T, clientURL string) int {
	t.Helper()
	resp, err := http.Get(clientURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	count := func(name string) int {
		re := regexp.MustCompile(name + `\{[^}]*grpc_method="Watch"[^}]*\} (\d+)`)
		total := 0
		for _, m := range re.FindAllSubmatch(body, -1) {
			n, _ := strconv.Atoi(string(m[1]))
			total += n
		}
		return total
	}
	return count("grpc_server_started_total") - count("grpc_server_handled_total")
}
