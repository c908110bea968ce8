package v3lock

import (
	"context"
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/grpc"

	"github.com/cairn-kv/cairn/internal/v3lock/v3electionpb"
)

// ErrMissingLeaderKey answers a Proclaim or Resign without a leader key.
var ErrMissingLeaderKey = errors.New(`"leader" field must be provided`)

// noLease stands for "no lease" in the sessions of the read-only calls
// (Observe), which only need the session's client.
const noLease = -1

// ElectionServer serves /v3electionpb.Election.
type ElectionServer struct {
	v3electionpb.UnimplementedElectionServer
	conn grpc.ClientConnInterface
}

// NewElectionServer returns the election service, which reaches the
// member through conn.
func NewElectionServer(conn grpc.ClientConnInterface) *ElectionServer {
	return &ElectionServer{conn: conn}
}

// Campaign waits until the caller leads election req.Name, announcing
// req.Value under the key name/<lease in hex> bound to req.Lease.
func (es *ElectionServer) Campaign(ctx context.Context, req *v3electionpb.CampaignRequest) (*v3electionpb.CampaignResponse, error) {
	c, ctx := selfClient(ctx, es.conn)
	defer c.Close()
	s, err := session(ctx, c, req.Lease)
	if err != nil {
		return nil, grpcError(err)
	}
	e := concurrency.NewElection(s, string(req.Name))
	if err := e.Campaign(ctx, string(req.Value)); err != nil {
		return nil, grpcError(err)
	}
	return &v3electionpb.CampaignResponse{
		Header: e.Header(),
		Leader: &v3electionpb.LeaderKey{Name: req.Name, Key: []byte(e.Key()), Rev: e.Rev(), Lease: int64(s.Lease())},
	}, nil
}

// Proclaim replaces the leader's value, provided the leader key still
// exists with the creation revision it names (else "election: not
// leader").
func (es *ElectionServer) Proclaim(ctx context.Context, req *v3electionpb.ProclaimRequest) (*v3electionpb.ProclaimResponse, error) {
	hdr, err := es.asLeader(ctx, req.Leader, func(ctx context.Context, e *concurrency.Election) error {
		return e.Proclaim(ctx, string(req.Value))
	})
	if err != nil {
		return nil, err
	}
	return &v3electionpb.ProclaimResponse{Header: hdr}, nil
}

// Leader returns the key of the current leader of req.Name, the oldest
// key of the election ("election: no leader" when there is none).
func (es *ElectionServer) Leader(ctx context.Context, req *v3electionpb.LeaderRequest) (*v3electionpb.LeaderResponse, error) {
	c, ctx := selfClient(ctx, es.conn)
	defer c.Close()
	resp, err := c.Get(ctx, string(req.Name)+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return nil, grpcError(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, concurrency.ErrElectionNoLeader
	}
	return &v3electionpb.LeaderResponse{Header: resp.Header, Kv: resp.Kvs[0]}, nil
}

// Observe streams the leader of req.Name: its key now (once there is a
// leader) and again each time the leader or its value changes.
func (es *ElectionServer) Observe(req *v3electionpb.LeaderRequest, stream v3electionpb.Election_ObserveServer) error {
	c, ctx := selfClient(stream.Context(), es.conn)
	defer c.Close()
	s, err := session(ctx, c, noLease)
	if err != nil {
		return grpcError(err)
	}
	ch := concurrency.NewElection(s, string(req.Name)).Observe(ctx)
	for {
		select {
		case <-ctx.Done():
			return grpcError(ctx.Err())
		case resp, ok := <-ch:
			if !ok {
				return grpcError(ctx.Err())
			}
			if err := stream.Send(&v3electionpb.LeaderResponse{Header: resp.Header, Kv: resp.Kvs[0]}); err != nil {
				return err
			}
		}
	}
}

// Resign gives up the leadership req.Leader names: its key is deleted
// when it still has the named creation revision.
func (es *ElectionServer) Resign(ctx context.Context, req *v3electionpb.ResignRequest) (*v3electionpb.ResignResponse, error) {
	hdr, err := es.asLeader(ctx, req.Leader, func(ctx context.Context, e *concurrency.Election) error {
		return e.Resign(ctx)
	})
	if err != nil {
		return nil, err
	}
	return &v3electionpb.ResignResponse{Header: hdr}, nil
}

// asLeader runs fn on the election the leader key lk stands for and
// returns the header of fn's last response.
func (es *ElectionServer) asLeader(ctx context.Context, lk *v3electionpb.LeaderKey, fn func(context.Context, *concurrency.Election) error) (*pb.ResponseHeader, error) {
	if lk == nil {
		return nil, ErrMissingLeaderKey
	}
	c, ctx := selfClient(ctx, es.conn)
	defer c.Close()
	s, err := session(ctx, c, lk.Lease)
	if err != nil {
		return nil, grpcError(err)
	}
	e := concurrency.ResumeElection(s, string(lk.Name), string(lk.Key), lk.Rev)
	if err := fn(ctx, e); err != nil {
		return nil, grpcError(err)
	}
	return e.Header(), nil
}
