package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/alarm"
)

// leaseGrantCost is what a lease grant is assumed to add to the store.
const leaseGrantCost = 64

// quotaBytes is the effective --quota-backend-bytes.
func (s *Server) quotaBytes() int64 {
	if s.cfg.QuotaBackendBytes <= 0 {
		return defaultQuotaBytes
	}
	return s.cfg.QuotaBackendBytes
}

// checkQuota refuses a request that would grow the store past the quota:
// it raises the NOSPACE alarm for this member (through raft, so the whole
// cluster stops growing) and fails with etcd's "database space exceeded".
// Requests that do not grow the store (cost 0) always pass here.
func (s *Server) checkQuota(ctx context.Context, cost int) error {
	if cost == 0 || s.eng.ApproxSizeBytes()+int64(cost) <= s.quotaBytes() {
		return nil
	}
	if !s.alarms.Active(pb.AlarmType_NOSPACE) {
		req := &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: s.memberID, Alarm: pb.AlarmType_NOSPACE}
		if _, err := s.propose(ctx, &pb.InternalRaftRequest{Alarm: req}); err != nil {
			s.lg.Warn("cannot raise the NOSPACE alarm", "error", err)
		}
	}
	return alarm.ErrNoSpace
}

func putCost(r *pb.PutRequest) int { return len(r.Key) + len(r.Value) + 64 }

// txnCost is what the bigger branch of a transaction puts.
func txnCost(r *pb.TxnRequest) int {
	return max(opsCost(r.Success), opsCost(r.Failure))
}

func opsCost(ops []*pb.RequestOp) int {
	n := 0
	for _, op := range ops {
		if p := op.GetRequestPut(); p != nil {
			n += putCost(p)
		}
		if t := op.GetRequestTxn(); t != nil {
			n += txnCost(t)
		}
	}
	return n
}
