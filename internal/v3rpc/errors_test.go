package v3rpc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/status"

	"github.com/cairn-kv/cairn/internal/auth"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestErrorTableGolden pins every domain error's gRPC code and message:
// clients rebuild typed errors from the exact text.
func TestErrorTableGolden(t *testing.T) {
	var b strings.Builder
	for _, e := range errorTable {
		g := togRPCError(fmt.Errorf("wrapped: %w", e.domain))
		st, _ := status.FromError(g)
		fmt.Fprintf(&b, "%-45q -> %s %q\n", e.domain.Error(), st.Code(), st.Message())
		// The client library must recognise the message as one of its
		// typed errors (cancellation is reported by the client itself).
		if _, typed := rpctypes.Error(g).(rpctypes.EtcdError); !typed && !isContextErr(e.domain) && !untypedInClient[e.domain] {
			t.Errorf("%v: client does not rebuild the error", e.domain)
		}
	}
	got := b.String()
	path := "testdata/errors.golden"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("error table changed:\n%s\nwant:\n%s", got, want)
	}
}

// untypedInClient are errors whose text the client library has no typed
// error for (clients see the text as is).
var untypedInClient = map[error]bool{auth.ErrPermissionNotGiven: true}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func TestUnknownErrorIsUnknownCode(t *testing.T) {
	st, _ := status.FromError(togRPCError(fmt.Errorf("disk on fire")))
	if st.Code().String() != "Unknown" || st.Message() != "disk on fire" {
		t.Fatalf("got %v", st)
	}
}
