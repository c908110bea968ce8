package v3lock

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/grpc"

	"github.com/cairn-kv/cairn/internal/v3lock/v3lockpb"
)

// LockServer serves /v3lockpb.Lock.
type LockServer struct {
	v3lockpb.UnimplementedLockServer
	conn grpc.ClientConnInterface
}

// NewLockServer returns the lock service, which reaches the member through
// conn.
func NewLockServer(conn grpc.ClientConnInterface) *LockServer { return &LockServer{conn: conn} }

// Lock waits until the caller owns the lock req.Name and returns the
// ownership key, name/<lease in hex>, bound to req.Lease. A lease of 0
// makes a new one with the recipes' default TTL (60 s), as etcd does.
func (ls *LockServer) Lock(ctx context.Context, req *v3lockpb.LockRequest) (*v3lockpb.LockResponse, error) {
	c, ctx := selfClient(ctx, ls.conn)
	defer c.Close()
	s, err := session(ctx, c, req.Lease)
	if err != nil {
		return nil, grpcError(err)
	}
	m := concurrency.NewMutex(s, string(req.Name))
	if err := m.Lock(ctx); err != nil {
		return nil, grpcError(err)
	}
	return &v3lockpb.LockResponse{Header: m.Header(), Key: []byte(m.Key())}, nil
}

// Unlock deletes the ownership key req.Key, letting the next waiter in.
func (ls *LockServer) Unlock(ctx context.Context, req *v3lockpb.UnlockRequest) (*v3lockpb.UnlockResponse, error) {
	c, ctx := selfClient(ctx, ls.conn)
	defer c.Close()
	resp, err := c.Delete(ctx, string(req.Key))
	if err != nil {
		return nil, grpcError(err)
	}
	return &v3lockpb.UnlockResponse{Header: resp.Header}, nil
}

// session wraps lease in a concurrency session for one call. The session
// does not keep the lease alive past the call: that stays the caller's
// job, so a lock or leadership ends when the caller's lease does.
func session(ctx context.Context, c *clientv3.Client, lease int64) (*concurrency.Session, error) {
	s, err := concurrency.NewSession(c, concurrency.WithLease(clientv3.LeaseID(lease)), concurrency.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	s.Orphan()
	return s, nil
}
