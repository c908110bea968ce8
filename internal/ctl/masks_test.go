package ctl

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// Masks rewrite values that a case cannot fix in advance and that differ
// between any two runs: the IDs the server assigns to leases and members,
// the seconds a lease has left. Each case lists the ones it needs; they are
// applied to both outputs after normalize, so ours and the reference's are
// compared with the same values blanked, and golden files store them
// blanked. A mask only ever replaces a value by a fixed word or reorders
// what the server orders by such a value; everything around it still has to
// match byte for byte.

// mask rewrites one output stream; vars are the case's (see goldenCase).
type mask func(s string, vars map[string]string) string

// maskRE replaces every match of expr with repl (regexp.ReplaceAllString).
func maskRE(expr, repl string) mask {
	re := regexp.MustCompile(expr)
	return func(s string, _ map[string]string) string { return re.ReplaceAllString(s, repl) }
}

// maskVar replaces the value of the case's variable name with "{name}".
func maskVar(name string) mask {
	return func(s string, vars map[string]string) string {
		if v := vars[name]; v != "" {
			s = strings.ReplaceAll(s, v, "{"+name+"}")
		}
		return s
	}
}

// Server-assigned lease IDs are 16 hex digits in keys (lock and election
// keys end in their session's lease) and in the simple format, and decimal
// in json and fields.
var (
	maskLeaseHex   = maskRE(`\b[0-9a-f]{16}\b`, "LEASE")
	maskLeaseField = maskRE(`"(ID|Lease)" : [0-9a-f]+`, `"$1" : LEASE`)
	maskLeaseJSON  = maskRE(`"(ID|id|lease)":\d+`, `"$1":LEASE`)
	maskRemaining  = maskRE(`remaining\(\d+s\)|"ttl":\d+|"TTL" : \d+`, "REMAINING")
)

// maskKeysJSON applies m inside every base64 "key" of a json result.
func maskKeysJSON(m mask) mask {
	re := regexp.MustCompile(`"key":"([A-Za-z0-9+/=]*)"`)
	return func(s string, vars map[string]string) string {
		return re.ReplaceAllStringFunc(s, func(match string) string {
			b, err := base64.StdEncoding.DecodeString(re.FindStringSubmatch(match)[1])
			if err != nil {
				return match
			}
			return `"key":"` + base64.StdEncoding.EncodeToString([]byte(m(string(b), vars))) + `"`
		})
	}
}

// sortLines sorts the lines of a stream.
func sortLines(s string, _ map[string]string) string {
	lines := strings.SplitAfter(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "")
}

// sortInitialCluster sorts the entries of the ETCD_INITIAL_CLUSTER line
// that `member add` prints: they come in member ID order, and the new
// member's ID is random.
func sortInitialCluster(s string, _ map[string]string) string {
	re := regexp.MustCompile(`ETCD_INITIAL_CLUSTER="([^"]*)"`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		entries := strings.Split(re.FindStringSubmatch(m)[1], ",")
		slices.Sort(entries)
		return `ETCD_INITIAL_CLUSTER="` + strings.Join(entries, ",") + `"`
	})
}

// defaultMemberID is the ID of a fresh single member with the default name
// and peer URL; the golden servers all have it.
const defaultMemberID = 10276657743932975437

// maskMembersJSON blanks, in the json result of a member change, the IDs
// of members other than the default one and orders the member list by peer
// URL. The result is re-encoded with sorted object keys, so this mask suits
// only cases whose field order other cases pin.
func maskMembersJSON(s string, _ map[string]string) string {
	if !strings.HasPrefix(s, "{") {
		return s
	}
	var v map[string]any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return s
	}
	blank := func(m any) {
		if mm, ok := m.(map[string]any); ok {
			if id, ok := mm["ID"].(json.Number); ok && id.String() != "10276657743932975437" {
				mm["ID"] = "MEMBER"
			}
		}
	}
	blank(v["member"])
	if ms, ok := v["members"].([]any); ok {
		for _, m := range ms {
			blank(m)
		}
		slices.SortFunc(ms, func(a, b any) int { return strings.Compare(firstPeerURL(a), firstPeerURL(b)) })
	}
	b, err := json.Marshal(v)
	if err != nil {
		return s
	}
	return string(b) + "\n"
}

func firstPeerURL(m any) string {
	mm, _ := m.(map[string]any)
	urls, _ := mm["peerURLs"].([]any)
	if len(urls) == 0 {
		return ""
	}
	u, _ := urls[0].(string)
	return u
}

// maskMembersProtobuf is maskMembersJSON for the protobuf result of a
// member add: other members' IDs become zero, the list is ordered by peer
// URL, and the message is encoded again.
func maskMembersProtobuf(s string, _ map[string]string) string {
	var m pb.MemberAddResponse
	if err := proto.Unmarshal([]byte(s), &m); err != nil || m.Member == nil {
		return s
	}
	blank := func(mm *pb.Member) {
		if mm.ID != defaultMemberID {
			mm.ID = 0
		}
	}
	blank(m.Member)
	for _, mm := range m.Members {
		blank(mm)
	}
	slices.SortFunc(m.Members, func(a, b *pb.Member) int {
		return strings.Compare(strings.Join(a.PeerURLs, ","), strings.Join(b.PeerURLs, ","))
	})
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&m)
	if err != nil {
		return s
	}
	return string(b)
}

// sortLeaseKeys sorts the keys that `lease timetolive --keys` lists: the
// server keeps a lease's keys in no particular order. It handles the
// simple format's "attached keys([a b])", the json "keys" array and the
// fields format's "Key" lines.
func sortLeaseKeys(s string, _ map[string]string) string {
	simple := regexp.MustCompile(`attached keys\(\[(.*)\]\)`)
	s = simple.ReplaceAllStringFunc(s, func(m string) string {
		keys := strings.Split(simple.FindStringSubmatch(m)[1], " ")
		slices.Sort(keys)
		return "attached keys([" + strings.Join(keys, " ") + "])"
	})
	jsonKeys := regexp.MustCompile(`"keys":\[([^\]]*)\]`)
	s = jsonKeys.ReplaceAllStringFunc(s, func(m string) string {
		keys := strings.Split(jsonKeys.FindStringSubmatch(m)[1], ",")
		slices.Sort(keys)
		return `"keys":[` + strings.Join(keys, ",") + "]"
	})
	fields := regexp.MustCompile(`("Key" : .*\n)+`)
	return fields.ReplaceAllStringFunc(s, func(m string) string { return sortLines(m, nil) })
}
