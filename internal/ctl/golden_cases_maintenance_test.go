package ctl

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// raiseAlarm activates an alarm on the server's member, as the server itself
// does when its backend runs out of space.
func raiseAlarm(alarm pb.AlarmType) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		st, err := cl.Status(ctx, cl.Endpoints()[0])
		if err != nil {
			return err
		}
		_, err = pb.NewMaintenanceClient(cl.ActiveConnection()).Alarm(ctx, &pb.AlarmRequest{
			Action:   pb.AlarmRequest_ACTIVATE,
			MemberID: st.Header.MemberId,
			Alarm:    alarm,
		})
		return err
	}
}

var withAlarm = append(append([]step{}, base...), raiseAlarm(pb.AlarmType_NOSPACE))

// Differences kept on purpose.
const (
	// Disarming answers with a response the client library builds itself,
	// without a header, and etcdctl's fields printer dereferences the
	// missing header and panics.
	diffDisarmFieldsPanic = "etcdctl panics printing the header-less response of alarm disarm with -w fields; Cairn prints the alarms without a header"
	// etcdctl 3.6 dropped defrag's --data-dir (now `etcdutl defrag`); Cairn
	// keeps etcdctl 3.5's deprecated flag for older scripts.
	diffDefragDataDir = "Cairn keeps etcdctl 3.5's deprecated defrag --data-dir, which etcdctl 3.6 no longer knows"
)

// maskTook hides the duration defrag reports.
var maskTook = maskRE(`took [0-9.]+[µa-z]+`, "took DURATION")

func maintenanceCases() []goldenCase {
	var cs []goldenCase
	add := func(c ...goldenCase) { cs = append(cs, c...) }

	// alarm
	add(inFormats(goldenCase{name: "alarm_list", history: base, args: args("alarm list")})...)
	add(inFormats(goldenCase{name: "alarm_list_nospace", history: withAlarm, args: args("alarm list")})...)
	add(inFormats(goldenCase{name: "alarm_disarm", history: withAlarm, args: args("alarm disarm")}, "simple", "json", "protobuf", "table")...)
	add(inFormats(goldenCase{name: "alarm_disarm_none", history: base, args: args("alarm disarm")}, "simple", "json", "protobuf", "table")...)
	add(
		goldenCase{name: "alarm_disarm_fields", history: withAlarm, args: args("alarm disarm -w fields"), knownDiff: diffDisarmFieldsPanic},
		goldenCase{name: "alarm_disarm_none_fields", history: base, args: args("alarm disarm -w fields"), knownDiff: diffDisarmFieldsPanic},
		goldenCase{name: "alarm_list_corrupt", history: append(append([]step{}, base...), raiseAlarm(pb.AlarmType_CORRUPT)), args: args("alarm list")},
		goldenCase{name: "alarm_put_nospace", history: withAlarm, args: args("put x y")},
		goldenCase{name: "alarm_health_nospace", history: withAlarm, args: args("endpoint health")},
		goldenCase{name: "alarm_list_extra_args", noServer: true, args: args("alarm list x")},
		goldenCase{name: "alarm_disarm_extra_args", noServer: true, args: args("alarm disarm x")},
		goldenCase{name: "alarm_list_dead", noServer: true, args: args("alarm list --command-timeout=1s")},
		goldenCase{name: "alarm_help", noServer: true, args: args("alarm --help")},
		goldenCase{name: "alarm_list_help", noServer: true, args: args("alarm list --help")},
	)

	// defrag
	add(inFormats(goldenCase{name: "defrag", history: base, args: args("defrag"), masks: []mask{maskTook}}, "simple", "json", "table")...)
	add(
		goldenCase{name: "defrag_cluster", history: base, args: args("defrag --cluster"), masks: []mask{maskTook}},
		goldenCase{name: "defrag_extra_args", history: base, args: args("defrag x"), masks: []mask{maskTook}},
		goldenCase{name: "defrag_dead", noServer: true, args: args("defrag --command-timeout=1s"), masks: []mask{maskTook}},
		goldenCase{name: "defrag_mixed", raw: true, history: base, args: args("--endpoints=127.0.0.1:1,{ep} --command-timeout=1s defrag"), masks: []mask{maskTook}},
		goldenCase{name: "defrag_cluster_dead", noServer: true, args: args("defrag --cluster --command-timeout=1s")},
		goldenCase{name: "defrag_data_dir", noServer: true, args: args("defrag --data-dir=/nonexistent"), knownDiff: diffDefragDataDir},
		goldenCase{name: "defrag_help", noServer: true, args: args("defrag --help")},
	)

	// snapshot
	tmp := []mask{maskVar("tmp")}
	add(inFormats(goldenCase{name: "snapshot_save", history: base, settled: true, args: args("snapshot save {tmp}/s.db"), masks: tmp}, "simple", "json")...)
	add(
		goldenCase{name: "snapshot_save_no_args", noServer: true, args: args("snapshot save")},
		goldenCase{name: "snapshot_save_two_args", noServer: true, args: args("snapshot save a b")},
		goldenCase{name: "snapshot_save_bad_dir", history: base, args: args("snapshot save /nonexistent/dir/s.db")},
		goldenCase{name: "snapshot_save_dead", noServer: true, args: args("snapshot save {tmp}/s.db --command-timeout=1s"), masks: tmp},
		goldenCase{name: "snapshot_save_two_endpoints", raw: true, noServer: true, args: args("--endpoints=127.0.0.1:1,127.0.0.1:2 snapshot save {tmp}/s.db"), masks: tmp},
		goldenCase{name: "snapshot_help", noServer: true, args: args("snapshot --help")},
		goldenCase{name: "snapshot_save_help", noServer: true, args: args("snapshot save --help")},
	)

	// check
	add(
		goldenCase{name: "check_perf_prefix_has_keys", history: []step{put("/etcdctl-check-perf/x", "1")}, args: args("check perf")},
		goldenCase{name: "check_perf_own_prefix_has_keys", history: base, args: args("check perf --prefix=foo")},
		goldenCase{name: "check_datascale_prefix_has_keys", history: []step{put("/etcdctl-check-datascale/x", "1")}, args: args("check datascale")},
		goldenCase{name: "check_perf_bad_load", history: base, args: args("check perf --load=q")},
		goldenCase{name: "check_datascale_bad_load", history: base, args: args("check datascale --load=q")},
		goldenCase{name: "check_perf_bad_load_dead", noServer: true, args: args("check perf --load=q")},
		goldenCase{name: "check_help", noServer: true, args: args("check --help")},
		goldenCase{name: "check_perf_help", noServer: true, args: args("check perf --help")},
		goldenCase{name: "check_datascale_help", noServer: true, args: args("check datascale --help")},
	)

	// make-mirror
	add(
		goldenCase{name: "make_mirror_no_args", noServer: true, args: args("make-mirror")},
		goldenCase{name: "make_mirror_two_args", noServer: true, args: args("make-mirror a b")},
		goldenCase{name: "make_mirror_prefix_conflict", noServer: true, args: args("make-mirror a --dest-prefix=x --no-dest-prefix")},
		goldenCase{name: "make_mirror_dest_cert_missing", noServer: true, args: args("make-mirror a --dest-cert=/nonexistent/c --dest-key=/nonexistent/k")},
		goldenCase{name: "make_mirror_dest_cacert_missing", noServer: true, args: args("make-mirror a --dest-cacert=/nonexistent/ca")},
		goldenCase{name: "make_mirror_help", noServer: true, args: args("make-mirror --help")},
	)
	return cs
}
