package apply

import (
	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/alarm"
	"github.com/cairn-kv/cairn/internal/mvcc"
)

// refusedByAlarm applies the active alarms' rules, as etcd does: with
// CORRUPT raised nothing is served; with NOSPACE raised the requests that
// could grow the store (puts, transactions that write, lease grants) are
// refused, while deletes, compactions and revocations still free space.
func (a *Applier) refusedByAlarm(r *pb.InternalRaftRequest) error {
	if r.Alarm != nil {
		return nil
	}
	if a.alarms.Active(pb.AlarmType_CORRUPT) {
		switch {
		case r.Put != nil, r.Txn != nil, r.DeleteRange != nil, r.Range != nil, r.Compaction != nil,
			r.LeaseGrant != nil, r.LeaseRevoke != nil:
			return alarm.ErrCorrupt
		}
	}
	if a.alarms.Active(pb.AlarmType_NOSPACE) {
		switch {
		case r.Put != nil, r.LeaseGrant != nil:
			return alarm.ErrNoSpace
		case r.Txn != nil && txnHasPut(r.Txn):
			return alarm.ErrNoSpace
		}
	}
	return nil
}

// txnHasPut reports whether any branch of a transaction puts.
func txnHasPut(t *pb.TxnRequest) bool {
	for _, branch := range [][]*pb.RequestOp{t.Success, t.Failure} {
		for _, op := range branch {
			if op.GetRequestPut() != nil {
				return true
			}
			if n := op.GetRequestTxn(); n != nil && txnHasPut(n) {
				return true
			}
		}
	}
	return false
}

func (a *Applier) applyAlarm(b *pebble.Batch, wb *mvcc.Batch, r *pb.AlarmRequest) Result {
	resp := &pb.AlarmResponse{Header: &pb.ResponseHeader{Revision: wb.Rev()}}
	switch r.Action {
	case pb.AlarmRequest_GET:
		resp.Alarms = a.alarms.List(r.Alarm)
	case pb.AlarmRequest_ACTIVATE:
		if r.Alarm == pb.AlarmType_NONE {
			break
		}
		m, err := a.alarms.Activate(b, r.MemberID, r.Alarm)
		must(err)
		if m != nil {
			resp.Alarms = append(resp.Alarms, m)
			a.lg.Warn("alarm raised", "alarm", r.Alarm.String(), "member", r.MemberID)
		}
	case pb.AlarmRequest_DEACTIVATE:
		ms, err := a.alarms.Deactivate(b, r.MemberID, r.Alarm)
		must(err)
		resp.Alarms = ms
		for _, m := range ms {
			a.lg.Info("alarm cleared", "alarm", m.Alarm.String(), "member", m.MemberID)
		}
	}
	return Result{Resp: resp}
}
