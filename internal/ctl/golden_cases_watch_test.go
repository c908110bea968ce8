package ctl

import (
	"context"
	"encoding/base64"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// seen is what a format prints for a value: json has it in base64, the
// others write it as it is.
func seen(format, value string) string {
	if format == "json" {
		return base64.StdEncoding.EncodeToString([]byte(value))
	}
	return value
}

// scriptedFormats repeats a scripted case once per format; script gets the
// format so that it can wait for what that format prints.
func scriptedFormats(c goldenCase, script func(format string) []action, fs ...string) []goldenCase {
	var out []goldenCase
	for _, f := range fs {
		cc := c
		cc.name = c.name + "_" + f
		cc.args = append(append([]string{}, c.args...), "-w", f)
		cc.script = func() []action { return script(f) }
		out = append(out, cc)
	}
	return out
}

// deleted is what a format prints for a delete event.
var deleted = map[string]string{"simple": "DELETE\n", "json": `"type":1`, "fields": `"Type" : DELETE`, "protobuf": "\x08\x01\x12"}

// The base history ends at revision 11, so a watch from revision 12 sees
// exactly the writes its script makes, however soon it is registered.
// Watches from an earlier revision print the history first, in one
// response.

func watchCases() []goldenCase {
	var cs []goldenCase
	add := func(c ...goldenCase) { cs = append(cs, c...) }
	fmts := []string{"simple", "json", "fields", "protobuf"}

	// History, then live events, each waited for before the next write.
	add(scriptedFormats(goldenCase{name: "watch_prefix_rev", history: base, args: args("watch foo --prefix --rev 2")},
		func(f string) []action {
			return []action{
				waitOut(seen(f, "bar2")),
				write(put("foo3", "live")),
				waitOut(seen(f, "live")),
				write(del("foo1")),
				waitOut(deleted[f]),
				write(put("foo", "end")),
				waitOut(seen(f, "end")),
				interruptCmd(),
			}
		}, fmts...)...)
	add(scriptedFormats(goldenCase{name: "watch_prev_kv", history: base, args: args("watch foo --prev-kv --rev 12")},
		func(f string) []action {
			return []action{
				write(put("foo", "new")),
				waitOut(seen(f, "new")),
				write(del("foo")),
				waitOut(deleted[f]),
				write(put("foo", "end")),
				waitOut(seen(f, "end")),
				interruptCmd(),
			}
		}, fmts...)...)
	add(scriptedFormats(goldenCase{name: "watch_hex", history: base, args: args("watch k --prefix --prev-kv --hex --rev 8")},
		func(f string) []action {
			replayed := map[string]string{"simple": `\x76\xff\x09\x22`, "json": seen(f, "v\xff\t\""), "fields": `"Value" : "v\xff\t\""`}[f]
			end := map[string]string{"simple": `\x65\x6e\x64`, "json": seen(f, "end"), "fields": `"end"`}[f]
			return []action{
				waitOut(replayed),
				write(put("k\x01\n", "end")),
				waitOut(end),
				interruptCmd(),
			}
		}, "simple", "json", "fields")...)
	add(
		goldenCase{name: "watch_range", history: base, args: args("watch b foo1 --rev 2"), script: func() []action {
			return []action{waitOut("bar2"), write(put("c", "in")), waitOut("in"), interruptCmd()}
		}},
		goldenCase{name: "watch_range_extra_args", history: base, args: args("watch foo zzz extra --rev 12"), script: func() []action {
			// A third argument turns the range off: only foo is watched.
			return []action{writes(put("foo1", "no"), put("foo", "yes")), waitOut("yes"), interruptCmd()}
		}},
		goldenCase{name: "watch_from_empty_prefix", history: base, args: []string{"watch", "", "--prefix", "--rev", "9"}, script: func() []action {
			return []action{waitOut("3\n"), interruptCmd()}
		}},
		goldenCase{name: "watch_progress_notify_flag", history: base, args: args("watch foo --progress-notify --rev 12"), script: func() []action {
			return []action{write(put("foo", "x")), waitOut("x\n"), interruptCmd()}
		}},
		goldenCase{name: "watch_txn", history: base, args: args("watch t --prefix --rev 12 -w json"), script: func() []action {
			// All events of one transaction come in one response.
			return []action{write(txnPuts("t1", "a", "t2", "b")), waitOut(seen("json", "b")), interruptCmd()}
		}},
		goldenCase{name: "watch_binary", history: base, args: args("watch k --prefix --rev 8"), script: func() []action {
			return []action{waitOut("\"\n"), interruptCmd()}
		}},
	)

	// Exec mode: the command runs after each response is printed, once per
	// event, with the event in its environment.
	const show = `echo "rev=$ETCD_WATCH_REVISION type=$ETCD_WATCH_EVENT_TYPE key=$ETCD_WATCH_KEY value=$ETCD_WATCH_VALUE"; env | grep ^ETCD_WATCH_ | sort`
	add(
		goldenCase{name: "watch_exec", history: base, args: []string{"watch", "foo", "--rev", "4", "--", "/bin/sh", "-c", show}, env: []string{"PATH=/usr/bin:/bin"}, script: func() []action {
			return []action{
				waitOut(`value="bar2"`),
				write(del("foo")),
				waitOut(`type="DELETE"`),
				waitOut("ETCD_WATCH_VALUE=\"\"\n"),
				interruptCmd(),
			}
		}},
		goldenCase{name: "watch_exec_flags_after_key", history: base, args: []string{"watch", "foo", "--rev", "4", "--prev-kv", "--", "/bin/echo", "event"}, script: func() []action {
			return []action{waitOut("event\nevent\n"), interruptCmd()}
		}},
		goldenCase{name: "watch_exec_range", history: base, args: []string{"watch", "a", "foo", "--rev", "2", "--", "/bin/echo", "hi"}, script: func() []action {
			return []action{waitOut("hi\nhi\nhi\nhi\n"), interruptCmd()}
		}},
		goldenCase{name: "watch_exec_name_repeated", history: base, args: []string{"watch", "a", "--rev", "12", "--", "echo", "echo"}, env: []string{"PATH=/usr/bin:/bin"}, script: func() []action {
			// The key and range end are the arguments before the last one
			// equal to the command's name: this watches [a, echo).
			return []action{write(put("b", "x")), waitOut("x\necho\n"), interruptCmd()}
		}},
		goldenCase{name: "watch_exec_fails", history: base, args: []string{"watch", "foo", "--rev", "4", "--", "/bin/sh", "-c", "echo ran; exit 3"}},
		goldenCase{name: "watch_exec_not_found", history: base, args: []string{"watch", "foo", "--rev", "4", "--", "/nonexistent/cmd", "a"}},
		goldenCase{name: "watch_exec_env_key", history: base, args: []string{"watch", "--rev", "4", "--", "/bin/sh", "-c", show}, env: []string{"PATH=/usr/bin:/bin", "ETCDCTL_WATCH_KEY=foo"}, script: func() []action {
			return []action{waitOut(`value="bar2"`), waitOut("ETCD_WATCH_VALUE=\"bar2\"\n"), interruptCmd()}
		}},
	)

	// The key from the environment.
	add(
		goldenCase{name: "watch_env_key", history: base, args: args("watch --rev 2"), env: []string{"ETCDCTL_WATCH_KEY=foo"}, script: func() []action {
			return []action{waitOut("bar2\n"), interruptCmd()}
		}},
		goldenCase{name: "watch_env_range", history: base, args: args("watch --rev 2"), env: []string{"ETCDCTL_WATCH_KEY=a", "ETCDCTL_WATCH_RANGE_END=foo"}, script: func() []action {
			return []action{waitOut("b\n3\n"), interruptCmd()}
		}},
		goldenCase{name: "watch_env_key_prefix", history: base, args: args("watch --prefix --rev 2"), env: []string{"ETCDCTL_WATCH_KEY=foo"}, script: func() []action {
			return []action{waitOut("bar2\n"), interruptCmd()}
		}},
		goldenCase{name: "watch_env_conflict", noServer: true, args: args("watch foo"), env: []string{"ETCDCTL_WATCH_KEY=foo"}},
		goldenCase{name: "watch_env_conflict_exec", noServer: true, args: args("watch foo -- echo"), env: []string{"ETCDCTL_WATCH_KEY=foo"}},
		goldenCase{name: "watch_env_range_only", noServer: true, args: args("watch foo"), env: []string{"ETCDCTL_WATCH_RANGE_END=z"}},
	)

	// A compacted start revision cancels the watch; the server ends it.
	compacted := append(append([]step{}, base...), compact(6))
	add(inFormats(goldenCase{name: "watch_compacted", history: compacted, args: args("watch foo --rev 2")})...)
	add(
		goldenCase{name: "watch_negative_rev", history: compacted, args: args("watch foo --rev -1")},
		goldenCase{name: "watch_table", history: base, args: args("watch foo --rev 2 -w table")},
		goldenCase{name: "watch_bad_format", history: base, args: args("watch foo -w bogus")},
	)

	// Arguments.
	add(
		goldenCase{name: "watch_no_args", noServer: true, args: args("watch")},
		goldenCase{name: "watch_only_flags", args: args("watch --prefix")},
		goldenCase{name: "watch_only_global_flags_before", noServer: true, raw: true, args: args("--endpoints={ep} -w json watch")},
		goldenCase{name: "watch_prefix_and_range", args: args("watch a b --prefix")},
		goldenCase{name: "watch_dash_last", noServer: true, args: args("watch foo --")},
		goldenCase{name: "watch_dash_only", noServer: true, args: args("watch --")},
		goldenCase{name: "watch_dash_no_key", args: args("watch -- echo hi")},
		goldenCase{name: "watch_bad_rev", noServer: true, args: args("watch foo --rev=x")},
		goldenCase{name: "watch_unknown_flag", noServer: true, args: args("watch --bogus foo")},
		goldenCase{name: "watch_help", noServer: true, args: args("watch --help")},
	)

	// Interactive: requests from stdin, a line each.
	add(
		goldenCase{name: "watch_interactive", history: base, args: args("watch -i"), script: func() []action {
			return []action{
				send("watch foo --rev 4\n"),
				waitOut("bar2\n"),
				send("progress\n"),
				waitOut("progress notify: 11\n"),
				send("bogus x\n"),
				waitErr("(only support watch)\n"),
				send("\n"),
				waitErr("(watch and progress supported)\n"),
				send("watch\n"),
				waitErr("(command type or key is not provided)\n"),
				send("watch a b --prefix\n"),
				waitErr("mutually exclusive)\n"),
				send("watch 'zo' --prefix --prev-kv --rev 9 -- /bin/echo \"z e\"\n"),
				waitOut("z e\n"),
				write(put("zoo", "zz")),
				waitOut("zz\nz e\n"),
				closeStdin(),
			}
		}},
		goldenCase{name: "watch_interactive_json", history: base, args: args("watch -i -w json"), script: func() []action {
			return []action{
				send("watch foo --rev 7\n"),
				waitOut(seen("json", "bar2")),
				send("progress\n"),
				waitOut("progress notify: 11\n"),
				waitOut("\n"),
				closeStdin(),
			}
		}},
		goldenCase{name: "watch_interactive_two", history: base, args: args("watch -i"), script: func() []action {
			// A progress request reaches every watch of the session.
			return []action{
				send("watch foo\n"),
				send("watch zoo\n"),
				send("progress\n"),
				waitOut("progress notify: 11\nprogress notify: 11\n"),
				write(put("zoo", "z1")),
				waitOut("z1\n"),
				interruptCmd(),
			}
		}},
		goldenCase{name: "watch_interactive_progress_future_rev", history: base, args: args("watch -i"), script: func() []action {
			// No progress while a watch waits for a revision yet to come:
			// the request is dropped, not answered after the write.
			// The bad line after it is answered only once the progress
			// request went out, so the write cannot overtake it.
			return []action{send("watch foo --rev 12\n"), send("progress\n"), send("bogus\n"), waitErr("(only support watch)\n"),
				write(put("foo", "x")), waitOut("x\n"), interruptCmd()}
		}},
		goldenCase{name: "watch_interactive_options_reset", history: base, args: args("watch -i --prev-kv --rev 2"), script: func() []action {
			// The command line's options do not apply to the lines.
			return []action{send("watch foo\n"), send("progress\n"), waitOut("progress notify: 11\n"), write(put("foo", "x")), waitOut("x\n"), interruptCmd()}
		}},
		goldenCase{name: "watch_interactive_env_key", history: base, args: args("watch -i"), env: []string{"ETCDCTL_WATCH_KEY=foo"}, script: func() []action {
			return []action{send("watch --rev 7\n"), waitOut("bar2\n"), closeStdin()}
		}},
		goldenCase{name: "watch_interactive_env_conflict", history: base, args: args("watch -i"), env: []string{"ETCDCTL_WATCH_KEY=foo"}, stdin: "watch foo\n"},
		goldenCase{name: "watch_interactive_bad_flag", history: base, args: args("watch -i"), stdin: "watch foo --bogus\n"},
		goldenCase{name: "watch_interactive_global_flag", history: base, args: args("watch -i"), stdin: "watch foo -w json\n"},
		goldenCase{name: "watch_interactive_help_flag", history: base, args: args("watch -i"), stdin: "watch foo --help\n"},
		goldenCase{name: "watch_interactive_bad_rev", history: base, args: args("watch -i"), stdin: "watch foo --rev=x\n"},
		goldenCase{name: "watch_interactive_no_key", history: base, args: args("watch -i"), stdin: "watch --prefix\n"},
		goldenCase{name: "watch_interactive_dash_last", history: base, args: args("watch -i"), stdin: "watch foo --\n"},
		goldenCase{name: "watch_interactive_bad_quote", history: base, args: args("watch -i"), stdin: "watch \"\\q\"\n"},
		goldenCase{name: "watch_interactive_no_newline", history: base, args: args("watch -i"), stdin: "bogus\nwatch"},
		goldenCase{name: "watch_interactive_eof", history: base, args: args("watch -i")},
	)
	return cs
}

// txnPuts writes key-value pairs in one transaction.
func txnPuts(kvs ...string) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		var ops []clientv3.Op
		for i := 0; i+1 < len(kvs); i += 2 {
			ops = append(ops, clientv3.OpPut(kvs[i], kvs[i+1]))
		}
		_, err := cl.Txn(ctx).Then(ops...).Commit()
		return err
	}
}
