package ctl

import (
	"encoding/json"
	"fmt"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// jsonPrinter writes each result as one line of JSON. The shapes are
// etcdctl's: the protobuf field names, zero values left out, byte strings in
// base64, and a txn's results wrapped as {"Response":{"response_put":...}}.
// The structs below spell the shapes out instead of relying on how the
// generated protobuf types happen to marshal.
//
// --hex changes only the member list, whose IDs then become hex strings.
type jsonPrinter struct {
	w   io.Writer
	hex bool
}

type jsonHeader struct {
	ClusterID uint64 `json:"cluster_id,omitempty"`
	MemberID  uint64 `json:"member_id,omitempty"`
	Revision  int64  `json:"revision,omitempty"`
	RaftTerm  uint64 `json:"raft_term,omitempty"`
}

type jsonKV struct {
	Key            []byte `json:"key,omitempty"`
	CreateRevision int64  `json:"create_revision,omitempty"`
	ModRevision    int64  `json:"mod_revision,omitempty"`
	Version        int64  `json:"version,omitempty"`
	Value          []byte `json:"value,omitempty"`
	Lease          int64  `json:"lease,omitempty"`
}

type jsonRange struct {
	Header *jsonHeader `json:"header,omitempty"`
	Kvs    []*jsonKV   `json:"kvs,omitempty"`
	More   bool        `json:"more,omitempty"`
	Count  int64       `json:"count,omitempty"`
}

type jsonPut struct {
	Header *jsonHeader `json:"header,omitempty"`
	PrevKv *jsonKV     `json:"prev_kv,omitempty"`
}

type jsonDelete struct {
	Header  *jsonHeader `json:"header,omitempty"`
	Deleted int64       `json:"deleted,omitempty"`
	PrevKvs []*jsonKV   `json:"prev_kvs,omitempty"`
}

type jsonTxn struct {
	Header    *jsonHeader       `json:"header,omitempty"`
	Succeeded bool              `json:"succeeded,omitempty"`
	Responses []*jsonResponseOp `json:"responses,omitempty"`
}

// jsonResponseOp holds exactly one of the four results.
type jsonResponseOp struct {
	Response struct {
		Range  *jsonRange  `json:"response_range,omitempty"`
		Put    *jsonPut    `json:"response_put,omitempty"`
		Delete *jsonDelete `json:"response_delete_range,omitempty"`
		Txn    *jsonTxn    `json:"response_txn,omitempty"`
	}
}

type jsonMember struct {
	ID         uint64   `json:"ID,omitempty"`
	Name       string   `json:"name,omitempty"`
	PeerURLs   []string `json:"peerURLs,omitempty"`
	ClientURLs []string `json:"clientURLs,omitempty"`
	IsLearner  bool     `json:"isLearner,omitempty"`
}

type jsonMemberList struct {
	Header  *jsonHeader   `json:"header,omitempty"`
	Members []*jsonMember `json:"members,omitempty"`
}

// The --hex member list: IDs as hex strings.
type jsonHexHeader struct {
	ClusterID string `json:"cluster_id"`
	MemberID  string `json:"member_id"`
	Revision  int64  `json:"revision,omitempty"`
	RaftTerm  uint64 `json:"raft_term,omitempty"`
}

type jsonHexMember struct {
	ID         string   `json:"ID"`
	Name       string   `json:"name,omitempty"`
	PeerURLs   []string `json:"peerURLs,omitempty"`
	ClientURLs []string `json:"clientURLs,omitempty"`
	IsLearner  bool     `json:"isLearner,omitempty"`
}

type jsonHexMemberList struct {
	Header  *jsonHexHeader   `json:"header"`
	Members []*jsonHexMember `json:"members"`
}

type jsonDowngradeInfo struct {
	Enabled       bool   `json:"enabled,omitempty"`
	TargetVersion string `json:"targetVersion,omitempty"`
}

type jsonStatus struct {
	Header           *jsonHeader        `json:"header,omitempty"`
	Version          string             `json:"version,omitempty"`
	DbSize           int64              `json:"dbSize,omitempty"`
	Leader           uint64             `json:"leader,omitempty"`
	RaftIndex        uint64             `json:"raftIndex,omitempty"`
	RaftTerm         uint64             `json:"raftTerm,omitempty"`
	RaftAppliedIndex uint64             `json:"raftAppliedIndex,omitempty"`
	Errors           []string           `json:"errors,omitempty"`
	DbSizeInUse      int64              `json:"dbSizeInUse,omitempty"`
	IsLearner        bool               `json:"isLearner,omitempty"`
	StorageVersion   string             `json:"storageVersion,omitempty"`
	DbSizeQuota      int64              `json:"dbSizeQuota,omitempty"`
	DowngradeInfo    *jsonDowngradeInfo `json:"downgradeInfo,omitempty"`
}

type jsonEndpointStatus struct {
	Endpoint string
	Status   *jsonStatus
}

func toJSONHeader(h *pb.ResponseHeader) *jsonHeader {
	if h == nil {
		return nil
	}
	return &jsonHeader{ClusterID: h.ClusterId, MemberID: h.MemberId, Revision: h.Revision, RaftTerm: h.RaftTerm}
}

func toJSONKV(kv *mvccpb.KeyValue) *jsonKV {
	if kv == nil {
		return nil
	}
	return &jsonKV{
		Key:            kv.Key,
		CreateRevision: kv.CreateRevision,
		ModRevision:    kv.ModRevision,
		Version:        kv.Version,
		Value:          kv.Value,
		Lease:          kv.Lease,
	}
}

func toJSONKVs(kvs []*mvccpb.KeyValue) []*jsonKV {
	var out []*jsonKV
	for _, kv := range kvs {
		out = append(out, toJSONKV(kv))
	}
	return out
}

func toJSONRange(r *pb.RangeResponse) *jsonRange {
	return &jsonRange{Header: toJSONHeader(r.Header), Kvs: toJSONKVs(r.Kvs), More: r.More, Count: r.Count}
}

func toJSONPut(r *pb.PutResponse) *jsonPut {
	return &jsonPut{Header: toJSONHeader(r.Header), PrevKv: toJSONKV(r.PrevKv)}
}

func toJSONDelete(r *pb.DeleteRangeResponse) *jsonDelete {
	return &jsonDelete{Header: toJSONHeader(r.Header), Deleted: r.Deleted, PrevKvs: toJSONKVs(r.PrevKvs)}
}

func toJSONTxn(r *pb.TxnResponse) *jsonTxn {
	out := &jsonTxn{Header: toJSONHeader(r.Header), Succeeded: r.Succeeded}
	for _, op := range r.Responses {
		j := &jsonResponseOp{}
		switch v := op.Response.(type) {
		case *pb.ResponseOp_ResponseRange:
			j.Response.Range = toJSONRange(v.ResponseRange)
		case *pb.ResponseOp_ResponsePut:
			j.Response.Put = toJSONPut(v.ResponsePut)
		case *pb.ResponseOp_ResponseDeleteRange:
			j.Response.Delete = toJSONDelete(v.ResponseDeleteRange)
		case *pb.ResponseOp_ResponseTxn:
			j.Response.Txn = toJSONTxn(v.ResponseTxn)
		}
		out.Responses = append(out.Responses, j)
	}
	return out
}

func toJSONStatus(s *pb.StatusResponse) *jsonStatus {
	out := &jsonStatus{
		Header:           toJSONHeader(s.Header),
		Version:          s.Version,
		DbSize:           s.DbSize,
		Leader:           s.Leader,
		RaftIndex:        s.RaftIndex,
		RaftTerm:         s.RaftTerm,
		RaftAppliedIndex: s.RaftAppliedIndex,
		Errors:           s.Errors,
		DbSizeInUse:      s.DbSizeInUse,
		IsLearner:        s.IsLearner,
		StorageVersion:   s.StorageVersion,
		DbSizeQuota:      s.DbSizeQuota,
	}
	if d := s.DowngradeInfo; d != nil {
		out.DowngradeInfo = &jsonDowngradeInfo{Enabled: d.Enabled, TargetVersion: d.TargetVersion}
	}
	return out
}

func (p *jsonPrinter) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return exitErr(ExitError, err)
	}
	fmt.Fprintln(p.w, string(b))
	return nil
}

