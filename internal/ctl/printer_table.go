package ctl

import (
	"fmt"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// tablePrinter draws members and endpoints as tables (see table.go). Key
// space results have no table form.
type tablePrinter struct {
	simplePrinter
}

func (p *tablePrinter) get(*clientv3.GetResponse, bool) error { return notSupported("table") }
func (p *tablePrinter) put(*clientv3.PutResponse) error       { return notSupported("table") }
func (p *tablePrinter) del(*clientv3.DeleteResponse) error    { return notSupported("table") }
func (p *tablePrinter) txn(*clientv3.TxnResponse) error       { return notSupported("table") }

func (p *tablePrinter) memberAdd(*clientv3.MemberAddResponse) error { return notSupported("table") }
func (p *tablePrinter) memberRemove(uint64, *clientv3.MemberRemoveResponse) error {
	return notSupported("table")
}
func (p *tablePrinter) memberUpdate(uint64, *clientv3.MemberUpdateResponse) error {
	return notSupported("table")
}
func (p *tablePrinter) memberPromote(uint64, *clientv3.MemberPromoteResponse) error {
	return notSupported("table")
}
func (p *tablePrinter) moveLeader(uint64, uint64, *clientv3.MoveLeaderResponse) error {
	return notSupported("table")
}
func (p *tablePrinter) leaseGrant(*clientv3.LeaseGrantResponse) error { return notSupported("table") }
func (p *tablePrinter) leaseRevoke(clientv3.LeaseID, *clientv3.LeaseRevokeResponse) error {
	return notSupported("table")
}
func (p *tablePrinter) leaseTimeToLive(*clientv3.LeaseTimeToLiveResponse, bool) error {
	return notSupported("table")
}
func (p *tablePrinter) leaseList(*clientv3.LeaseLeasesResponse) error { return notSupported("table") }
func (p *tablePrinter) leaseKeepAlive(*clientv3.LeaseKeepAliveResponse) error {
	return notSupported("table")
}
func (p *tablePrinter) watch(clientv3.WatchResponse) error { return notSupported("table") }

func (p *tablePrinter) memberList(resp *clientv3.MemberListResponse) error {
	header := []string{"ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"}
	var rows [][]string
	for _, m := range resp.Members {
		rows = append(rows, memberRow(m))
	}
	renderTable(p.w, header, rows)
	return nil
}

func (p *tablePrinter) endpointHealth(results []healthResult) error {
	header := []string{"ENDPOINT", "HEALTH", "TOOK", "ERROR"}
	var rows [][]string
	for _, h := range results {
		rows = append(rows, []string{h.Endpoint, fmt.Sprint(h.Health), h.Took, h.Error})
	}
	renderTable(p.w, header, rows)
	return nil
}

func (p *tablePrinter) endpointStatus(results []statusResult) error {
	header := make([]string, len(statusHeader))
	for i, h := range statusHeader {
		header[i] = strings.ToUpper(h)
	}
	var rows [][]string
	for _, r := range results {
		rows = append(rows, statusRow(r))
	}
	renderTable(p.w, header, rows)
	return nil
}

func (p *tablePrinter) endpointHashKV(results []hashKVResult) error {
	header := []string{"ENDPOINT", "HASH", "HASH REVISION"}
	var rows [][]string
	for _, r := range results {
		rows = append(rows, []string{r.Endpoint, fmt.Sprint(r.Resp.Hash), fmt.Sprint(r.Resp.HashRevision)})
	}
	renderTable(p.w, header, rows)
	return nil
}

func (p *tablePrinter) alarm(*clientv3.AlarmResponse) error { return notSupported("table") }
func (p *tablePrinter) authStatus(*clientv3.AuthStatusResponse) error {
	return notSupported("table")
}
func (p *tablePrinter) changed(string, *pb.ResponseHeader, proto.Message) error {
	return notSupported("table")
}
func (p *tablePrinter) userGet(string, *clientv3.AuthUserGetResponse) error {
	return notSupported("table")
}
func (p *tablePrinter) userList(*clientv3.AuthUserListResponse) error { return notSupported("table") }
func (p *tablePrinter) roleGet(string, *clientv3.AuthRoleGetResponse) error {
	return notSupported("table")
}
func (p *tablePrinter) roleList(*clientv3.AuthRoleListResponse) error { return notSupported("table") }
