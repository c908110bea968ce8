package ctl

import (
	"fmt"
	"io"
	"strings"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// simplePrinter is the default format: keys and values one per line (raw
// bytes, or \xNN escapes with --hex), "OK" for a put, the deleted count for
// a delete, comma-separated rows for members and endpoints.
type simplePrinter struct {
	w    io.Writer
	errw io.Writer // unhealthy endpoints are reported on stderr
	hex  bool
}

func (p *simplePrinter) line(b []byte) {
	if p.hex {
		fmt.Fprintln(p.w, hexBytes(b))
		return
	}
	p.w.Write(b)
	io.WriteString(p.w, "\n")
}

func (p *simplePrinter) kv(kv *mvccpb.KeyValue, valueOnly bool) {
	if !valueOnly {
		p.line(kv.Key)
	}
	p.line(kv.Value)
}

func (p *simplePrinter) get(resp *clientv3.GetResponse, valueOnly bool) error {
	for _, kv := range resp.Kvs {
		p.kv(kv, valueOnly)
	}
	return nil
}

func (p *simplePrinter) put(resp *clientv3.PutResponse) error {
	fmt.Fprintln(p.w, "OK")
	if resp.PrevKv != nil {
		p.kv(resp.PrevKv, false)
	}
	return nil
}

func (p *simplePrinter) del(resp *clientv3.DeleteResponse) error {
	fmt.Fprintln(p.w, resp.Deleted)
	for _, kv := range resp.PrevKvs {
		p.kv(kv, false)
	}
	return nil
}

// txn prints SUCCESS or FAILURE, then each operation's result after a
// blank line, the way the single commands print them.
func (p *simplePrinter) txn(resp *clientv3.TxnResponse) error {
	p.txnResponse((*pb.TxnResponse)(resp))
	return nil
}

func (p *simplePrinter) txnResponse(resp *pb.TxnResponse) {
	if resp.Succeeded {
		fmt.Fprintln(p.w, "SUCCESS")
	} else {
		fmt.Fprintln(p.w, "FAILURE")
	}
	for _, op := range resp.Responses {
		fmt.Fprintln(p.w)
		switch r := op.Response.(type) {
		case *pb.ResponseOp_ResponseRange:
			p.get((*clientv3.GetResponse)(r.ResponseRange), false)
		case *pb.ResponseOp_ResponsePut:
			p.put((*clientv3.PutResponse)(r.ResponsePut))
		case *pb.ResponseOp_ResponseDeleteRange:
			p.del((*clientv3.DeleteResponse)(r.ResponseDeleteRange))
		case *pb.ResponseOp_ResponseTxn:
			p.txnResponse(r.ResponseTxn)
		}
	}
}

func (p *simplePrinter) memberList(resp *clientv3.MemberListResponse) error {
	for _, m := range resp.Members {
		fmt.Fprintln(p.w, strings.Join(memberRow(m), ", "))
	}
	return nil
}

func (p *simplePrinter) endpointHealth(results []healthResult) error {
	for _, h := range results {
		if h.Health {
			fmt.Fprintf(p.w, "%s is healthy: successfully committed proposal: took = %s\n", h.Endpoint, h.Took)
		} else {
			fmt.Fprintf(p.errw, "%s is unhealthy: failed to commit proposal: %s\n", h.Endpoint, h.Error)
		}
	}
	return nil
}

func (p *simplePrinter) endpointStatus(results []statusResult) error {
	for _, r := range results {
		fmt.Fprintln(p.w, strings.Join(statusRow(r), ", "))
	}
	return nil
}

func (p *simplePrinter) memberAdd(resp *clientv3.MemberAddResponse) error {
	as := ""
	if resp.Member.IsLearner {
		as = " as learner"
	}
	fmt.Fprintf(p.w, "Member %16x added%s to cluster %16x\n", resp.Member.ID, as, resp.Header.GetClusterId())
	return nil
}

func (p *simplePrinter) memberRemove(id uint64, resp *clientv3.MemberRemoveResponse) error {
	fmt.Fprintf(p.w, "Member %16x removed from cluster %16x\n", id, resp.Header.GetClusterId())
	return nil
}

func (p *simplePrinter) memberUpdate(id uint64, resp *clientv3.MemberUpdateResponse) error {
	fmt.Fprintf(p.w, "Member %16x updated in cluster %16x\n", id, resp.Header.GetClusterId())
	return nil
}

func (p *simplePrinter) memberPromote(id uint64, resp *clientv3.MemberPromoteResponse) error {
	fmt.Fprintf(p.w, "Member %16x promoted in cluster %16x\n", id, resp.Header.GetClusterId())
	return nil
}

func (p *simplePrinter) endpointHashKV(results []hashKVResult) error {
	for _, r := range results {
		fmt.Fprintf(p.w, "%s, %d, %d\n", r.Endpoint, r.Resp.Hash, r.Resp.HashRevision)
	}
	return nil
}

func (p *simplePrinter) moveLeader(from, to uint64, _ *clientv3.MoveLeaderResponse) error {
	fmt.Fprintf(p.w, "Leadership transferred from %x to %x\n", from, to)
	return nil
}

func (p *simplePrinter) leaseGrant(resp *clientv3.LeaseGrantResponse) error {
	fmt.Fprintf(p.w, "lease %016x granted with TTL(%ds)\n", int64(resp.ID), resp.TTL)
	return nil
}

func (p *simplePrinter) leaseRevoke(id clientv3.LeaseID, _ *clientv3.LeaseRevokeResponse) error {
	fmt.Fprintf(p.w, "lease %016x revoked\n", int64(id))
	return nil
}

// leaseTimeToLive reports a lease the server does not know (granted TTL 0,
// remaining -1) as expired. Attached keys are printed raw, even with --hex.
func (p *simplePrinter) leaseTimeToLive(resp *clientv3.LeaseTimeToLiveResponse, keys bool) error {
	if resp.GrantedTTL == 0 && resp.TTL == -1 {
		fmt.Fprintf(p.w, "lease %016x already expired\n", int64(resp.ID))
		return nil
	}
	fmt.Fprintf(p.w, "lease %016x granted with TTL(%ds), remaining(%ds)", int64(resp.ID), resp.GrantedTTL, resp.TTL)
	if keys {
		ks := make([]string, len(resp.Keys))
		for i, k := range resp.Keys {
			ks[i] = string(k)
		}
		fmt.Fprintf(p.w, ", attached keys(%v)", ks)
	}
	fmt.Fprintln(p.w)
	return nil
}

func (p *simplePrinter) leaseList(resp *clientv3.LeaseLeasesResponse) error {
	fmt.Fprintf(p.w, "found %d leases\n", len(resp.Leases))
	for _, l := range resp.Leases {
		fmt.Fprintf(p.w, "%016x\n", int64(l.ID))
	}
	return nil
}

func (p *simplePrinter) leaseKeepAlive(resp *clientv3.LeaseKeepAliveResponse) error {
	fmt.Fprintf(p.w, "lease %016x keepalived with TTL(%d)\n", int64(resp.ID), resp.TTL)
	return nil
}

// watch prints each event as its type, then the previous key-value pair
// (with --prev-kv) and the new one, key and value on a line each. A deleted
// key's new pair has an empty value.
func (p *simplePrinter) watch(resp clientv3.WatchResponse) error {
	for _, ev := range resp.Events {
		fmt.Fprintln(p.w, ev.Type)
		if ev.PrevKv != nil {
			p.kv(ev.PrevKv, false)
		}
		p.kv(ev.Kv, false)
	}
	return nil
}

// alarm prints each alarm in the protobuf text format: "memberID:<id>
// alarm:NOSPACE ".
func (p *simplePrinter) alarm(resp *clientv3.AlarmResponse) error {
	for _, a := range resp.Alarms {
		fmt.Fprintf(p.w, "memberID:%d alarm:%s \n", a.MemberID, a.Alarm)
	}
	return nil
}

func (p *simplePrinter) authStatus(resp *clientv3.AuthStatusResponse) error {
	fmt.Fprintf(p.w, "Authentication Status: %t\n", resp.Enabled)
	fmt.Fprintf(p.w, "AuthRevision: %d\n", resp.AuthRevision)
	return nil
}

func (p *simplePrinter) changed(msg string, _ *pb.ResponseHeader, _ proto.Message) error {
	fmt.Fprintln(p.w, msg)
	return nil
}

func (p *simplePrinter) userGet(name string, resp *clientv3.AuthUserGetResponse) error {
	fmt.Fprintf(p.w, "User: %s\nRoles:", name)
	for _, r := range resp.Roles {
		fmt.Fprintf(p.w, " %s", r)
	}
	fmt.Fprintln(p.w)
	return nil
}

func (p *simplePrinter) userList(resp *clientv3.AuthUserListResponse) error {
	for _, u := range resp.Users {
		fmt.Fprintln(p.w, u)
	}
	return nil
}

// roleGet lists the keys the role may read, then those it may write, one
// per line: a key, "[key, end)" for a range ("(prefix key)" added when the
// range is a prefix), "[key, <open ended>" for every key from key on.
func (p *simplePrinter) roleGet(name string, resp *clientv3.AuthRoleGetResponse) error {
	fmt.Fprintf(p.w, "Role %s\n", name)
	fmt.Fprintln(p.w, "KV Read:")
	for _, perm := range resp.Perm {
		if perm.PermType == authpb.READ || perm.PermType == authpb.READWRITE {
			fmt.Fprintf(p.w, "\t%s\n", permRange(perm.Key, perm.RangeEnd))
		}
	}
	fmt.Fprintln(p.w, "KV Write:")
	for _, perm := range resp.Perm {
		if perm.PermType == authpb.WRITE || perm.PermType == authpb.READWRITE {
			fmt.Fprintf(p.w, "\t%s\n", permRange(perm.Key, perm.RangeEnd))
		}
	}
	return nil
}

func permRange(key, end []byte) string {
	switch {
	case len(end) == 0:
		return string(key)
	case string(end) == "\x00":
		return fmt.Sprintf("[%s, <open ended>", key)
	case string(end) == clientv3.GetPrefixRangeEnd(string(key)):
		return fmt.Sprintf("[%s, %s) (prefix %s)", key, end, key)
	}
	return fmt.Sprintf("[%s, %s)", key, end)
}

func (p *simplePrinter) roleList(resp *clientv3.AuthRoleListResponse) error {
	for _, r := range resp.Roles {
		fmt.Fprintln(p.w, r)
	}
	return nil
}
