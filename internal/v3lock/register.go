package v3lock

import (
	"google.golang.org/grpc"

	"github.com/cairn-kv/cairn/internal/v3lock/v3electionpb"
	"github.com/cairn-kv/cairn/internal/v3lock/v3lockpb"
)

// Register adds the Lock and Election services to gs; their inner calls
// reach the member through conn, which must lead to gs itself over a
// connection only they use (see CallerCNKey).
func Register(gs *grpc.Server, conn grpc.ClientConnInterface) {
	v3lockpb.RegisterLockServer(gs, NewLockServer(conn))
	v3electionpb.RegisterElectionServer(gs, NewElectionServer(conn))
}
