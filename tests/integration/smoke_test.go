package integration

import (
	"context"
	"testing"

	"github.com/cairn-kv/cairn/internal/testutil"
)

func TestSmokePutGet(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := context.Background()
	if _, err := c.Put(ctx, "foo", "bar"); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(ctx, "foo")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "bar" || resp.Header.Revision != 2 {
		t.Fatalf("got %v", resp)
	}
	t.Logf("%v", resp)
}
