package integration

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/ctl"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// lockedBuffer is an output stream make-mirror writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// prefixContent is every key under prefix, without the prefix, with its
// value.
func prefixContent(t *testing.T, c *clientv3.Client, prefix string) map[string]string {
	t.Helper()
	resp, err := c.Get(context.Background(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[strings.TrimPrefix(string(kv.Key), prefix)] = string(kv.Value)
	}
	return out
}

// TestMakeMirror runs etcdctl make-mirror between two Cairn servers while
// the source takes puts, deletes (single and ranges) and transactions,
// checks that the destination ends up with the same keys under its prefix
// and nothing else, and stops the mirror as a user would, with an
// interrupt.
func TestMakeMirror(t *testing.T) {
	src, dst := testutil.StartMember(t), testutil.StartMember(t)
	sc, dc := src.Client(t), dst.Client(t)
	ctx := context.Background()

	// Keys present before the mirror starts, and keys outside the prefix.
	for i := range 50 {
		if _, err := sc.Put(ctx, fmt.Sprintf("/app/k%02d", i), "v0"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sc.Put(ctx, "/other", "x"); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr lockedBuffer
	interrupt := make(chan struct{})
	exited := make(chan int, 1)
	go func() {
		exited <- ctl.Main(ctl.Options{
			Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Environ: []string{},
			Interrupt: interrupt,
		}, []string{"--endpoints=" + src.Endpoint, "make-mirror", "--prefix=/app/", "--dest-prefix=/copy/", "--max-txn-ops=3", dst.Endpoint})
	}()
	stopped := false
	stop := func() int {
		stopped = true
		close(interrupt)
		select {
		case code := <-exited:
			return code
		case <-time.After(20 * time.Second):
			t.Fatal("make-mirror did not stop after the interrupt")
			return 0
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		k := fmt.Sprintf("/app/k%02d", rng.IntN(60))
		var err error
		switch op := rng.IntN(10); {
		case op < 5:
			_, err = sc.Put(ctx, k, fmt.Sprintf("v%d", i))
		case op < 7:
			_, err = sc.Delete(ctx, k)
		case op < 8:
			// A range delete: the ten keys k's tens digit covers.
			_, err = sc.Delete(ctx, k[:len(k)-1], clientv3.WithPrefix())
		default:
			// A transaction of up to seven writes, more than one mirrored
			// transaction may hold.
			var ops []clientv3.Op
			for j, n := range rng.Perm(20)[:1+rng.IntN(7)] {
				kk := fmt.Sprintf("/app/t%02d", n)
				if j%3 == 2 {
					ops = append(ops, clientv3.OpDelete(kk))
				} else {
					ops = append(ops, clientv3.OpPut(kk, fmt.Sprintf("t%d.%d", i, j)))
				}
			}
			ops = append(ops, clientv3.OpPut("/other", fmt.Sprint(i)))
			_, err = sc.Txn(ctx).Then(ops...).Commit()
		}
		if err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}

	want := prefixContent(t, sc, "/app/")
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := prefixContent(t, dc, "/copy/")
		if maps.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("destination has %d keys, source %d; stderr:\n%s", len(got), len(want), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	all, err := dc.Get(ctx, "", clientv3.WithFromKey(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if int(all.Count) != len(want) {
		t.Errorf("destination holds %d keys, want only the %d mirrored ones", all.Count, len(want))
	}

	// etcdctl dies of SIGINT; in-process, the interrupt ends the command
	// with the status a shell reports for that.
	if code := stop(); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, `{"level":`) {
			t.Errorf("stderr: %s", line)
		}
	}
}
