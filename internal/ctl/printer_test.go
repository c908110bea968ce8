package ctl

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The expected outputs below were produced by etcdctl 3.6 for the same
// data (a member with a NOSPACE alarm, an unreachable endpoint, a member
// with two peer URLs). The golden tests cannot pin these: their sizes,
// durations and ports vary, so there the tables are compared re-drawn.

var nospaceStatus = statusResult{
	Endpoint: "127.0.0.1:23791",
	Resp: &clientv3.StatusResponse{
		Header:           &pb.ResponseHeader{ClusterId: 14841639068965178418, MemberId: 10276657743932975437, Revision: 5, RaftTerm: 2},
		Version:          "3.6.16",
		DbSize:           237568,
		Leader:           10276657743932975437,
		RaftIndex:        13,
		RaftTerm:         2,
		RaftAppliedIndex: 13,
		Errors:           []string{"memberID:10276657743932975437 alarm:NOSPACE "},
		DbSizeInUse:      139264,
		StorageVersion:   "3.6.0",
		DbSizeQuota:      200000,
		DowngradeInfo:    &pb.DowngradeInfo{},
	},
}

func TestPrintStatus(t *testing.T) {
	tests := []struct {
		format, want string
	}{
		{"simple", "127.0.0.1:23791, 8e9e05c52164694d, 3.6.16, 3.6.0, 238 kB, 139 kB, 42%, 200 kB, true, false, 2, 13, 13, memberID:10276657743932975437 alarm:NOSPACE , , false\n"},
		{"json", `[{"Endpoint":"127.0.0.1:23791","Status":{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":5,"raft_term":2},"version":"3.6.16","dbSize":237568,"leader":10276657743932975437,"raftIndex":13,"raftTerm":2,"raftAppliedIndex":13,"errors":["memberID:10276657743932975437 alarm:NOSPACE "],"dbSizeInUse":139264,"storageVersion":"3.6.0","dbSizeQuota":200000,"downgradeInfo":{}}}]` + "\n"},
		{"fields", `"ClusterID" : 14841639068965178418
"MemberID" : 10276657743932975437
"Revision" : 5
"RaftTerm" : 2
"Version" : "3.6.16"
"StorageVersion" : "3.6.0"
"DBSize" : 237568
"DBSizeInUse" : 139264
"DBSizeQuota" : 200000
"Leader" : 10276657743932975437
"IsLearner" : false
"RaftIndex" : 13
"RaftAppliedIndex" : 13
"Errors" : [memberID:10276657743932975437 alarm:NOSPACE ]
"Endpoint" : "127.0.0.1:23791"
"DowngradeTargetVersion" : ""
"DowngradeEnabled" : false

`},
		{"table", `+-----------------+------------------+---------+-----------------+---------+--------+-----------------------+--------+-----------+------------+-----------+------------+--------------------+--------------------------------+--------------------------+-------------------+
|    ENDPOINT     |        ID        | VERSION | STORAGE VERSION | DB SIZE | IN USE | PERCENTAGE NOT IN USE | QUOTA  | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX |             ERRORS             | DOWNGRADE TARGET VERSION | DOWNGRADE ENABLED |
+-----------------+------------------+---------+-----------------+---------+--------+-----------------------+--------+-----------+------------+-----------+------------+--------------------+--------------------------------+--------------------------+-------------------+
| 127.0.0.1:23791 | 8e9e05c52164694d |  3.6.16 |           3.6.0 |  238 kB | 139 kB |                   42% | 200 kB |      true |      false |         2 |         13 |                 13 |  memberID:10276657743932975437 |                          |             false |
|                 |                  |         |                 |         |        |                       |        |           |            |           |            |                    |                 alarm:NOSPACE  |                          |                   |
+-----------------+------------------+---------+-----------------+---------+--------+-----------------------+--------+-----------+------------+-----------+------------+--------------------+--------------------------------+--------------------------+-------------------+
`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var out bytes.Buffer
			p, err := newPrinter(&out, &out, tt.format, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.endpointStatus([]statusResult{nospaceStatus}); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tt.want)
			}
		})
	}
}

