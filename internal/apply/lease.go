package apply

import (
	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/lease"
	"github.com/cairn-kv/cairn/internal/mvcc"
)

func (a *Applier) leaseGrant(b *pebble.Batch, wb *mvcc.Batch, r *pb.LeaseGrantRequest) Result {
	le, err := a.lessor.Grant(b, r.ID, r.TTL)
	if err != nil {
		return Result{Err: err}
	}
	return Result{Resp: &pb.LeaseGrantResponse{Header: &pb.ResponseHeader{Revision: wb.Rev()}, ID: le.ID, TTL: le.TTL}}
}

// leaseRevoke deletes every key attached to the lease in one revision, then
// the lease itself.
func (a *Applier) leaseRevoke(b *pebble.Batch, wb *mvcc.Batch, r *pb.LeaseRevokeRequest) Result {
	if !a.lessor.LeaseExists(r.ID) {
		return Result{Err: lease.ErrLeaseNotFound}
	}
	keys, err := lease.Keys(b, r.ID)
	must(err)
	wt := wb.Txn()
	for _, k := range keys {
		_, err := wt.DeleteRange(&pb.DeleteRangeRequest{Key: k})
		must(err)
	}
	rev := wt.End()
	must(a.lessor.Revoke(b, r.ID))
	return Result{Resp: &pb.LeaseRevokeResponse{Header: &pb.ResponseHeader{Revision: rev}}}
}
