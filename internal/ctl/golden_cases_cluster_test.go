package ctl

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// addLearner adds a learner that never starts and names its ID, in hex as
// "{learner}" and in decimal as "{learner_dec}".
func addLearner(peerURL string) func(context.Context, *clientv3.Client) (map[string]string, error) {
	return func(ctx context.Context, cl *clientv3.Client) (map[string]string, error) {
		resp, err := cl.MemberAddAsLearner(ctx, []string{peerURL})
		if err != nil {
			return nil, err
		}
		return map[string]string{
			"learner":     fmt.Sprintf("%x", resp.Member.ID),
			"learner_dec": fmt.Sprint(resp.Member.ID),
		}, nil
	}
}

// A golden server is a single member: membership changes that need a
// second member to run (promotion, removal of a voting member, moving the
// leadership away) are tested on clusters in cluster_test.go.

func clusterCases() []goldenCase {
	var cs []goldenCase
	add := func(c ...goldenCase) { cs = append(cs, c...) }
	learner := addLearner("http://127.0.0.1:30001")
	// "member remove" prints the ID with %16x: a random ID below 2^60 gets
	// a leading space.
	learnerMasks := []mask{maskVar("learner_dec"), maskVar("learner"), maskRE(`Member +\{learner\}`, "Member {learner}")}
	// The ID of a member added by the command itself is random, and so is
	// its place in ID-ordered member lists.
	addMasks := []mask{maskRE(`Member +[0-9a-f]+ added`, "Member MEMBER added"), sortInitialCluster, maskMembersJSON, maskMembersProtobuf}

	// member add
	add(inFormats(goldenCase{name: "member_add_learner", args: args("member add newbie --peer-urls=http://127.0.0.1:30001 --learner"), masks: addMasks})...)
	add(
		goldenCase{name: "member_add_learner_two_urls", args: args("member add newbie --peer-urls=http://127.0.0.1:30001,http://127.0.0.2:30001 --learner"), masks: addMasks},
		goldenCase{name: "member_add_learner_hex", args: args("member add newbie --peer-urls=http://127.0.0.1:30001 --learner --hex -w json"), masks: addMasks},
		goldenCase{name: "member_add_second_learner", vars: learner, args: args("member add other --peer-urls=http://127.0.0.1:30002 --learner")},
		goldenCase{name: "member_add_taken_url", vars: learner, args: args("member add other --peer-urls=http://127.0.0.1:30002,http://127.0.0.1:30001")},
		goldenCase{name: "member_add_voting", args: args("member add newbie --peer-urls=http://127.0.0.1:30001"), masks: addMasks},
		goldenCase{name: "member_add_no_name", noServer: true, args: args("member add")},
		goldenCase{name: "member_add_no_peer_urls", noServer: true, args: args("member add newbie")},
		goldenCase{name: "member_add_empty_peer_urls", noServer: true, args: args("member add newbie --peer-urls=")},
		goldenCase{name: "member_add_two_names", noServer: true, args: args("member add a b")},
		goldenCase{name: "member_add_bad_url", args: args("member add newbie --peer-urls=127.0.0.1:30001")},
		goldenCase{name: "member_add_dead", noServer: true, args: args("member add newbie --peer-urls=http://127.0.0.1:30001 --command-timeout=1s")},
		goldenCase{name: "member_add_bad_format", args: args("member add newbie --peer-urls=http://127.0.0.1:30001 -w bogus")},
		goldenCase{name: "member_add_help", noServer: true, args: args("member add --help")},
	)
	// member list with a learner that never started
	add(
		goldenCase{name: "member_list_learner_simple", vars: learner, args: args("member list"), masks: append(append([]mask{}, learnerMasks...), sortLines)},
		goldenCase{name: "member_list_learner_json", vars: learner, args: args("member list -w json"), masks: append([]mask{maskMembersJSON}, learnerMasks...)},
	)

	// member remove
	add(inFormats(goldenCase{name: "member_remove_learner", vars: learner, args: args("member remove {learner}"), masks: learnerMasks})...)
	add(
		goldenCase{name: "member_remove_missing", args: args("member remove 1234")},
		goldenCase{name: "member_remove_no_args", noServer: true, args: args("member remove")},
		goldenCase{name: "member_remove_two_args", noServer: true, args: args("member remove 1 2")},
		goldenCase{name: "member_remove_bad_id", noServer: true, args: args("member remove 0x12")},
		goldenCase{name: "member_remove_help", noServer: true, args: args("member remove --help")},
	)

	// member update
	add(inFormats(goldenCase{name: "member_update", args: args("member update 8e9e05c52164694d --peer-urls=http://localhost:2380,http://127.0.0.1:2390")})...)
	add(
		goldenCase{name: "member_update_hex", args: args("member update 8e9e05c52164694d --peer-urls=http://localhost:2380 --hex -w json")},
		goldenCase{name: "member_update_missing", args: args("member update 1234 --peer-urls=http://127.0.0.1:2390")},
		goldenCase{name: "member_update_no_peer_urls", noServer: true, args: args("member update 1234")},
		goldenCase{name: "member_update_bad_id_no_urls", noServer: true, args: args("member update xyz")},
		goldenCase{name: "member_update_bad_url", args: args("member update 8e9e05c52164694d --peer-urls=bogus")},
		goldenCase{name: "member_update_no_args", noServer: true, args: args("member update --peer-urls=http://127.0.0.1:2390")},
		goldenCase{name: "member_update_help", noServer: true, args: args("member update --help")},
	)

	// member promote
	add(
		goldenCase{name: "member_promote_voting", args: args("member promote 8e9e05c52164694d")},
		goldenCase{name: "member_promote_unstarted_learner", vars: learner, args: args("member promote {learner}")},
		goldenCase{name: "member_promote_missing", args: args("member promote 1234")},
		goldenCase{name: "member_promote_no_args", noServer: true, args: args("member promote")},
		goldenCase{name: "member_promote_bad_id", noServer: true, args: args("member promote g")},
		goldenCase{name: "member_promote_help", noServer: true, args: args("member promote --help")},
	)

	// endpoint hashkv: the hashes are etcd's for the same history.
	add(inFormats(goldenCase{name: "endpoint_hashkv", history: base, args: args("endpoint hashkv")})...)
	add(inFormats(goldenCase{name: "endpoint_hashkv_hex", history: base, args: args("endpoint hashkv --hex")}, "simple", "json", "fields")...)
	compacted := append(append([]step{}, base...), compact(6))
	add(
		goldenCase{name: "endpoint_hashkv_rev", history: base, args: args("endpoint hashkv --rev 5")},
		goldenCase{name: "endpoint_hashkv_rev_json", history: base, args: args("endpoint hashkv --rev 5 -w json")},
		goldenCase{name: "endpoint_hashkv_empty", args: args("endpoint hashkv -w json")},
		goldenCase{name: "endpoint_hashkv_compacted", history: compacted, args: args("endpoint hashkv -w json")},
		goldenCase{name: "endpoint_hashkv_compacted_rev", history: compacted, args: args("endpoint hashkv --rev 3")},
		goldenCase{name: "endpoint_hashkv_future", history: base, args: args("endpoint hashkv --rev 100")},
		goldenCase{name: "endpoint_hashkv_cluster", history: base, args: args("endpoint hashkv --cluster -w table")},
		goldenCase{name: "endpoint_hashkv_dead", noServer: true, args: args("endpoint hashkv --command-timeout=1s")},
		goldenCase{name: "endpoint_hashkv_dead_json", noServer: true, args: args("endpoint hashkv --command-timeout=1s -w json")},
		goldenCase{name: "endpoint_hashkv_dead_table", noServer: true, args: args("endpoint hashkv --command-timeout=1s -w table")},
		goldenCase{name: "endpoint_hashkv_dead_protobuf", noServer: true, args: args("endpoint hashkv --command-timeout=1s -w protobuf")},
		goldenCase{name: "endpoint_hashkv_mixed", raw: true, history: base, args: args("--endpoints=127.0.0.1:1,{ep} --command-timeout=1s endpoint hashkv")},
		goldenCase{name: "endpoint_hashkv_bad_rev", noServer: true, args: args("endpoint hashkv --rev=x")},
		goldenCase{name: "endpoint_hashkv_help", noServer: true, args: args("endpoint hashkv --help")},
	)

	// move-leader: a single member can only hand leadership to itself.
	add(inFormats(goldenCase{name: "move_leader_self", args: args("move-leader 8e9e05c52164694d")})...)
	add(
		goldenCase{name: "move_leader_missing", args: args("move-leader 1234")},
		goldenCase{name: "move_leader_learner", vars: learner, args: args("move-leader {learner}"), masks: learnerMasks},
		goldenCase{name: "move_leader_no_args", noServer: true, args: args("move-leader")},
		goldenCase{name: "move_leader_bad_id", noServer: true, args: args("move-leader 0x1")},
		goldenCase{name: "move_leader_dead", noServer: true, args: args("move-leader 1234 --command-timeout=1s")},
		goldenCase{name: "move_leader_dead_first", raw: true, args: args("--endpoints=127.0.0.1:1,{ep} --command-timeout=1s move-leader 8e9e05c52164694d")},
		goldenCase{name: "move_leader_bad_format", args: args("move-leader 1 -w bogus")},
		goldenCase{name: "move_leader_help", noServer: true, args: args("move-leader --help")},
	)
	return cs
}
