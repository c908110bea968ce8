package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// httpMember adapts the server to httpapi.Member.
type httpMember struct{ s *Server }

func (m httpMember) HasLeader() bool           { return m.s.node.Leader() != 0 }
func (m httpMember) Alarms() []*pb.AlarmMember { return m.s.Alarms() }
func (m httpMember) ClusterVersion() string    { return m.s.cluster.Version() }
func (m httpMember) IsLearner() bool {
	mem := m.s.cluster.Member(m.s.memberID)
	return mem != nil && mem.IsLearner
}

// Read ranges over the key "health", as etcd's probes do.
func (m httpMember) Read(ctx context.Context, serializable bool) error {
	_, err := m.s.localRange(ctx, &pb.RangeRequest{Key: []byte("health"), Serializable: serializable})
	return err
}
