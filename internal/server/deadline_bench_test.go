package server

import (
	"context"
	"testing"
	"time"
)

// BenchmarkProposalTimeout is what a proposal's server-side timeout costs:
// a timer context of its own under the request's cancelable context (a
// gRPC stream's), or a shared one.
func BenchmarkProposalTimeout(b *testing.B) {
	b.Run("own", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				request, cancelRequest := context.WithCancel(context.Background())
				ctx, cancel := context.WithTimeout(request, 7*time.Second)
				_ = ctx.Done()
				cancel()
				cancelRequest()
			}
		})
	})
	b.Run("shared", func(b *testing.B) {
		s := newSharedDeadlines(7*time.Second, nil)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				request, cancelRequest := context.WithCancel(context.Background())
				_ = request.Done()
				_ = s.next().Done()
				cancelRequest()
			}
		})
	})
}
