package integration

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// BenchmarkPutConcurrent256 drives 256 concurrent writers over 16
// connections against one in-process member (server and clients share the
// CPUs, so use it to profile, not to compare).
func BenchmarkPutConcurrent256(b *testing.B) {
	m := testutil.StartMember(b)
	const clients, conns = 256, 16
	clis := make([]*clientHolder, conns)
	for i := range clis {
		clis[i] = &clientHolder{c: m.Client(b)}
	}
	val := string(make([]byte, 256))
	var n atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clis[w%conns].c
			for {
				i := n.Add(1)
				if i > int64(b.N) {
					return
				}
				if _, err := c.Put(context.Background(), fmt.Sprintf("k%d", i%10000), val); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
