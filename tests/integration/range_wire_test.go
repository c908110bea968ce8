package integration

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/testutil"
)

// TestConcurrentLargeRangesKeepTheirOwnBytes runs many large ranges of
// different prefixes at once over few connections. A range's KeyValues
// travel in a pooled buffer that is reused once sent; every response must
// still hold exactly its own keys and values, in order, with nothing from
// another response.
func TestConcurrentLargeRangesKeepTheirOwnBytes(t *testing.T) {
	m := testutil.StartMember(t)
	cli := m.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const prefixes, keysPerPrefix = 4, 300
	value := func(p, i int) []byte {
		return bytes.Repeat([]byte{byte('a' + p)}, 100+i%200) // sizes vary per key
	}
	for p := range prefixes {
		ops := make([]clientv3.Op, 0, keysPerPrefix)
		for i := range keysPerPrefix {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("p%d/%04d", p, i), string(value(p, i))))
			if len(ops) == 100 {
				if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
					t.Fatal(err)
				}
				ops = ops[:0]
			}
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 30 {
				p := (g + r) % prefixes
				limit := int64(0)
				if r%3 == 1 {
					limit = 77
				}
				resp, err := cli.Get(ctx, fmt.Sprintf("p%d/", p), clientv3.WithPrefix(), clientv3.WithLimit(limit))
				if err != nil {
					errs <- err
					return
				}
				if err := checkPrefixRange(resp, p, limit, keysPerPrefix, value); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func checkPrefixRange(resp *clientv3.GetResponse, p int, limit int64, total int, value func(p, i int) []byte) error {
	want := total
	if limit > 0 {
		want = int(limit)
	}
	if len(resp.Kvs) != want || resp.Count != int64(total) || resp.More != (limit > 0) {
		return fmt.Errorf("prefix %d limit %d: %d kvs, count %d, more %v", p, limit, len(resp.Kvs), resp.Count, resp.More)
	}
	for i, kv := range resp.Kvs {
		if k := fmt.Sprintf("p%d/%04d", p, i); string(kv.Key) != k {
			return fmt.Errorf("prefix %d: kv %d has key %q, want %q", p, i, kv.Key, k)
		}
		if !bytes.Equal(kv.Value, value(p, i)) {
			return fmt.Errorf("prefix %d: key %q has a value of %d bytes that is not its own", p, kv.Key, len(kv.Value))
		}
		if kv.Version != 1 || kv.CreateRevision == 0 || kv.ModRevision != kv.CreateRevision {
			return fmt.Errorf("prefix %d: key %q has version %d, create %d, mod %d", p, kv.Key, kv.Version, kv.CreateRevision, kv.ModRevision)
		}
	}
	return nil
}
