package integration

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// TestLargeRequestsOnCluster sends requests up to the default request limit
// (1.5 MiB) through a 3-member cluster, 10 MiB of them at once, more than a
// peer stream's flow-control window (8 MiB); every member must hold every
// value whole. A request over the limit is refused with etcd's error. (24
// concurrent puts once hit the 6s request timeout on a loaded CI machine:
// the test is about integrity, not speed.)
func TestLargeRequestsOnCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	cli := c.Client(t)
	ctx := ctxT(t)

	const limit = 1572864
	big := bytes.Repeat([]byte("v"), limit-1024)
	if _, err := cli.Put(ctx, "big", string(big)); err != nil {
		t.Fatalf("put of %d bytes: %v", len(big), err)
	}
	values := map[string][]byte{"big": big}
	const concurrent = 10
	var wg sync.WaitGroup
	errs := make(chan error, concurrent)
	start := time.Now()
	for i := range concurrent {
		key, val := fmt.Sprintf("mib/%02d", i), bytes.Repeat([]byte{byte('a' + i)}, 1<<20)
		values[key] = val
		wg.Go(func() {
			if _, err := cli.Put(ctx, key, string(val)); err != nil {
				errs <- fmt.Errorf("put %s: %w", key, err)
			}
		})
	}
	wg.Wait()
	t.Logf("%d concurrent 1 MiB puts took %v", concurrent, time.Since(start).Round(time.Millisecond))
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent 1 MiB puts: %v", err)
	}
	for _, m := range c.Members {
		mc := m.Client(t)
		for key, want := range values {
			resp, err := mc.Get(ctx, key) // linearizable: the member has applied every put
			if err != nil {
				t.Fatalf("%s: get %s: %v", m.Endpoint, key, err)
			}
			if len(resp.Kvs) != 1 || !bytes.Equal(resp.Kvs[0].Value, want) {
				t.Fatalf("%s: %s does not hold the value put (%d kvs)", m.Endpoint, key, len(resp.Kvs))
			}
		}
	}

	if _, err := cli.Put(ctx, "too-big", string(bytes.Repeat([]byte("x"), limit+1))); err != rpctypes.ErrRequestTooLarge {
		t.Fatalf("put over the limit: got %v, want %v", err, rpctypes.ErrRequestTooLarge)
	}
	if resp, err := cli.Get(context.Background(), "too-big"); err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("the refused put left something behind: %v %v", resp, err)
	}
}
