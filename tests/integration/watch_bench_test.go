package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// BenchmarkWatchFanout1000 measures events delivered per second to 1000
// watchers of one prefix (spread over 10 client connections).
func BenchmarkWatchFanout1000(b *testing.B) {
	m := testutil.StartMember(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const watchers = 1000
	var clients []*clientv3.Client
	for i := 0; i < 10; i++ {
		clients = append(clients, m.Client(b))
	}
	var chans []clientv3.WatchChan
	for i := 0; i < watchers; i++ {
		chans = append(chans, clients[i%10].Watch(ctx, "fan/", clientv3.WithPrefix()))
	}
	writer := m.Client(b)
	if _, err := writer.Put(ctx, "fan/warmup", "x"); err != nil {
		b.Fatal(err)
	}
	for _, ch := range chans {
		<-ch
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for got := 0; got < b.N; {
				resp := <-ch
				got += len(resp.Events)
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		if _, err := writer.Put(ctx, fmt.Sprintf("fan/%d", i%100), "v"); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*watchers)/time.Since(start).Seconds(), "events/s")
}