func TestPrintStatusNone(t *testing.T) {
	tests := []struct{ format, want string }{
		{"json", "null\n"},
		{"simple", ""},
		{"fields", ""},
		{"table", `+----------+----+---------+-----------------+---------+--------+-----------------------+-------+-----------+------------+-----------+------------+--------------------+--------+--------------------------+-------------------+
| ENDPOINT | ID | VERSION | STORAGE VERSION | DB SIZE | IN USE | PERCENTAGE NOT IN USE | QUOTA | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS | DOWNGRADE TARGET VERSION | DOWNGRADE ENABLED |
+----------+----+---------+-----------------+---------+--------+-----------------------+-------+-----------+------------+-----------+------------+--------------------+--------+--------------------------+-------------------+
+----------+----+---------+-----------------+---------+--------+-----------------------+-------+-----------+------------+-----------+------------+--------------------+--------+--------------------------+-------------------+
`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var out bytes.Buffer
			p, _ := newPrinter(&out, &out, tt.format, false)
			if err := p.endpointStatus(nil); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", out.String(), tt.want)
			}
		})
	}
}

func TestPrintHealth(t *testing.T) {
	results := []healthResult{
		{Endpoint: "127.0.0.1:23790", Health: true, Took: "8.662896ms"},
		{Endpoint: "127.0.0.1:1", Health: false, Took: "5.00140685s", Error: "context deadline exceeded"},
	}
	alarm := []healthResult{{Endpoint: "127.0.0.1:23791", Took: "11.494271ms", Error: "Active Alarm(s): NOSPACE "}}
	tests := []struct {
		name, format   string
		in             []healthResult
		stdout, stderr string
	}{
		{"simple", "simple", results,
			"127.0.0.1:23790 is healthy: successfully committed proposal: took = 8.662896ms\n",
			"127.0.0.1:1 is unhealthy: failed to commit proposal: context deadline exceeded\n"},
		{"json", "json", results,
			`[{"endpoint":"127.0.0.1:23790","health":true,"took":"8.662896ms"},{"endpoint":"127.0.0.1:1","health":false,"took":"5.00140685s","error":"context deadline exceeded"}]` + "\n", ""},
		{"table", "table", results, `+-----------------+--------+-------------+---------------------------+
|    ENDPOINT     | HEALTH |    TOOK     |           ERROR           |
+-----------------+--------+-------------+---------------------------+
| 127.0.0.1:23790 |   true |  8.662896ms |                           |
|     127.0.0.1:1 |  false | 5.00140685s | context deadline exceeded |
+-----------------+--------+-------------+---------------------------+
`, ""},
		{"alarm fields", "fields", alarm, `"Endpoint" : "127.0.0.1:23791"
"Health" : false
"Took" : 11.494271ms
"Error" : Active Alarm(s): NOSPACE 

`, ""},
		{"alarm table", "table", alarm, `+-----------------+--------+-------------+---------------------------+
|    ENDPOINT     | HEALTH |    TOOK     |           ERROR           |
+-----------------+--------+-------------+---------------------------+
| 127.0.0.1:23791 |  false | 11.494271ms | Active Alarm(s): NOSPACE  |
+-----------------+--------+-------------+---------------------------+
`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			p, _ := newPrinter(&stdout, &stderr, tt.format, false)
			if err := p.endpointHealth(tt.in); err != nil {
				t.Fatal(err)
			}
			if stdout.String() != tt.stdout || stderr.String() != tt.stderr {
				t.Errorf("got\n%s%s\nwant\n%s%s", stdout.String(), stderr.String(), tt.stdout, tt.stderr)
			}
		})
	}
}

