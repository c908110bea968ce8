package ctl

import (
	"encoding/json"
	"fmt"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
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