func (p *jsonPrinter) get(resp *clientv3.GetResponse, _ bool) error {
	return p.write(toJSONRange((*pb.RangeResponse)(resp)))
}

func (p *jsonPrinter) put(resp *clientv3.PutResponse) error {
	return p.write(toJSONPut((*pb.PutResponse)(resp)))
}

func (p *jsonPrinter) del(resp *clientv3.DeleteResponse) error {
	return p.write(toJSONDelete((*pb.DeleteRangeResponse)(resp)))
}

func (p *jsonPrinter) txn(resp *clientv3.TxnResponse) error {
	return p.write(toJSONTxn((*pb.TxnResponse)(resp)))
}

func (p *jsonPrinter) memberList(resp *clientv3.MemberListResponse) error {
	if p.hex {
		out := &jsonHexMemberList{}
		if h := resp.Header; h != nil {
			out.Header = &jsonHexHeader{
				ClusterID: fmt.Sprintf("%x", h.ClusterId),
				MemberID:  fmt.Sprintf("%x", h.MemberId),
				Revision:  h.Revision,
				RaftTerm:  h.RaftTerm,
			}
		}
		for _, m := range resp.Members {
			out.Members = append(out.Members, &jsonHexMember{
				ID: fmt.Sprintf("%x", m.ID), Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner,
			})
		}
		return p.write(out)
	}
	out := &jsonMemberList{Header: toJSONHeader(resp.Header)}
	for _, m := range resp.Members {
		out.Members = append(out.Members, &jsonMember{
			ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner,
		})
	}
	return p.write(out)
}

