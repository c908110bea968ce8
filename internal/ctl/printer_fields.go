package ctl

import (
	"fmt"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// fieldsPrinter writes one `"Name" : value` line per field, for scripts:
// byte strings Go-quoted, numbers in decimal. With --hex the cluster and
// member IDs are hex and lease IDs are 16 hex digits.
type fieldsPrinter struct {
	w   io.Writer
	hex bool
}

func (p *fieldsPrinter) field(name string, format string, v any) {
	fmt.Fprintf(p.w, "%q : "+format+"\n", name, v)
}

func (p *fieldsPrinter) id(name string, v uint64) {
	if p.hex {
		p.field(name, "%x", v)
		return
	}
	p.field(name, "%d", v)
}

// header leaves the revision out when there is none, as in the response of
// a canceled watch.
func (p *fieldsPrinter) header(h *pb.ResponseHeader) {
	p.id("ClusterID", h.GetClusterId())
	p.id("MemberID", h.GetMemberId())
	if h.GetRevision() != 0 {
		p.field("Revision", "%d", h.GetRevision())
	}
	p.field("RaftTerm", "%d", h.GetRaftTerm())
}

func (p *fieldsPrinter) kv(prefix string, kv *mvccpb.KeyValue) {
	p.field(prefix+"Key", "%q", kv.Key)
	p.field(prefix+"CreateRevision", "%d", kv.CreateRevision)
	p.field(prefix+"ModRevision", "%d", kv.ModRevision)
	p.field(prefix+"Version", "%d", kv.Version)
	p.field(prefix+"Value", "%q", kv.Value)
	if p.hex {
		p.field(prefix+"Lease", "%016x", kv.Lease)
	} else {
		p.field(prefix+"Lease", "%d", kv.Lease)
	}
}

func (p *fieldsPrinter) get(resp *clientv3.GetResponse, _ bool) error {
	p.rangeResponse((*pb.RangeResponse)(resp))
	return nil
}

func (p *fieldsPrinter) rangeResponse(resp *pb.RangeResponse) {
	p.header(resp.Header)
	for _, kv := range resp.Kvs {
		p.kv("", kv)
	}
	p.field("More", "%v", resp.More)
	p.field("Count", "%d", resp.Count)
}

func (p *fieldsPrinter) put(resp *clientv3.PutResponse) error {
	p.putResponse((*pb.PutResponse)(resp))
	return nil
}

func (p *fieldsPrinter) putResponse(resp *pb.PutResponse) {
	p.header(resp.Header)
	if resp.PrevKv != nil {
		p.kv("Prev", resp.PrevKv)
	}
}

func (p *fieldsPrinter) del(resp *clientv3.DeleteResponse) error {
	p.delResponse((*pb.DeleteRangeResponse)(resp))
	return nil
}

func (p *fieldsPrinter) delResponse(resp *pb.DeleteRangeResponse) {
	p.header(resp.Header)
	p.field("Deleted", "%d", resp.Deleted)
	for _, kv := range resp.PrevKvs {
		p.kv("Prev", kv)
	}
}

func (p *fieldsPrinter) txn(resp *clientv3.TxnResponse) error {
	p.txnResponse((*pb.TxnResponse)(resp))
	return nil
}

func (p *fieldsPrinter) txnResponse(resp *pb.TxnResponse) {
	p.header(resp.Header)
	p.field("Succeeded", "%v", resp.Succeeded)
	for _, op := range resp.Responses {
		switch r := op.Response.(type) {
		case *pb.ResponseOp_ResponseRange:
			p.rangeResponse(r.ResponseRange)
		case *pb.ResponseOp_ResponsePut:
			p.putResponse(r.ResponsePut)
		case *pb.ResponseOp_ResponseDeleteRange:
			p.delResponse(r.ResponseDeleteRange)
		case *pb.ResponseOp_ResponseTxn:
			p.txnResponse(r.ResponseTxn)
		}
	}
}

// memberList's header has no revision line: a member list is not a read of
// the key space.
func (p *fieldsPrinter) memberList(resp *clientv3.MemberListResponse) error {
	p.id("ClusterID", resp.Header.GetClusterId())
	p.id("MemberID", resp.Header.GetMemberId())
	p.field("RaftTerm", "%d", resp.Header.GetRaftTerm())
	for _, m := range resp.Members {
		p.id("ID", m.ID)
		p.field("Name", "%q", m.Name)
		for _, u := range m.PeerURLs {
			p.field("PeerURL", "%q", u)
		}
		for _, u := range m.ClientURLs {
			p.field("ClientURL", "%q", u)
		}
		p.field("IsLearner", "%v", m.IsLearner)
		fmt.Fprintln(p.w)
	}
	return nil
}

func (p *fieldsPrinter) endpointHealth(results []healthResult) error {
	for _, h := range results {
		p.field("Endpoint", "%q", h.Endpoint)
		p.field("Health", "%v", h.Health)
		p.field("Took", "%s", h.Took)
		p.field("Error", "%s", h.Error)
		fmt.Fprintln(p.w)
	}
	return nil
}

// endpointStatus prints the leader in decimal even with --hex, as etcdctl
// does.
func (p *fieldsPrinter) endpointStatus(results []statusResult) error {
	for _, r := range results {
		s := r.Resp
		p.header(s.Header)
		p.field("Version", "%q", s.Version)
		p.field("StorageVersion", "%q", s.StorageVersion)
		p.field("DBSize", "%d", s.DbSize)
		p.field("DBSizeInUse", "%d", s.DbSizeInUse)
		p.field("DBSizeQuota", "%d", s.DbSizeQuota)
		p.field("Leader", "%d", s.Leader)
		p.field("IsLearner", "%v", s.IsLearner)
		p.field("RaftIndex", "%d", s.RaftIndex)
		p.field("RaftAppliedIndex", "%d", s.RaftAppliedIndex)
		p.field("Errors", "%v", s.Errors)
		p.field("Endpoint", "%q", r.Endpoint)
		var target string
		var enabled bool
		if s.DowngradeInfo != nil {
			target, enabled = s.DowngradeInfo.TargetVersion, s.DowngradeInfo.Enabled
		}
		p.field("DowngradeTargetVersion", "%q", target)
		p.field("DowngradeEnabled", "%v", enabled)
		fmt.Fprintln(p.w)
	}
	return nil
}

// Member changes have no fields form.

func (p *fieldsPrinter) memberAdd(*clientv3.MemberAddResponse) error { return notSupported("fields") }
func (p *fieldsPrinter) memberRemove(uint64, *clientv3.MemberRemoveResponse) error {
	return notSupported("fields")
}
func (p *fieldsPrinter) memberUpdate(uint64, *clientv3.MemberUpdateResponse) error {
	return notSupported("fields")
}
func (p *fieldsPrinter) memberPromote(uint64, *clientv3.MemberPromoteResponse) error {
	return notSupported("fields")
}
func (p *fieldsPrinter) moveLeader(uint64, uint64, *clientv3.MoveLeaderResponse) error {
	return notSupported("fields")
}

func (p *fieldsPrinter) endpointHashKV(results []hashKVResult) error {
	for _, r := range results {
		p.header(r.Resp.Header)
		p.field("Endpoint", "%q", r.Endpoint)
		p.field("Hash", "%d", r.Resp.Hash)
		p.field("HashRevision", "%d", r.Resp.HashRevision)
		fmt.Fprintln(p.w)
	}
	return nil
}

// leaseID prints a lease ID in decimal, or with --hex in 16 hex digits.
func (p *fieldsPrinter) leaseID(name string, id clientv3.LeaseID) {
	if p.hex {
		p.field(name, "%016x", int64(id))
		return
	}
	p.field(name, "%d", int64(id))
}

func (p *fieldsPrinter) leaseGrant(resp *clientv3.LeaseGrantResponse) error {
	p.header(resp.ResponseHeader)
	p.leaseID("ID", resp.ID)
	p.field("TTL", "%d", resp.TTL)
	return nil
}

func (p *fieldsPrinter) leaseRevoke(_ clientv3.LeaseID, resp *clientv3.LeaseRevokeResponse) error {
	p.header(resp.Header)
	return nil
}

func (p *fieldsPrinter) leaseTimeToLive(resp *clientv3.LeaseTimeToLiveResponse, _ bool) error {
	p.header(resp.ResponseHeader)
	p.leaseID("ID", resp.ID)
	p.field("TTL", "%d", resp.TTL)
	p.field("GrantedTTL", "%d", resp.GrantedTTL)
	for _, k := range resp.Keys {
		p.field("Key", "%q", k)
	}
	return nil
}

func (p *fieldsPrinter) leaseList(resp *clientv3.LeaseLeasesResponse) error {
	p.header(resp.ResponseHeader)
	for _, l := range resp.Leases {
		p.leaseID("ID", l.ID)
	}
	return nil
}

func (p *fieldsPrinter) leaseKeepAlive(resp *clientv3.LeaseKeepAliveResponse) error {
	p.header(resp.ResponseHeader)
	p.leaseID("ID", resp.ID)
	p.field("TTL", "%d", resp.TTL)
	return nil
}

func (p *fieldsPrinter) watch(resp clientv3.WatchResponse) error {
	p.header(resp.Header)
	for _, ev := range resp.Events {
		p.field("Type", "%v", ev.Type)
		if ev.PrevKv != nil {
			p.kv("Prev", ev.PrevKv)
		}
		p.kv("", ev.Kv)
	}
	return nil
}

// alarm follows each alarm with a blank line. etcdctl crashes on the
// header-less response of a disarm; this prints the header only when
// there is one.
func (p *fieldsPrinter) alarm(resp *clientv3.AlarmResponse) error {
	if resp.Header != nil {
		p.header(resp.Header)
	}
	for _, a := range resp.Alarms {
		p.field("MemberID", "%d", a.MemberID)
		p.field("AlarmType", "%s", a.Alarm)
		fmt.Fprintln(p.w)
	}
	return nil
}

func (p *fieldsPrinter) authStatus(*clientv3.AuthStatusResponse) error {
	return notSupported("fields")
}

func (p *fieldsPrinter) changed(_ string, h *pb.ResponseHeader, _ proto.Message) error {
	p.header(h)
	return nil
}

func (p *fieldsPrinter) userGet(string, *clientv3.AuthUserGetResponse) error {
	return notSupported("fields")
}

func (p *fieldsPrinter) userList(*clientv3.AuthUserListResponse) error {
	return notSupported("fields")
}

func (p *fieldsPrinter) roleGet(_ string, resp *clientv3.AuthRoleGetResponse) error {
	p.header(resp.Header)
	for _, perm := range resp.Perm {
		// etcdctl leaves two spaces before the type.
		p.field("PermType", " %s", perm.PermType)
		p.field("Key", "%q", perm.Key)
		p.field("RangeEnd", "%q", perm.RangeEnd)
	}
	return nil
}

func (p *fieldsPrinter) roleList(resp *clientv3.AuthRoleListResponse) error {
	p.header(resp.Header)
	fmt.Fprintf(p.w, "%q :", "Roles")
	for _, r := range resp.Roles {
		fmt.Fprintf(p.w, " %q", r)
	}
	fmt.Fprintln(p.w)
	return nil
}
