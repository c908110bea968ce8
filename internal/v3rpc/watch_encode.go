package v3rpc

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// A put watched by many watchers of one stream reaches each of them as its
// own WatchResponse holding the same Event. Encoding every response from
// scratch encodes that event again and again: under a fan-out to 1000
// watchers, protobuf encoding was a sixth of the member's CPU. The stream's
// eventEncoder encodes each event once and builds the responses around
// the cached bytes, exactly as protobuf would (fields in number order, zero
// values left out).

// WatchResponse and ResponseHeader field numbers (rpc.proto).
const (
	watchRespHeader  protowire.Number = 1
	watchRespWatchID protowire.Number = 2
	watchRespEvents  protowire.Number = 11

	headerClusterID protowire.Number = 1
	headerMemberID  protowire.Number = 2
	headerRevision  protowire.Number = 3
	headerRaftTerm  protowire.Number = 4

	// maxHeaderBytes holds a header's four fields: a one-byte tag and a
	// varint of at most 10 bytes each.
	maxHeaderBytes = 4 * (1 + 10)
)

var eventMarshal = proto.MarshalOptions{Deterministic: true}

// maxCachedEvents bounds an encoder's cache; it only needs the events of
// the revisions being sent.
const maxCachedEvents = 1024

// eventEncoder encodes one stream's responses; only its send loop uses it.
type eventEncoder struct {
	// events maps an event to its encoding. The key keeps the event alive,
	// so its address cannot be reused for another event while cached.
	events map[*mvccpb.Event][]byte
}

// message returns what to send for resp: an encodedMessage for event
// responses, resp itself for anything else.
func (e *eventEncoder) message(resp *pb.WatchResponse) (any, error) {
	if !plainEvents(resp) {
		return resp, nil
	}
	if e.events == nil || len(e.events) > maxCachedEvents {
		e.events = make(map[*mvccpb.Event][]byte, len(resp.Events))
	}
	size := 0
	for _, ev := range resp.Events {
		b, ok := e.events[ev]
		if !ok {
			var err error
			if b, err = eventMarshal.Marshal(ev); err != nil {
				return nil, err
			}
			e.events[ev] = b
		}
		size += 1 + protowire.SizeBytes(len(b))
	}
	var hdrBuf [maxHeaderBytes]byte
	hdr := appendHeaderFields(hdrBuf[:0], resp.Header)
	size += 1 + protowire.SizeBytes(len(hdr)) + 1 + protowire.SizeVarint(uint64(resp.WatchId))

	// A buffer of the exact size: gRPC's pooled buffers come in tiers and
	// are cleared whole on every Get, which cost more than the allocation.
	b := protowire.AppendTag(make([]byte, 0, size), watchRespHeader, protowire.BytesType)
	b = protowire.AppendBytes(b, hdr)
	if resp.WatchId != 0 {
		b = protowire.AppendTag(b, watchRespWatchID, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(resp.WatchId))
	}
	for _, ev := range resp.Events {
		b = protowire.AppendTag(b, watchRespEvents, protowire.BytesType)
		b = protowire.AppendBytes(b, e.events[ev])
	}
	return &encodedMessage{buf: mem.SliceBuffer(b)}, nil
}

// plainEvents reports whether resp is an event response with nothing but a
// header, a watch ID and events: the only kind the encoder builds.
func plainEvents(resp *pb.WatchResponse) bool {
	return len(resp.Events) > 0 && resp.Header != nil && !resp.Created && !resp.Canceled &&
		resp.CompactRevision == 0 && resp.CancelReason == "" && !resp.Fragment &&
		len(resp.ProtoReflect().GetUnknown()) == 0 && len(resp.Header.ProtoReflect().GetUnknown()) == 0
}

// appendHeaderFields appends the fields of h, without the header's own tag
// and length.
func appendHeaderFields(b []byte, h *pb.ResponseHeader) []byte {
	for _, f := range []struct {
		num protowire.Number
		v   uint64
	}{{headerClusterID, h.ClusterId}, {headerMemberID, h.MemberId}, {headerRevision, uint64(h.Revision)}, {headerRaftTerm, h.RaftTerm}} {
		if f.v != 0 {
			b = protowire.AppendTag(b, f.num, protowire.VarintType)
			b = protowire.AppendVarint(b, f.v)
		}
	}
	return b
}
