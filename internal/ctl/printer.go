package ctl

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/spf13/cobra"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// printer writes command results in one --write-out format. A format that
// cannot show a result returns an ExitBadFeature error; etcdctl reports it
// after the request was made, so callers print only after the request.
type printer interface {
	get(resp *clientv3.GetResponse, valueOnly bool) error
	put(resp *clientv3.PutResponse) error
	del(resp *clientv3.DeleteResponse) error
	txn(resp *clientv3.TxnResponse) error
	memberList(resp *clientv3.MemberListResponse) error
	memberAdd(resp *clientv3.MemberAddResponse) error
	memberRemove(id uint64, resp *clientv3.MemberRemoveResponse) error
	memberUpdate(id uint64, resp *clientv3.MemberUpdateResponse) error
	memberPromote(id uint64, resp *clientv3.MemberPromoteResponse) error
	endpointHealth(results []healthResult) error
	endpointStatus(results []statusResult) error
	endpointHashKV(results []hashKVResult) error
	moveLeader(from, to uint64, resp *clientv3.MoveLeaderResponse) error
	leaseGrant(resp *clientv3.LeaseGrantResponse) error
	leaseRevoke(id clientv3.LeaseID, resp *clientv3.LeaseRevokeResponse) error
	leaseTimeToLive(resp *clientv3.LeaseTimeToLiveResponse, keys bool) error
	leaseList(resp *clientv3.LeaseLeasesResponse) error
	leaseKeepAlive(resp *clientv3.LeaseKeepAliveResponse) error
	watch(resp clientv3.WatchResponse) error
	alarm(resp *clientv3.AlarmResponse) error
	authStatus(resp *clientv3.AuthStatusResponse) error
	// changed reports a user or role change, whose response holds nothing
	// but a header: the simple format prints msg, the others the
	// response m.
	changed(msg string, h *pb.ResponseHeader, m proto.Message) error
	userGet(name string, resp *clientv3.AuthUserGetResponse) error
	userList(resp *clientv3.AuthUserListResponse) error
	roleGet(name string, resp *clientv3.AuthRoleGetResponse) error
	roleList(resp *clientv3.AuthRoleListResponse) error
}

// healthResult is one endpoint's answer to `endpoint health`.
type healthResult struct {
	Endpoint string `json:"endpoint"`
	Health   bool   `json:"health"`
	Took     string `json:"took"`
	Error    string `json:"error,omitempty"`
}

// statusResult is one endpoint's answer to `endpoint status`.
type statusResult struct {
	Endpoint string
	Resp     *clientv3.StatusResponse
}

// hashKVResult is one endpoint's answer to `endpoint hashkv`.
type hashKVResult struct {
	Endpoint string
	Resp     *clientv3.HashKVResponse
}

// newPrinter returns the printer for a --write-out value. Unknown formats
// are a bad feature (exit 4), checked before any request is made.
func newPrinter(stdout, stderr io.Writer, format string, hex bool) (printer, error) {
	switch format {
	case "simple":
		return &simplePrinter{w: stdout, errw: stderr, hex: hex}, nil
	case "json":
		return &jsonPrinter{w: stdout, hex: hex}, nil
	case "fields":
		return &fieldsPrinter{w: stdout, hex: hex}, nil
	case "protobuf":
		return &protobufPrinter{w: stdout}, nil
	case "table":
		return &tablePrinter{simplePrinter{w: stdout, errw: stderr, hex: hex}}, nil
	}
	return nil, exitErr(ExitBadFeature, errors.New("unsupported output format"))
}

// printer builds the printer for this invocation's --write-out and --hex,
// writing to the command's streams.
func (c *cli) printer(cmd *cobra.Command) (printer, error) {
	return newPrinter(cmd.OutOrStdout(), cmd.ErrOrStderr(), c.g.writeOut, c.g.hex)
}

// notSupported is the error a format returns for a result it cannot show.
func notSupported(format string) error {
	return exitErrf(ExitBadFeature, "%s not supported as output format", format)
}

// hexBytes writes every byte as \xNN, which is what --hex does to keys and
// values in the simple format.
func hexBytes(b []byte) string {
	var sb strings.Builder
	sb.Grow(4 * len(b))
	for _, c := range b {
		fmt.Fprintf(&sb, "\\x%02x", c)
	}
	return sb.String()
}

// memberStatus is "started" for a member that has joined (it has a name)
// and "unstarted" for one that was added but never ran.
func memberStatus(m *pb.Member) string {
	if m.Name == "" {
		return "unstarted"
	}
	return "started"
}

// memberRow is a member as the simple and table formats show it.
func memberRow(m *pb.Member) []string {
	return []string{
		fmt.Sprintf("%x", m.ID),
		memberStatus(m),
		m.Name,
		strings.Join(m.PeerURLs, ","),
		strings.Join(m.ClientURLs, ","),
		fmt.Sprint(m.IsLearner),
	}
}

// statusHeader names the columns of statusRow.
var statusHeader = []string{
	"endpoint", "ID", "version", "storage version", "db size", "in use", "percentage not in use", "quota",
	"is leader", "is learner", "raft term", "raft index", "raft applied index", "errors",
	"downgrade target version", "downgrade enabled",
}

// statusRow is an endpoint's status as the simple and table formats show
// it; sizes are in SI units ("20 kB").
func statusRow(r statusResult) []string {
	s := r.Resp
	var dgTarget string
	var dgEnabled bool
	if s.DowngradeInfo != nil {
		dgTarget, dgEnabled = s.DowngradeInfo.TargetVersion, s.DowngradeInfo.Enabled
	}
	return []string{
		r.Endpoint,
		fmt.Sprintf("%x", s.Header.GetMemberId()),
		s.Version,
		s.StorageVersion,
		siBytes(uint64(s.DbSize)),
		siBytes(uint64(s.DbSizeInUse)),
		notInUse(s.DbSize, s.DbSizeInUse),
		siBytes(uint64(s.DbSizeQuota)),
		fmt.Sprint(s.Leader == s.Header.GetMemberId()),
		fmt.Sprint(s.IsLearner),
		fmt.Sprint(s.RaftTerm),
		fmt.Sprint(s.RaftIndex),
		fmt.Sprint(s.RaftAppliedIndex),
		strings.Join(s.Errors, ", "),
		dgTarget,
		fmt.Sprint(dgEnabled),
	}
}

// notInUse is the share of the backend file that holds no live data, in
// whole percent rounded the way etcdctl rounds it (100 minus the truncated
// share in use).
func notInUse(size, inUse int64) string {
	if size <= 0 {
		return "0%"
	}
	return fmt.Sprintf("%d%%", 100-inUse*100/size)
}

// siBytes formats a byte count with SI units: "20 kB", "2.1 GB"; one
// decimal below ten units, none above, plain bytes below ten.
func siBytes(n uint64) string {
	if n < 10 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	e := math.Floor(math.Log(float64(n)) / math.Log(1000))
	val := math.Floor(float64(n)/math.Pow(1000, e)*10+0.5) / 10
	if val < 10 {
		return fmt.Sprintf("%.1f %s", val, units[int(e)])
	}
	return fmt.Sprintf("%.0f %s", val, units[int(e)])
}
