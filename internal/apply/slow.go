package apply

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/mvcc"
)

// SlowLog writes etcd's "apply request took too long" warning for requests
// that took longer than Threshold (--warning-apply-duration): applied
// entries, and the reads a member serves without raft (with the prefix
// "read-only range " or "read-only txn "). The fields are etcd's; put
// values appear only as their sizes, and neither passwords, their hashes
// nor tokens appear at all.
type SlowLog struct {
	Logger    *slog.Logger
	Threshold time.Duration
	// OnSlow, when set, counts each warning written
	// (etcd_server_slow_apply_total).
	OnSlow func()
}

// Applied logs an applied request that started at start, if it was slow.
func (l SlowLog) Applied(start time.Time, r *pb.InternalRaftRequest, res Result) {
	took := time.Since(start)
	if !l.slow(took) {
		return
	}
	resp := ""
	if res.Resp != nil {
		resp = fmt.Sprintf("size:%d", proto.Size(res.Resp))
	}
	l.warn(took, "", loggedRequest{r}, resp, res.Err)
}

// loggedRequest prints an applied request as etcd's InternalRaftStringer
// does (values as sizes, user additions and password changes by name only),
// and hides the simple token an authentication registers, which that
// stringer prints: whoever reads the log could use it.
type loggedRequest struct{ r *pb.InternalRaftRequest }

func (l loggedRequest) String() string {
	if a := l.r.Authenticate; a != nil {
		return fmt.Sprintf("header:<%s> authenticate:<name:%s simple_token:<redacted>>", l.r.Header.String(), a.Name)
	}
	return (&pb.InternalRaftStringer{Request: l.r}).String()
}

// ReadOnlyRange logs a range served locally that started at start, if it
// was slow.
func (l SlowLog) ReadOnlyRange(start time.Time, r *pb.RangeRequest, resp *pb.RangeResponse, err error) {
	took := time.Since(start)
	if !l.slow(took) {
		return
	}
	out := ""
	if resp != nil {
		out = fmt.Sprintf("range_response_count:%d size:%d", mvcc.WireKVCount(resp), proto.Size(resp))
	}
	l.warn(took, "read-only range ", r, out, err)
}

// ReadOnlyTxn logs a read-only transaction served locally that started at
// start, if it was slow.
func (l SlowLog) ReadOnlyTxn(start time.Time, r *pb.TxnRequest, resp *pb.TxnResponse, err error) {
	took := time.Since(start)
	if !l.slow(took) {
		return
	}
	out := ""
	if resp != nil {
		var counts []string
		for _, op := range resp.GetResponses() {
			if rr, ok := op.GetResponse().(*pb.ResponseOp_ResponseRange); ok {
				counts = append(counts, fmt.Sprintf("range_response_count:%d", len(rr.ResponseRange.GetKvs())))
			}
		}
		out = fmt.Sprintf("responses:<%s> size:%d", strings.Join(counts, " "), proto.Size(resp))
	}
	l.warn(took, "read-only txn ", pb.NewLoggableTxnRequest(r), out, err)
}

func (l SlowLog) slow(took time.Duration) bool {
	return l.Logger != nil && l.Threshold > 0 && took > l.Threshold
}

func (l SlowLog) warn(took time.Duration, prefix string, req fmt.Stringer, resp string, err error) {
	attrs := []any{
		"took", took,
		"expected-duration", l.Threshold,
		"prefix", prefix,
		"request", req.String(),
		"response", resp,
	}
	if err != nil {
		attrs = append(attrs, "error", err)
	}
	l.Logger.Warn("apply request took too long", attrs...)
	if l.OnSlow != nil {
		l.OnSlow()
	}
}