func (p *jsonPrinter) endpointHealth(results []healthResult) error {
	return p.write(results)
}

func (p *jsonPrinter) endpointStatus(results []statusResult) error {
	var out []jsonEndpointStatus
	for _, r := range results {
		out = append(out, jsonEndpointStatus{Endpoint: r.Endpoint, Status: toJSONStatus((*pb.StatusResponse)(r.Resp))})
	}
	return p.write(out)
}

// Member changes: the header, the added member, and the membership after
// the change.

type jsonMemberChange struct {
	Header  *jsonHeader   `json:"header,omitempty"`
	Member  *jsonMember   `json:"member,omitempty"`
	Members []*jsonMember `json:"members,omitempty"`
}

func toJSONMember(m *pb.Member) *jsonMember {
	if m == nil {
		return nil
	}
	return &jsonMember{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
}

func toJSONMembers(ms []*pb.Member) []*jsonMember {
	var out []*jsonMember
	for _, m := range ms {
		out = append(out, toJSONMember(m))
	}
	return out
}

func (p *jsonPrinter) memberAdd(resp *clientv3.MemberAddResponse) error {
	return p.write(&jsonMemberChange{Header: toJSONHeader(resp.Header), Member: toJSONMember(resp.Member), Members: toJSONMembers(resp.Members)})
}

func (p *jsonPrinter) memberRemove(_ uint64, resp *clientv3.MemberRemoveResponse) error {
	return p.write(&jsonMemberChange{Header: toJSONHeader(resp.Header), Members: toJSONMembers(resp.Members)})
}

func (p *jsonPrinter) memberUpdate(_ uint64, resp *clientv3.MemberUpdateResponse) error {
	return p.write(&jsonMemberChange{Header: toJSONHeader(resp.Header), Members: toJSONMembers(resp.Members)})
}

func (p *jsonPrinter) memberPromote(_ uint64, resp *clientv3.MemberPromoteResponse) error {
	return p.write(&jsonMemberChange{Header: toJSONHeader(resp.Header), Members: toJSONMembers(resp.Members)})
}

type jsonHashKV struct {
	Header          *jsonHeader `json:"header,omitempty"`
	Hash            uint32      `json:"hash,omitempty"`
	CompactRevision int64       `json:"compact_revision,omitempty"`
	HashRevision    int64       `json:"hash_revision,omitempty"`
}

type jsonEndpointHashKV struct {
	Endpoint string
	HashKV   *jsonHashKV
}

func (p *jsonPrinter) endpointHashKV(results []hashKVResult) error {
	var out []jsonEndpointHashKV
	for _, r := range results {
		out = append(out, jsonEndpointHashKV{Endpoint: r.Endpoint, HashKV: &jsonHashKV{
			Header:          toJSONHeader(r.Resp.Header),
			Hash:            r.Resp.Hash,
			CompactRevision: r.Resp.CompactRevision,
			HashRevision:    r.Resp.HashRevision,
		}})
	}
	return p.write(out)
}

// jsonHeaderOnly is a response that carries nothing but its header.
type jsonHeaderOnly struct {
	Header *jsonHeader `json:"header,omitempty"`
}

func (p *jsonPrinter) moveLeader(_, _ uint64, resp *clientv3.MoveLeaderResponse) error {
	return p.write(&jsonHeaderOnly{Header: toJSONHeader(resp.Header)})
}

// The client library's lease results embed the header, so its fields sit at
// the top level of the object, next to the lease's own.

type jsonLeaseGrant struct {
	*jsonHeader
	ID    int64
	TTL   int64
	Error string
}

type jsonLeaseKeepAlive struct {
	*jsonHeader
	ID  int64
	TTL int64
}

type jsonLeaseTimeToLive struct {
	*jsonHeader
	ID         int64    `json:"id"`
	TTL        int64    `json:"ttl"`
	GrantedTTL int64    `json:"granted-ttl"`
	Keys       [][]byte `json:"keys"`
}

type jsonLeaseStatus struct {
	ID int64 `json:"id"`
}

type jsonLeaseList struct {
	*jsonHeader
	Leases []jsonLeaseStatus `json:"leases"`
}

func (p *jsonPrinter) leaseGrant(resp *clientv3.LeaseGrantResponse) error {
	return p.write(&jsonLeaseGrant{jsonHeader: toJSONHeader(resp.ResponseHeader), ID: int64(resp.ID), TTL: resp.TTL, Error: resp.Error})
}

func (p *jsonPrinter) leaseRevoke(_ clientv3.LeaseID, resp *clientv3.LeaseRevokeResponse) error {
	return p.write(&jsonHeaderOnly{Header: toJSONHeader(resp.Header)})
}

func (p *jsonPrinter) leaseTimeToLive(resp *clientv3.LeaseTimeToLiveResponse, _ bool) error {
	return p.write(&jsonLeaseTimeToLive{
		jsonHeader: toJSONHeader(resp.ResponseHeader),
		ID:         int64(resp.ID),
		TTL:        resp.TTL,
		GrantedTTL: resp.GrantedTTL,
		Keys:       resp.Keys,
	})
}

func (p *jsonPrinter) leaseList(resp *clientv3.LeaseLeasesResponse) error {
	out := &jsonLeaseList{jsonHeader: toJSONHeader(resp.ResponseHeader)}
	if resp.Leases != nil {
		out.Leases = make([]jsonLeaseStatus, 0, len(resp.Leases))
	}
	for _, l := range resp.Leases {
		out.Leases = append(out.Leases, jsonLeaseStatus{ID: int64(l.ID)})
	}
	return p.write(out)
}

func (p *jsonPrinter) leaseKeepAlive(resp *clientv3.LeaseKeepAliveResponse) error {
	return p.write(&jsonLeaseKeepAlive{jsonHeader: toJSONHeader(resp.ResponseHeader), ID: int64(resp.ID), TTL: resp.TTL})
}

// A watch response is the client library's struct as it is: capitalised
// field names, the header always present, and the events as the protobuf
// type marshals them (a PUT's type, zero, left out).

type jsonEvent struct {
	Type   int32   `json:"type,omitempty"`
	Kv     *jsonKV `json:"kv,omitempty"`
	PrevKv *jsonKV `json:"prev_kv,omitempty"`
}

type jsonWatch struct {
	Header          jsonHeader
	Events          []*jsonEvent
	CompactRevision int64
	Canceled        bool
	Created         bool
}

// watch lists no events as [] in a response from the server and as null in
// one the client library made up to report a broken stream (its header is
// empty), as the library etcdctl is built with hands them on.
func (p *jsonPrinter) watch(resp clientv3.WatchResponse) error {
	h := resp.Header
	out := &jsonWatch{
		Header:          jsonHeader{ClusterID: h.GetClusterId(), MemberID: h.GetMemberId(), Revision: h.GetRevision(), RaftTerm: h.GetRaftTerm()},
		CompactRevision: resp.CompactRevision,
		Canceled:        resp.Canceled,
		Created:         resp.Created,
	}
	if out.Header != (jsonHeader{}) {
		out.Events = make([]*jsonEvent, 0, len(resp.Events))
	}
	for _, ev := range resp.Events {
		out.Events = append(out.Events, &jsonEvent{Type: int32(ev.Type), Kv: toJSONKV(ev.Kv), PrevKv: toJSONKV(ev.PrevKv)})
	}
	return p.write(out)
}

type jsonAlarmMember struct {
	MemberID uint64 `json:"memberID,omitempty"`
	Alarm    int32  `json:"alarm,omitempty"`
}

type jsonAlarm struct {
	Header *jsonHeader        `json:"header,omitempty"`
	Alarms []*jsonAlarmMember `json:"alarms,omitempty"`
}

func (p *jsonPrinter) alarm(resp *clientv3.AlarmResponse) error {
	out := &jsonAlarm{Header: toJSONHeader(resp.Header)}
	for _, a := range resp.Alarms {
		out.Alarms = append(out.Alarms, &jsonAlarmMember{MemberID: a.MemberID, Alarm: int32(a.Alarm)})
	}
	return p.write(out)
}

type jsonAuthStatus struct {
	Header       *jsonHeader `json:"header,omitempty"`
	Enabled      bool        `json:"enabled,omitempty"`
	AuthRevision uint64      `json:"authRevision,omitempty"`
}

func (p *jsonPrinter) authStatus(resp *clientv3.AuthStatusResponse) error {
	return p.write(&jsonAuthStatus{Header: toJSONHeader(resp.Header), Enabled: resp.Enabled, AuthRevision: resp.AuthRevision})
}

func (p *jsonPrinter) changed(_ string, h *pb.ResponseHeader, _ proto.Message) error {
	return p.write(&jsonHeaderOnly{Header: toJSONHeader(h)})
}

type jsonUserGet struct {
	Header *jsonHeader `json:"header,omitempty"`
	Roles  []string    `json:"roles,omitempty"`
}

func (p *jsonPrinter) userGet(_ string, resp *clientv3.AuthUserGetResponse) error {
	return p.write(&jsonUserGet{Header: toJSONHeader(resp.Header), Roles: resp.Roles})
}

type jsonUserList struct {
	Header *jsonHeader `json:"header,omitempty"`
	Users  []string    `json:"users,omitempty"`
}

func (p *jsonPrinter) userList(resp *clientv3.AuthUserListResponse) error {
	return p.write(&jsonUserList{Header: toJSONHeader(resp.Header), Users: resp.Users})
}

type jsonPermission struct {
	PermType int32  `json:"permType,omitempty"`
	Key      []byte `json:"key,omitempty"`
	RangeEnd []byte `json:"range_end,omitempty"`
}

type jsonRoleGet struct {
	Header *jsonHeader       `json:"header,omitempty"`
	Perm   []*jsonPermission `json:"perm,omitempty"`
}

func (p *jsonPrinter) roleGet(_ string, resp *clientv3.AuthRoleGetResponse) error {
	out := &jsonRoleGet{Header: toJSONHeader(resp.Header)}
	for _, perm := range resp.Perm {
		out.Perm = append(out.Perm, &jsonPermission{PermType: int32(perm.PermType), Key: perm.Key, RangeEnd: perm.RangeEnd})
	}
	return p.write(out)
}

type jsonRoleList struct {
	Header *jsonHeader `json:"header,omitempty"`
	Roles  []string    `json:"roles,omitempty"`
}

func (p *jsonPrinter) roleList(resp *clientv3.AuthRoleListResponse) error {
	return p.write(&jsonRoleList{Header: toJSONHeader(resp.Header), Roles: resp.Roles})
}