func TestPrintMembers(t *testing.T) {
	resp := &clientv3.MemberListResponse{
		Header: &pb.ResponseHeader{ClusterId: 14841639068965178418, MemberId: 10276657743932975437, RaftTerm: 2},
		Members: []*pb.Member{{
			ID:         10276657743932975437,
			Name:       "default",
			PeerURLs:   []string{"http://localhost:2380", "http://127.0.0.1:2381"},
			ClientURLs: []string{"http://127.0.0.1:23791"},
		}},
	}
	tests := []struct{ format, want string }{
		{"simple", "8e9e05c52164694d, started, default, http://localhost:2380,http://127.0.0.1:2381, http://127.0.0.1:23791, false\n"},
		{"table", `+------------------+---------+---------+---------------------------------------------+------------------------+------------+
|        ID        | STATUS  |  NAME   |                 PEER ADDRS                  |      CLIENT ADDRS      | IS LEARNER |
+------------------+---------+---------+---------------------------------------------+------------------------+------------+
| 8e9e05c52164694d | started | default | http://localhost:2380,http://127.0.0.1:2381 | http://127.0.0.1:23791 |      false |
+------------------+---------+---------+---------------------------------------------+------------------------+------------+
`},
		{"fields", `"ClusterID" : 14841639068965178418
"MemberID" : 10276657743932975437
"RaftTerm" : 2
"ID" : 10276657743932975437
"Name" : "default"
"PeerURL" : "http://localhost:2380"
"PeerURL" : "http://127.0.0.1:2381"
"ClientURL" : "http://127.0.0.1:23791"
"IsLearner" : false

`},
		{"json", `{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"raft_term":2},"members":[{"ID":10276657743932975437,"name":"default","peerURLs":["http://localhost:2380","http://127.0.0.1:2381"],"clientURLs":["http://127.0.0.1:23791"]}]}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var out bytes.Buffer
			p, _ := newPrinter(&out, &out, tt.format, false)
			if err := p.memberList(resp); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tt.want)
			}
		})
	}
}

func TestPrinterRefusals(t *testing.T) {
	for _, tt := range []struct {
		format string
		call   func(printer) error
		want   string
	}{
		{"table", func(p printer) error { return p.get(&clientv3.GetResponse{}, false) }, "table not supported as output format"},
		{"table", func(p printer) error { return p.txn(&clientv3.TxnResponse{}) }, "table not supported as output format"},
		{"protobuf", func(p printer) error { return p.endpointHealth(nil) }, "protobuf not supported as output format"},
		{"protobuf", func(p printer) error { return p.endpointStatus(nil) }, "protobuf not supported as output format"},
		{"protobuf", func(p printer) error { return p.endpointHashKV(nil) }, "protobuf not supported as output format"},
		{"fields", func(p printer) error { return p.memberAdd(&clientv3.MemberAddResponse{}) }, "fields not supported as output format"},
		{"table", func(p printer) error { return p.watch(clientv3.WatchResponse{}) }, "table not supported as output format"},
		{"table", func(p printer) error { return p.leaseGrant(&clientv3.LeaseGrantResponse{}) }, "table not supported as output format"},
		{"fields", func(p printer) error { return p.moveLeader(1, 2, &clientv3.MoveLeaderResponse{}) }, "fields not supported as output format"},
	} {
		p, _ := newPrinter(&bytes.Buffer{}, &bytes.Buffer{}, tt.format, false)
		err := tt.call(p)
		if err == nil || err.Error() != tt.want || exitCode(err) != ExitBadFeature {
			t.Errorf("%s: got %v", tt.format, err)
		}
	}
	if _, err := newPrinter(nil, nil, "yaml", false); err == nil || err.Error() != "unsupported output format" || exitCode(err) != ExitBadFeature {
		t.Errorf("unknown format: got %v", err)
	}
}

func TestSIBytes(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0 B", 9: "9 B", 10: "10 B", 999: "999 B", 1000: "1.0 kB", 16384: "16 kB", 20480: "20 kB",
		24576: "25 kB", 36864: "37 kB", 45056: "45 kB", 139264: "139 kB", 200000: "200 kB",
		237568: "238 kB", 2147483648: "2.1 GB", 8589934592: "8.6 GB",
	} {
		if got := siBytes(n); got != want {
			t.Errorf("siBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestNotInUse(t *testing.T) {
	for _, tt := range []struct {
		size, inUse int64
		want        string
	}{
		{20480, 16384, "20%"}, {45056, 36864, "19%"}, {24576, 20480, "17%"}, {237568, 139264, "42%"}, {0, 0, "0%"},
	} {
		if got := notInUse(tt.size, tt.inUse); got != tt.want {
			t.Errorf("notInUse(%d, %d) = %s, want %s", tt.size, tt.inUse, got, tt.want)
		}
	}
}

func TestWrapWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{""}},
		{"short", []string{"short"}},
		{"memberID:10276657743932975437 alarm:NOSPACE ", []string{"memberID:10276657743932975437", "alarm:NOSPACE "}},
		// One word longer than the limit widens it instead of breaking.
		{"http://a.example:2380,http://b.example:2380", []string{"http://a.example:2380,http://b.example:2380"}},
		// The last line's slack is free: fill the first line.
		{"aaaa bbbb cccc dddd eeee ffff gggg hhhh", []string{"aaaa bbbb cccc dddd eeee ffff", "gggg hhhh"}},
		// Two middling lines (slack 16 and 14: 256+196) beat a tight line
		// followed by a one-letter one (1+841).
		{"aaaaaaaaaaaaaa bbbbbbbbbbbbbb c dddddddddddddddddddddddddddddd e", []string{"aaaaaaaaaaaaaa", "bbbbbbbbbbbbbb c", "dddddddddddddddddddddddddddddd", "e"}},
	}
	for _, tt := range tests {
		lines, _ := wrapCell(tt.in)
		if !slices.Equal(lines, tt.want) {
			t.Errorf("wrapCell(%q) = %q, want %q", tt.in, lines, tt.want)
		}
		if strings.Join(lines, " ") != strings.ReplaceAll(tt.in, "\n", " ") {
			t.Errorf("wrapCell(%q) lost text: %q", tt.in, lines)
		}
	}
}

// The expected outputs are etcdctl 3.6's for the same response from etcd.
func TestPrintHashKV(t *testing.T) {
	results := []hashKVResult{{Endpoint: "127.0.0.1:2379", Resp: &clientv3.HashKVResponse{
		Header:          &pb.ResponseHeader{ClusterId: 14841639068965178418, MemberId: 10276657743932975437, Revision: 1, RaftTerm: 2},
		Hash:            1084519789,
		CompactRevision: -1,
		HashRevision:    1,
	}}}
	tests := []struct {
		format string
		hex    bool
		want   string
	}{
		{"simple", false, "127.0.0.1:2379, 1084519789, 1\n"},
		{"json", false, `[{"Endpoint":"127.0.0.1:2379","HashKV":{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":1,"raft_term":2},"hash":1084519789,"compact_revision":-1,"hash_revision":1}}]` + "\n"},
		{"fields", true, `"ClusterID" : cdf818194e3a8c32
"MemberID" : 8e9e05c52164694d
"Revision" : 1
"RaftTerm" : 2
"Endpoint" : "127.0.0.1:2379"
"Hash" : 1084519789
"HashRevision" : 1

`},
		{"table", false, `+----------------+------------+---------------+
|    ENDPOINT    |    HASH    | HASH REVISION |
+----------------+------------+---------------+
| 127.0.0.1:2379 | 1084519789 |             1 |
+----------------+------------+---------------+
`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var out bytes.Buffer
			p, _ := newPrinter(&out, &out, tt.format, tt.hex)
			if err := p.endpointHashKV(results); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tt.want)
			}
		})
	}
}

func TestProtoTextHeader(t *testing.T) {
	for _, tt := range []struct {
		h    *pb.ResponseHeader
		want string
	}{
		{nil, "<nil>"},
		{&pb.ResponseHeader{}, ""},
		{&pb.ResponseHeader{ClusterId: 1, MemberId: 2, Revision: 3, RaftTerm: 4}, "cluster_id:1 member_id:2 revision:3 raft_term:4 "},
		{&pb.ResponseHeader{ClusterId: 1, RaftTerm: 4}, "cluster_id:1 raft_term:4 "},
	} {
		if got := protoTextHeader(tt.h); got != tt.want {
			t.Errorf("protoTextHeader(%v) = %q, want %q", tt.h, got, tt.want)
		}
	}
}

// A watch response the client library makes up for a broken stream has no
// header and lists its events as null; one from the server lists none as [].
func TestPrintWatchEventsJSON(t *testing.T) {
	for _, tt := range []struct {
		resp clientv3.WatchResponse
		want string
	}{
		{clientv3.WatchResponse{Header: &pb.ResponseHeader{}, Canceled: true},
			`{"Header":{},"Events":null,"CompactRevision":0,"Canceled":true,"Created":false}` + "\n"},
		{clientv3.WatchResponse{Header: &pb.ResponseHeader{ClusterId: 1, MemberId: 2, Revision: 3, RaftTerm: 4}},
			`{"Header":{"cluster_id":1,"member_id":2,"revision":3,"raft_term":4},"Events":[],"CompactRevision":0,"Canceled":false,"Created":false}` + "\n"},
	} {
		var out bytes.Buffer
		p, _ := newPrinter(&out, &out, "json", false)
		if err := p.watch(tt.resp); err != nil {
			t.Fatal(err)
		}
		if out.String() != tt.want {
			t.Errorf("got  %s\nwant %s", out.String(), tt.want)
		}
	}
}
