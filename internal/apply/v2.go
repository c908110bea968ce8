package apply

import (
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/cairn-kv/cairn/internal/auth"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/v2store"
)

// v2Field is the InternalRaftRequest field that carries a v2 request.
// etcd's message reserves number 2 (its old v2 Request), so the generated
// type has no field for it and keeps ours as an unknown field: the request
// travels with its usual ID and Header and the proposer waits on it like
// on any other. The payload is the JSON of a v2store.Request.
const v2Field protowire.Number = 2

// WithV2 attaches the v2 request req to r.
func WithV2(r *pb.InternalRaftRequest, req *v2store.Request) (*pb.InternalRaftRequest, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	raw := protowire.AppendTag(nil, v2Field, protowire.BytesType)
	raw = protowire.AppendBytes(raw, data)
	m := r.ProtoReflect()
	m.SetUnknown(append(m.GetUnknown(), raw...))
	return r, nil
}

// V2Request returns the v2 request r carries, if any.
func V2Request(r *pb.InternalRaftRequest) (*v2store.Request, bool, error) {
	b := r.ProtoReflect().GetUnknown()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false, protowire.ParseError(n)
		}
		b = b[n:]
		if num == v2Field && typ == protowire.BytesType {
			data, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, false, protowire.ParseError(n)
			}
			req := &v2store.Request{}
			if err := json.Unmarshal(data, req); err != nil {
				return nil, false, fmt.Errorf("apply: undecodable v2 request: %w", err)
			}
			return req, true, nil
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, false, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil, false, nil
}

// applyV2 applies a request carrying a v2 request; ok is false for any
// other request. The v2 store's event is the result's V2Event.
func (a *Applier) applyV2(b *pebble.Batch, r *pb.InternalRaftRequest) (Result, bool) {
	req, ok, err := V2Request(r)
	if err != nil {
		return Result{Err: err}, true
	}
	if !ok {
		return Result{}, false
	}
	if a.v2 == nil {
		return Result{Err: ErrUnsupported}, true
	}
	if err := a.v2Permitted(r, req); err != nil {
		return Result{Err: err}, true
	}
	ev, err := a.v2.Apply(b, req)
	return Result{Err: err, V2Event: ev}, true
}

// v2Permitted checks, again at apply, that the requester may write the v2
// path: v2 keys map to v3 permissions on the same key bytes, and a
// recursive delete needs the whole prefix.
func (a *Applier) v2Permitted(r *pb.InternalRaftRequest, req *v2store.Request) error {
	if !a.auth.IsEnabled() || r.Header == nil || r.Header.Username == "" || req.Method == v2store.MethodSync {
		return nil
	}
	info := &auth.AuthInfo{Username: r.Header.Username, Revision: r.Header.AuthRevision}
	key := V2PermKey(req.Path)
	if req.Method == "DELETE" && (req.Recursive || req.Dir) {
		return a.auth.IsDeleteRangePermitted(info, key, PrefixEnd(key))
	}
	return a.auth.IsPutPermitted(info, key)
}

// V2PermKey is the v3 key whose permissions govern a v2 path under the
// keys namespace ("/1/foo" is checked as "/foo").
func V2PermKey(p string) []byte {
	if len(p) >= len(v2store.KeysPrefix) && p[:len(v2store.KeysPrefix)] == v2store.KeysPrefix {
		p = p[len(v2store.KeysPrefix):]
	}
	if p == "" {
		p = "/"
	}
	return []byte(p)
}

// PrefixEnd is the end of the range of keys starting with key.
func PrefixEnd(key []byte) []byte {
	end := append([]byte(nil), key...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0}
}

// recordV2Membership advances the v2 index for a membership change, as
// etcd 3.5 recorded its members in the v2 store: one write for a member
// added, promoted or updated, two for a member removed.
func (a *Applier) recordV2Membership(b *pebble.Batch, cc *raftpb.ConfChange, promoted bool) {
	if a.v2 == nil {
		return
	}
	member := "/0/members/" + membership.IDString(cc.GetNodeId())
	switch cc.GetType() {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		if promoted {
			a.v2.Record(b, v2store.ActionUpdate, member+"/raftAttributes")
		} else {
			a.v2.Record(b, v2store.ActionCreate, member+"/raftAttributes")
		}
	case raftpb.ConfChangeRemoveNode:
		a.v2.Record(b, v2store.ActionDelete, member)
		a.v2.Record(b, v2store.ActionCreate, "/0/removed_members/"+membership.IDString(cc.GetNodeId()))
	case raftpb.ConfChangeUpdateNode:
		a.v2.Record(b, v2store.ActionUpdate, member+"/raftAttributes")
	}
}

// recordV2Cluster advances the v2 index for a published member or a new
// cluster version (etcd wrote both into the v2 store).
func (a *Applier) recordV2Cluster(b *pebble.Batch, r *pb.InternalRaftRequest) {
	if a.v2 == nil {
		return
	}
	switch {
	case r.ClusterMemberAttrSet != nil:
		a.v2.Record(b, v2store.ActionSet, "/0/members/"+membership.IDString(r.ClusterMemberAttrSet.GetMember_ID())+"/attributes")
	case r.ClusterVersionSet != nil:
		a.v2.Record(b, v2store.ActionSet, "/0/version")
	}
}
