package snapshot

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Bucket names, as etcd names them. The writer creates all of them, as a new
// etcd backend has them all.
var (
	bucketKey            = []byte("key")
	bucketMeta           = []byte("meta")
	bucketLease          = []byte("lease")
	bucketAlarm          = []byte("alarm")
	bucketCluster        = []byte("cluster")
	bucketMembers        = []byte("members")
	bucketMembersRemoved = []byte("members_removed")
	bucketAuth           = []byte("auth")
	bucketAuthUsers      = []byte("authUsers")
	bucketAuthRoles      = []byte("authRoles")

	allBuckets = [][]byte{
		bucketKey, bucketMeta, bucketLease, bucketAlarm, bucketCluster,
		bucketMembers, bucketMembersRemoved, bucketAuth, bucketAuthUsers, bucketAuthRoles,
	}
)

// Keys of the meta, cluster and auth buckets.
var (
	metaConsistentIndex  = []byte("consistent_index")
	metaTerm             = []byte("term")
	metaScheduledCompact = []byte("scheduledCompactRev")
	metaFinishedCompact  = []byte("finishedCompactRev")
	metaConfState        = []byte("confState")
	metaStorageVersion   = []byte("storageVersion")

	clusterVersionKey = []byte("clusterVersion")

	authEnabledKey  = []byte("authEnabled")
	authRevisionKey = []byte("authRevision")
)

// removedValue is the value of every members_removed entry.
var removedValue = []byte("removed")

const (
	// revKeyLen is the length of a revision key: main, '_', sub.
	revKeyLen = 8 + 1 + 8
	// tombstoneMark ends the key of a deletion.
	tombstoneMark = 't'
)

// appendRevKey appends the key bucket's key for revision {main, sub}.
func appendRevKey(dst []byte, main, sub int64, tombstone bool) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(main))
	dst = append(dst, '_')
	dst = binary.BigEndian.AppendUint64(dst, uint64(sub))
	if tombstone {
		dst = append(dst, tombstoneMark)
	}
	return dst
}

// errBadRevKey is wrapped by parseRevKey's errors.
var errBadRevKey = errors.New("malformed revision key")

// parseRevKey decodes a key bucket key.
func parseRevKey(k []byte) (main, sub int64, tombstone bool, err error) {
	switch {
	case len(k) == revKeyLen:
	case len(k) == revKeyLen+1 && k[revKeyLen] == tombstoneMark:
		tombstone = true
	default:
		return 0, 0, false, fmt.Errorf("%w %x", errBadRevKey, k)
	}
	if k[8] != '_' {
		return 0, 0, false, fmt.Errorf("%w %x", errBadRevKey, k)
	}
	main = int64(binary.BigEndian.Uint64(k))
	sub = int64(binary.BigEndian.Uint64(k[9:]))
	return main, sub, tombstone, nil
}

// parseCompactRev decodes a compaction mark of the meta bucket: a revision
// key, of which only the main revision counts.
func parseCompactRev(v []byte) (int64, error) {
	if len(v) < 8 {
		return 0, fmt.Errorf("%w %x", errBadRevKey, v)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// parseUint64 decodes an 8-byte big-endian meta value.
func parseUint64(name string, v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("%s: want 8 bytes, got %d", name, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func uint64Bytes(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// Field numbers of leasepb.Lease, which lives in etcd's server module.
const (
	leaseFieldID           = 1
	leaseFieldTTL          = 2
	leaseFieldRemainingTTL = 3
)

// marshalLease encodes l as etcd's leasepb.Lease: proto3, zero fields left out.
func marshalLease(l Lease) []byte {
	var b []byte
	for _, f := range []struct {
		num protowire.Number
		v   int64
	}{{leaseFieldID, l.ID}, {leaseFieldTTL, l.TTL}, {leaseFieldRemainingTTL, l.RemainingTTL}} {
		if f.v != 0 {
			b = protowire.AppendTag(b, f.num, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(f.v))
		}
	}
	return b
}

// unmarshalLease decodes a leasepb.Lease, skipping fields it does not know.
func unmarshalLease(b []byte) (Lease, error) {
	var l Lease
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Lease{}, protowire.ParseError(n)
		}
		b = b[n:]
		if typ == protowire.VarintType && num >= leaseFieldID && num <= leaseFieldRemainingTTL {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return Lease{}, protowire.ParseError(n)
			}
			b = b[n:]
			switch num {
			case leaseFieldID:
				l.ID = int64(v)
			case leaseFieldTTL:
				l.TTL = int64(v)
			case leaseFieldRemainingTTL:
				l.RemainingTTL = int64(v)
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return Lease{}, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return l, nil
}

// memberJSON is a members bucket value. Field order and omissions are
// etcd's: a member added but not started has no name or client URLs.
type memberJSON struct {
	ID         uint64   `json:"id"`
	PeerURLs   []string `json:"peerURLs"`
	Name       string   `json:"name,omitempty"`
	ClientURLs []string `json:"clientURLs,omitempty"`
	IsLearner  bool     `json:"isLearner,omitempty"`
}

// memberKey is a member's key in the members buckets: its ID in lower-case
// hex without padding.
func memberKey(id uint64) []byte { return strconv.AppendUint(nil, id, 16) }

func parseMemberKey(k []byte) (uint64, error) {
	id, err := strconv.ParseUint(string(k), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed member key %q", k)
	}
	return id, nil
}

func marshalMember(m Member) ([]byte, error) {
	return json.Marshal(memberJSON{
		ID: m.ID, PeerURLs: m.PeerURLs, Name: m.Name, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner,
	})
}

func unmarshalMember(v []byte) (Member, error) {
	var j memberJSON
	if err := json.Unmarshal(v, &j); err != nil {
		return Member{}, err
	}
	return Member{ID: j.ID, Name: j.Name, PeerURLs: j.PeerURLs, ClientURLs: j.ClientURLs, IsLearner: j.IsLearner}, nil
}
