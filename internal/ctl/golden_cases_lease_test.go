package ctl

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// grantTTL grants a lease with a fixed ID and TTL.
func grantTTL(id, ttl int64) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := pb.NewLeaseClient(cl.ActiveConnection()).LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: id, TTL: ttl})
		return err
	}
}

func revokeLease(id int64) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		_, err := cl.Revoke(ctx, clientv3.LeaseID(id))
		return err
	}
}

// smallLease has a short hex form, to show how each format pads lease IDs.
const smallLease = 0x1234

// withLeases holds two leases: testLease with keys lk (from withLease) and
// a binary key, and smallLease without keys, which expires first.
var withLeases = append(append([]step{}, withLease...),
	putLease("lk\x00\xff", "b", testLease), // 13
	grantTTL(smallLease, 1800),
)

// withLeasesLaterFirst has the lease with the larger ID expire first: the
// leader lists leases by expiry, the soonest first.
var withLeasesLaterFirst = append(append([]step{}, withLease...), grantTTL(smallLease, 7200))

func leaseCases() []goldenCase {
	var cs []goldenCase
	add := func(c ...goldenCase) { cs = append(cs, c...) }
	remaining := []mask{maskRemaining}

	// grant: the server picks the ID.
	granted := []mask{maskLeaseHex, maskLeaseJSON, maskLeaseField}
	add(inFormats(goldenCase{name: "lease_grant", history: base, args: args("lease grant 100"), masks: granted})...)
	add(inFormats(goldenCase{name: "lease_grant_hex", history: base, args: args("lease grant 100 --hex"), masks: granted}, "json", "fields")...)
	add(
		goldenCase{name: "lease_grant_too_large", history: base, args: args("lease grant 9999999999")},
		goldenCase{name: "lease_grant_no_args", noServer: true, args: args("lease grant")},
		goldenCase{name: "lease_grant_two_args", noServer: true, args: args("lease grant 1 2")},
		goldenCase{name: "lease_grant_bad_ttl", noServer: true, args: args("lease grant 1s")},
		goldenCase{name: "lease_grant_dead", noServer: true, args: args("lease grant 10 --command-timeout=1s")},
		goldenCase{name: "lease_grant_bad_format", history: base, args: args("lease grant 10 -w bogus")},
		goldenCase{name: "lease_grant_help", noServer: true, args: args("lease grant --help")},
	)

	// revoke
	add(inFormats(goldenCase{name: "lease_revoke", history: withLeases, args: args("lease revoke 694d77aa9e38260f")})...)
	add(inFormats(goldenCase{name: "lease_revoke_hex", history: withLeases, args: args("lease revoke 1234 --hex")}, "simple", "fields")...)
	add(
		goldenCase{name: "lease_revoke_missing", history: base, args: args("lease revoke 1234")},
		goldenCase{name: "lease_revoke_no_args", noServer: true, args: args("lease revoke")},
		goldenCase{name: "lease_revoke_bad_id", noServer: true, args: args("lease revoke xyz")},
		goldenCase{name: "lease_revoke_negative", history: base, args: args("lease revoke -- -1")},
		goldenCase{name: "lease_revoke_help", noServer: true, args: args("lease revoke --help")},
	)

	// timetolive: the remaining seconds tick.
	add(inFormats(goldenCase{name: "lease_timetolive", history: withLeases, args: args("lease timetolive 694d77aa9e38260f"), masks: remaining})...)
	add(inFormats(goldenCase{name: "lease_timetolive_keys", history: withLeases, args: args("lease timetolive 694d77aa9e38260f --keys"), masks: []mask{maskRemaining, sortLeaseKeys}}, hexFormats...)...)
	add(inFormats(goldenCase{name: "lease_timetolive_small_hex", history: withLeases, args: args("lease timetolive 1234 --keys --hex"), masks: remaining}, "simple", "json", "fields")...)
	add(inFormats(goldenCase{name: "lease_timetolive_missing", history: base, args: args("lease timetolive 1234 --keys")}, hexFormats...)...)
	add(
		goldenCase{name: "lease_timetolive_no_args", noServer: true, args: args("lease timetolive")},
		goldenCase{name: "lease_timetolive_bad_id", noServer: true, args: args("lease timetolive 0x12")},
		goldenCase{name: "lease_timetolive_negative", history: base, args: args("lease timetolive -- -1")},
		goldenCase{name: "lease_timetolive_help", noServer: true, args: args("lease timetolive --help")},
	)

	// list
	add(inFormats(goldenCase{name: "lease_list", history: withLeases, args: args("lease list")})...)
	add(inFormats(goldenCase{name: "lease_list_hex", history: withLeases, args: args("lease list --hex")}, "simple", "json", "fields")...)
	add(inFormats(goldenCase{name: "lease_list_none", history: base, args: args("lease list")}, "simple", "json", "fields", "protobuf")...)
	add(
		goldenCase{name: "lease_list_extra_args", history: withLeases, args: args("lease list extra")},
		goldenCase{name: "lease_list_expiry_order", history: withLeasesLaterFirst, args: args("lease list")},
		goldenCase{name: "lease_list_help", noServer: true, args: args("lease list --help")},
	)

	// keep-alive --once
	add(inFormats(goldenCase{name: "lease_keep_alive_once", history: withLeases, args: args("lease keep-alive --once 694d77aa9e38260f")})...)
	add(inFormats(goldenCase{name: "lease_keep_alive_once_hex", history: withLeases, args: args("lease keep-alive --once 1234 --hex")}, "simple", "json", "fields")...)
	add(
		goldenCase{name: "lease_keep_alive_once_missing", history: base, args: args("lease keep-alive --once 1234")},
		goldenCase{name: "lease_keep_alive_no_args", noServer: true, args: args("lease keep-alive")},
		goldenCase{name: "lease_keep_alive_two_args", noServer: true, args: args("lease keep-alive 1 2")},
		goldenCase{name: "lease_keep_alive_bad_id", noServer: true, args: args("lease keep-alive g")},
		goldenCase{name: "lease_keep_alive_help", noServer: true, args: args("lease keep-alive --help")},
		goldenCase{name: "lease_help", noServer: true, args: args("lease --help")},
	)

	// keep-alive: renews until interrupted, or until the lease is gone.
	add(scriptedFormats(goldenCase{name: "lease_keep_alive", history: withLeases, args: args("lease keep-alive 694d77aa9e38260f")},
		func(f string) []action {
			first := map[string]string{"simple": "TTL(3600)\n", "json": `"TTL":3600}` + "\n", "fields": `"TTL" : 3600` + "\n", "protobuf": "\x20\x02"}[f]
			return []action{waitOut(first), interruptCmd()}
		}, "simple", "json", "fields", "protobuf")...)
	add(
		goldenCase{name: "lease_keep_alive_table", history: withLeases, args: args("lease keep-alive 694d77aa9e38260f -w table")},
		goldenCase{name: "lease_keep_alive_missing", history: base, args: args("lease keep-alive 1234")},
		goldenCase{name: "lease_keep_alive_missing_json", history: base, args: args("lease keep-alive 1234 -w json")},
		goldenCase{name: "lease_keep_alive_revoked", history: append(append([]step{}, base...), grantTTL(smallLease, 3)), args: args("lease keep-alive 1234"),
			// Renewals come every TTL/3 seconds; how many are printed
			// before the revocation is noticed depends on timing.
			masks: []mask{maskRE(`(lease 0000000000001234 keepalived with TTL\(3\)\n)+`, "$1")},
			script: func() []action {
				return []action{waitOut("TTL(3)\n"), write(revokeLease(smallLease)), waitOut("revoked.\n")}
			}},
	)
	return cs
}
