package ctl

import (
	"fmt"
	"io"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// protobufPrinter writes the response message in protobuf wire encoding,
// with nothing around it. Endpoint health and status are not messages of the
// API, so this format refuses them.
type protobufPrinter struct {
	w io.Writer
}

func (p *protobufPrinter) write(m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return exitErr(ExitError, err)
	}
	_, err = p.w.Write(b)
	return err
}

func (p *protobufPrinter) get(resp *clientv3.GetResponse, _ bool) error {
	return p.write((*pb.RangeResponse)(resp))
}

func (p *protobufPrinter) put(resp *clientv3.PutResponse) error {
	return p.write((*pb.PutResponse)(resp))
}

func (p *protobufPrinter) del(resp *clientv3.DeleteResponse) error {
	return p.write((*pb.DeleteRangeResponse)(resp))
}

func (p *protobufPrinter) txn(resp *clientv3.TxnResponse) error {
	return p.write((*pb.TxnResponse)(resp))
}

func (p *protobufPrinter) memberList(resp *clientv3.MemberListResponse) error {
	return p.write((*pb.MemberListResponse)(resp))
}

func (p *protobufPrinter) endpointHealth([]healthResult) error { return notSupported("protobuf") }
func (p *protobufPrinter) endpointStatus([]statusResult) error { return notSupported("protobuf") }

func (p *protobufPrinter) memberAdd(resp *clientv3.MemberAddResponse) error {
	return p.write((*pb.MemberAddResponse)(resp))
}

func (p *protobufPrinter) memberRemove(_ uint64, resp *clientv3.MemberRemoveResponse) error {
	return p.write((*pb.MemberRemoveResponse)(resp))
}

func (p *protobufPrinter) memberUpdate(_ uint64, resp *clientv3.MemberUpdateResponse) error {
	return p.write((*pb.MemberUpdateResponse)(resp))
}

func (p *protobufPrinter) memberPromote(_ uint64, resp *clientv3.MemberPromoteResponse) error {
	return p.write((*pb.MemberPromoteResponse)(resp))
}

func (p *protobufPrinter) endpointHashKV([]hashKVResult) error { return notSupported("protobuf") }

func (p *protobufPrinter) moveLeader(_, _ uint64, resp *clientv3.MoveLeaderResponse) error {
	return p.write((*pb.MoveLeaderResponse)(resp))
}

// The client library's lease responses are not protobuf messages but
// structs that embed the response header; etcdctl writes that header, and
// nothing else, for them. A revoke result has no header to stand in for it
// and is refused.

func (p *protobufPrinter) leaseGrant(resp *clientv3.LeaseGrantResponse) error {
	return p.write(resp.ResponseHeader)
}

func (p *protobufPrinter) leaseRevoke(_ clientv3.LeaseID, resp *clientv3.LeaseRevokeResponse) error {
	return exitErrf(ExitBadFeature, "marshal unsupported for type clientv3.LeaseRevokeResponse ({%s {} [] 0})", protoTextHeader(resp.Header))
}

func (p *protobufPrinter) leaseTimeToLive(resp *clientv3.LeaseTimeToLiveResponse, _ bool) error {
	return p.write(resp.ResponseHeader)
}

func (p *protobufPrinter) leaseList(resp *clientv3.LeaseLeasesResponse) error {
	return p.write(resp.ResponseHeader)
}

func (p *protobufPrinter) leaseKeepAlive(resp *clientv3.LeaseKeepAliveResponse) error {
	return p.write(resp.ResponseHeader)
}

// watch writes the response as a WatchResponse message holding what the
// client library passes on: header, events, compaction and cancel state
// (not the watch ID, nor the cancel reason).
func (p *protobufPrinter) watch(resp clientv3.WatchResponse) error {
	m := &pb.WatchResponse{
		Header:          resp.Header,
		Created:         resp.Created,
		Canceled:        resp.Canceled,
		CompactRevision: resp.CompactRevision,
	}
	if m.Header == nil {
		m.Header = &pb.ResponseHeader{} // always written, if empty
	}
	for _, ev := range resp.Events {
		m.Events = append(m.Events, (*mvccpb.Event)(ev))
	}
	return p.write(m)
}

// protoTextHeader is a header in the compact protobuf text format etcdctl's
// messages quote: "cluster_id:1 member_id:2 revision:3 raft_term:4 ", zero
// fields left out, each field followed by a space; "<nil>" for none.
func protoTextHeader(h *pb.ResponseHeader) string {
	if h == nil {
		return "<nil>"
	}
	var sb strings.Builder
	field := func(name string, v uint64) {
		if v != 0 {
			fmt.Fprintf(&sb, "%s:%d ", name, v)
		}
	}
	field("cluster_id", h.ClusterId)
	field("member_id", h.MemberId)
	if h.Revision != 0 {
		fmt.Fprintf(&sb, "revision:%d ", h.Revision)
	}
	field("raft_term", h.RaftTerm)
	return sb.String()
}

func (p *protobufPrinter) alarm(resp *clientv3.AlarmResponse) error {
	return p.write((*pb.AlarmResponse)(resp))
}

func (p *protobufPrinter) authStatus(resp *clientv3.AuthStatusResponse) error {
	return p.write((*pb.AuthStatusResponse)(resp))
}

func (p *protobufPrinter) changed(_ string, _ *pb.ResponseHeader, m proto.Message) error {
	return p.write(m)
}

func (p *protobufPrinter) userGet(_ string, resp *clientv3.AuthUserGetResponse) error {
	return p.write((*pb.AuthUserGetResponse)(resp))
}

func (p *protobufPrinter) userList(resp *clientv3.AuthUserListResponse) error {
	return p.write((*pb.AuthUserListResponse)(resp))
}

func (p *protobufPrinter) roleGet(_ string, resp *clientv3.AuthRoleGetResponse) error {
	return p.write((*pb.AuthRoleGetResponse)(resp))
}

func (p *protobufPrinter) roleList(resp *clientv3.AuthRoleListResponse) error {
	return p.write((*pb.AuthRoleListResponse)(resp))
}
