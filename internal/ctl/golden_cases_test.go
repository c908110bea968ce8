package ctl

import "strings"

// formats are the --write-out values.
var formats = []string{"simple", "json", "fields", "protobuf", "table"}

// inFormats repeats a case once per format (name suffixed with it).
func inFormats(c goldenCase, fs ...string) []goldenCase {
	if len(fs) == 0 {
		fs = formats
	}
	var out []goldenCase
	for _, f := range fs {
		cc := c
		cc.name = c.name + "_" + f
		cc.args = append(append([]string{}, c.args...), "-w", f)
		out = append(out, cc)
	}
	return out
}

// hexFormats are the formats --hex changes.
var hexFormats = []string{"simple", "json", "fields", "protobuf"}

func args(s string) []string { return strings.Fields(s) }

// Known differences, skipped until the missing commands exist.
const rootHelpDiff = "the root help lists every etcdctl command; Cairn's etcdctl lacks completion and downgrade"

func goldenCases() []goldenCase {
	var cs []goldenCase
	add := func(c ...goldenCase) { cs = append(cs, c...) }

	// get: every format, --hex, every option.
	add(inFormats(goldenCase{name: "get_key", history: base, args: args("get foo")})...)
	add(inFormats(goldenCase{name: "get_key_hex", history: base, args: args("get foo --hex")}, hexFormats...)...)
	add(inFormats(goldenCase{name: "get_missing", history: base, args: args("get nokey")}, hexFormats...)...)
	add(inFormats(goldenCase{name: "get_prefix", history: base, args: args("get foo --prefix")}, hexFormats...)...)
	add(inFormats(goldenCase{name: "get_binary", history: base, args: args("get k --prefix")}, hexFormats...)...)
	add(inFormats(goldenCase{name: "get_binary_hex", history: base, args: args("get k --prefix --hex")}, "simple", "fields")...)
	add(inFormats(goldenCase{name: "get_lease", history: withLease, args: args("get lk")}, hexFormats...)...)
	add(inFormats(goldenCase{name: "get_lease_hex", history: withLease, args: args("get lk --hex")}, "simple", "json", "fields")...)
	add(
		goldenCase{name: "get_range", history: base, args: args("get a foo1")},
		goldenCase{name: "get_range_three_args", history: base, args: args("get a foo1 zzz")},
		goldenCase{name: "get_from_key", history: base, args: args("get foo1 --from-key")},
		goldenCase{name: "get_from_key_empty", history: base, args: []string{"get", "", "--from-key", "--keys-only"}},
		goldenCase{name: "get_prefix_empty", history: base, args: []string{"get", "", "--prefix", "-w", "json"}},
		goldenCase{name: "get_limit", history: base, args: args("get foo --prefix --limit 2 -w json")},
		goldenCase{name: "get_limit_fields", history: base, args: args("get foo --prefix --limit=1 -w fields")},
		goldenCase{name: "get_limit_negative", history: base, args: args("get foo --prefix --limit=-1")},
		goldenCase{name: "get_rev", history: base, args: args("get foo --rev 4 -w json")},
		goldenCase{name: "get_rev_deleted", history: base, args: args("get b --rev 10")},
		goldenCase{name: "get_rev_future", history: base, args: args("get foo --rev 100")},
		goldenCase{name: "get_rev_compacted", history: append(append([]step{}, base...), compact(6)), args: args("get foo --rev 3")},
		goldenCase{name: "get_keys_only", history: base, args: args("get foo --prefix --keys-only")},
		goldenCase{name: "get_keys_only_json", history: base, args: args("get foo --prefix --keys-only -w json")},
		goldenCase{name: "get_count_only_fields", history: base, args: args("get foo --prefix --count-only -w fields")},
		goldenCase{name: "get_count_only_simple", history: base, args: args("get foo --prefix --count-only")},
		goldenCase{name: "get_count_only_json", history: base, args: args("get foo --prefix --count-only -w json")},
		goldenCase{name: "get_print_value_only", history: base, args: args("get foo --prefix --print-value-only")},
		goldenCase{name: "get_print_value_only_hex", history: base, args: args("get k --prefix --print-value-only --hex")},
		goldenCase{name: "get_print_value_only_json", history: base, args: args("get foo --print-value-only -w json")},
		goldenCase{name: "get_print_value_only_keys_only", history: base, args: args("get foo --prefix --print-value-only --keys-only")},
		goldenCase{name: "get_keys_and_count_only", history: base, args: args("get foo --keys-only --count-only -w fields")},
		goldenCase{name: "get_serializable", history: base, args: args("get foo --consistency s")},
		goldenCase{name: "get_consistency_bad", history: base, args: args("get foo --consistency x")},
		goldenCase{name: "get_consistency_empty", history: base, args: args("get foo --consistency=")},
		goldenCase{name: "get_min_create_rev", history: base, args: []string{"get", "", "--prefix", "--min-create-rev", "6", "--keys-only"}},
		goldenCase{name: "get_max_create_rev", history: base, args: []string{"get", "", "--prefix", "--max-create-rev", "5", "--keys-only"}},
		goldenCase{name: "get_min_mod_rev", history: base, args: []string{"get", "", "--prefix", "--min-mod-rev", "7", "--keys-only"}},
		goldenCase{name: "get_max_mod_rev", history: base, args: []string{"get", "", "--prefix", "--max-mod-rev", "4", "--keys-only"}},
		goldenCase{name: "get_empty_key", history: base, args: []string{"get", ""}},
	)
	for _, target := range []string{"CREATE", "KEY", "MODIFY", "VALUE", "VERSION"} {
		for _, order := range []string{"ASCEND", "DESCEND"} {
			name := "get_sort_" + strings.ToLower(target) + "_" + strings.ToLower(order)
			add(goldenCase{name: name, history: base, args: []string{"get", "", "--prefix", "--sort-by", target, "--order", order, "--keys-only"}})
		}
	}
	add(
		goldenCase{name: "get_sort_target_only", history: base, args: []string{"get", "", "--prefix", "--sort-by=version", "--keys-only"}},
		goldenCase{name: "get_sort_order_only", history: base, args: []string{"get", "", "--prefix", "--order=descend", "--keys-only"}},
		goldenCase{name: "get_sort_limit", history: base, args: []string{"get", "", "--prefix", "--sort-by=MODIFY", "--order=DESCEND", "--limit=2", "-w", "json"}},
		goldenCase{name: "get_bad_sort_target", noServer: true, args: args("get foo --sort-by=FOO")},
		goldenCase{name: "get_bad_sort_order", noServer: true, args: args("get foo --order=FOO")},
		goldenCase{name: "get_no_args", noServer: true, args: args("get")},
		goldenCase{name: "get_prefix_and_from_key", noServer: true, args: args("get foo --prefix --from-key")},
		goldenCase{name: "get_prefix_two_args", noServer: true, args: args("get a b --prefix")},
		goldenCase{name: "get_from_key_two_args", noServer: true, args: args("get a b --from-key")},
		goldenCase{name: "get_bad_rev", noServer: true, args: args("get foo --rev=abc")},
		goldenCase{name: "get_bad_limit", noServer: true, args: args("get foo --limit=x")},
		goldenCase{name: "get_unknown_flag", noServer: true, args: args("get --bogus foo")},
		goldenCase{name: "get_check_order_1", noServer: true, args: args("get a b --prefix --consistency=x")},
		goldenCase{name: "get_check_order_2", noServer: true, args: args("get a b --prefix --order=x")},
		goldenCase{name: "get_check_order_3", noServer: true, args: args("get a --keys-only --count-only --consistency=x")},
		goldenCase{name: "get_check_order_4", noServer: true, args: args("get a --count-only -w json --print-value-only")},
		goldenCase{name: "get_check_order_5", noServer: true, args: args("get a --print-value-only -w json --order=x")},
		goldenCase{name: "get_help", noServer: true, args: args("get --help")},
	)

	// put
	add(inFormats(goldenCase{name: "put", history: base, args: args("put newkey newval")})...)
	add(inFormats(goldenCase{name: "put_prev_kv", history: base, args: args("put foo baz --prev-kv")}, hexFormats...)...)
	add(inFormats(goldenCase{name: "put_prev_kv_hex", history: withLease, args: args("put lk baz --prev-kv --hex")}, "simple", "json", "fields")...)
	add(
		goldenCase{name: "put_prev_kv_new_key", history: base, args: args("put nk v --prev-kv -w fields")},
		goldenCase{name: "put_stdin", history: base, args: args("put fromstdin"), stdin: "line one\nline two\n"},
		goldenCase{name: "put_stdin_empty", history: base, args: args("put fromstdin")},
		goldenCase{name: "put_dash_value", history: base, args: args("put -- dk -v -w json")},
		goldenCase{name: "put_extra_args", history: base, args: args("put a b c -w json")},
		goldenCase{name: "put_empty_key", history: base, args: []string{"put", "", "v"}},
		goldenCase{name: "put_ignore_value", history: base, args: args("put foo --ignore-value --prev-kv -w json")},
		goldenCase{name: "put_ignore_value_missing", history: base, args: args("put nokey --ignore-value")},
		goldenCase{name: "put_ignore_value_with_value", noServer: true, args: args("put foo v --ignore-value")},
		goldenCase{name: "put_ignore_lease", history: withLease, args: args("put lk nv --ignore-lease --prev-kv -w json")},
		goldenCase{name: "put_ignore_lease_missing", history: base, args: args("put nokey v --ignore-lease")},
		goldenCase{name: "put_lease", history: withLease, args: args("put lk2 v --lease=694d77aa9e38260f -w json")},
		goldenCase{name: "put_lease_missing", history: base, args: args("put k v --lease=1234")},
		goldenCase{name: "put_lease_bad", noServer: true, args: args("put k v --lease=zz")},
		goldenCase{name: "put_no_args", noServer: true, args: args("put")},
		goldenCase{name: "put_unknown_flag", noServer: true, args: args("put --bogus k v")},
		goldenCase{name: "put_bad_format", history: base, args: args("put k v -w bogus")},
		goldenCase{name: "put_help", noServer: true, args: args("put --help")},
	)

	// del
	add(inFormats(goldenCase{name: "del", history: base, args: args("del foo")})...)
	add(inFormats(goldenCase{name: "del_prev_kv", history: base, args: args("del foo --prefix --prev-kv")}, hexFormats...)...)
	add(inFormats(goldenCase{name: "del_prev_kv_hex", history: withLease, args: args("del lk --prev-kv --hex")}, "simple", "json", "fields")...)
	add(
		goldenCase{name: "del_missing", history: base, args: args("del nokey")},
		goldenCase{name: "del_missing_json", history: base, args: args("del nokey -w json")},
		goldenCase{name: "del_from_key", history: base, args: args("del foo1 --from-key --prev-kv")},
		goldenCase{name: "del_range_flag", history: base, args: args("del a foo1 --range")},
		goldenCase{name: "del_range_warning", history: base, args: args("del a foo1")},
		goldenCase{name: "del_range_warning_quoted", history: base, args: []string{"del", "a\"b", "f\x01"}},
		goldenCase{name: "del_empty_key", history: base, args: []string{"del", ""}},
		goldenCase{name: "del_no_args", noServer: true, args: args("del")},
		goldenCase{name: "del_three_args", noServer: true, args: args("del a b c")},
		goldenCase{name: "del_prefix_and_from_key", noServer: true, args: args("del a --prefix --from-key")},
		goldenCase{name: "del_prefix_two_args", noServer: true, args: args("del a b --prefix")},
		goldenCase{name: "del_unknown_flag", noServer: true, args: args("del --bogus a")},
		goldenCase{name: "del_help", noServer: true, args: args("del --help")},
	)

	// txn
	const txnMixed = "mod(\"foo\") > \"0\"\n\nput k2 \"v 2\"\nget foo\ndel nokey\nget foo --prefix --keys-only\n\nput k3 v3\n\n"
	add(inFormats(goldenCase{name: "txn_success", history: base, args: args("txn"), stdin: txnMixed})...)
	const txnFailure = "val(\"foo\") = \"nope\"\n\nput k2 v2\n\nget foo\nput foo1 x --prev-kv\ndel a --prev-kv\n\n"
	add(inFormats(goldenCase{name: "txn_failure", history: base, args: args("txn"), stdin: txnFailure}, hexFormats...)...)
	add(inFormats(goldenCase{name: "txn_failure_hex", history: base, args: args("txn --hex"), stdin: txnFailure}, "simple", "json", "fields")...)
	txnOK := func(name, stdin string) goldenCase {
		return goldenCase{name: "txn_" + name, history: withLease, args: args("txn"), stdin: stdin}
	}
	txnBad := func(name, stdin string) goldenCase {
		return goldenCase{name: "txn_bad_" + name, history: base, args: args("txn"), stdin: stdin}
	}
	add(
		goldenCase{name: "txn_interactive", history: base, args: args("txn -i"), stdin: txnMixed},
		goldenCase{name: "txn_interactive_long_flag", history: base, args: args("txn --interactive -w json"), stdin: txnFailure},
		goldenCase{name: "txn_interactive_bad", history: base, args: args("txn -i"), stdin: "mod(foo) > \"0\"\n"},
		txnOK("empty", "\n\n\n"),
		txnOK("blank_lines_with_spaces", "mod(\"foo\") > \"0\"\n   \n\t\n\n"),
		txnOK("crlf", "mod(\"foo\") > \"0\"\r\n\r\nget foo\r\n\r\n\r\n"),
		txnOK("cmp_create", "c(\"foo\") = \"4\"\ncreate(\"a\") < \"3\"\n\nget foo\n\n\n"),
		txnOK("cmp_mod", "m(\"foo\") = \"7\"\nmod(\"a\") != \"7\"\n\nget foo\n\n\n"),
		txnOK("cmp_version", "ver(\"foo\") = \"2\"\nversion(\"nokey\") = \"0\"\n\nget foo\n\n\n"),
		txnOK("cmp_value", "val(\"foo\") = \"bar2\"\nvalue(\"a\") > \"0\"\n\nget foo\n\n\n"),
		txnOK("cmp_value_escapes", "val(\"k\\x01\\n\") = \"v\\xff\\t\\\"\"\n\nget k --prefix\n\n\n"),
		txnOK("cmp_value_backquote", "val(`foo`) = `bar2`\n\nget foo\n\n\n"),
		txnOK("cmp_lease", "lease(\"lk\") = \"694d77aa9e38260f\"\n\nget lk\n\n\n"),
		txnOK("cmp_lease_hex_value", "lease(\"lk\") = \"abc\"\n\n\nget lk\n\n"),
		txnOK("cmp_spacing", "  mod(\"foo\")\t>   \"0\"  trailing words\n\nget foo\n\n\n"),
		txnOK("cmp_leading_space_in_parens", "mod( \"foo\") > \"0\"\n\nget foo\n\n\n"),
		txnOK("cmp_signed_values", "mod(\"foo\") > \"-1\"\nver(\"foo\") > \"+1\"\n\nget foo\n\n\n"),
		txnOK("ops_get_flags", "\nget \"\" --prefix --sort-by=CREATE --order=DESCEND --limit 3\nget foo --count-only\nget foo --print-value-only\nget a foo2 --keys-only\nget foo --rev 4\nget \"\" --from-key --min-mod-rev=9 --consistency=s\n\n\n"),
		txnOK("ops_put_flags", "\nput foo x --prev-kv\nput lk y --ignore-lease --prev-kv\nput a --ignore-value\nput nk v --lease=694d77aa9e38260f\n\n\n"),
		txnOK("ops_del_flags", "\ndel foo --prefix --prev-kv\ndel a b --range\ndel zoo --from-key\n\n\n"),
		txnOK("ops_del_range_warning", "\ndel a foo1\n\n\n"),
		txnOK("ops_quoting", "\nput q1 \"a b\" extra\nput q2 'c d'\nput q3 \"x\\ny\\t\\u00e9\\101\"\nput q4 'raw\\n'\nput q5 a\"b c\"d\nput q6 \"unterminated\nput q7 \"esc\\\"aped\"\nput \"q 8\" \"\"\nput q9 `tick tock`\nget q --prefix\n\n\n"),
		txnOK("ops_quoted_command", "\n\"get\" foo\n'get' a\n\n\n"),
		txnOK("ops_leading_spaces", "\n   get foo   \n\n\n"),
		txnOK("ops_dash_dash", "\nput -- dk -dv\nget dk\n\n\n"),
		txnOK("trailing_input_ignored", "\nput a b\n\n\nnot read\n"),
		txnOK("failure_branch", "mod(\"nokey\") > \"0\"\n\nput s v\n\nput f v\nget f\n\n"),
		txnOK("hex", "\nget k --prefix\nput k2 v2 --prev-kv\n\n\n"),
		txnBad("eof_no_newline", "mod(\"foo\") > \"0\""),
		txnBad("eof_after_compares", "mod(\"foo\") > \"0\"\n\n"),
		txnBad("eof_in_failure", "mod(\"foo\") > \"0\"\n\nput a b\n\nput c d\n"),
		txnBad("eof_empty", ""),
		txnBad("cmp_no_paren", "put k1 \"x\n\n\n\n"),
		txnBad("cmp_only_rparen", ")\n\n\n\n"),
		txnBad("cmp_only_lparen", "(\n\n\n\n"),
		txnBad("cmp_unquoted_key", "mod(k1) > \"0\"\n\n\n\n"),
		txnBad("cmp_no_space_before_op", "mod(\"foo\")> \"0\"\n\n\n\n"),
		txnBad("cmp_no_space_after_op", "mod(\"foo\") >\"0\"\n\n\n\n"),
		txnBad("cmp_unquoted_value", "mod(\"foo\") > 0\n\n\n\n"),
		txnBad("cmp_unterminated_value", "mod(\"foo\") > \"0\n\n\n\n"),
		txnBad("cmp_two_keys", "mod(\"foo\", \"zoo\") > \"0\"\n\n\n\n"),
		txnBad("cmp_space_before_rparen", "mod(\"foo\" ) > \"0\"\n\n\n\n"),
		txnBad("cmp_missing_op", "mod(\"foo\")\n\n\n\n"),
		txnBad("cmp_unknown_target", "bogus(\"foo\") = \"0\"\n\n\n\n"),
		txnBad("cmp_target_uppercase", "MOD(\"foo\") = \"0\"\n\n\n\n"),
		txnBad("cmp_target_space", "mod (\"foo\") = \"0\"\n\n\n\n"),
		txnBad("cmp_empty_target", "(\"foo\") = \"0\"\n\n\n\n"),
		txnBad("cmp_bad_revision", "mod(\"foo\") < \"abc\"\n\n\n\n"),
		txnBad("cmp_revision_overflow", "mod(\"foo\") < \"99999999999999999999\"\n\n\n\n"),
		txnBad("cmp_bad_version", "ver(\"foo\") = \"1a\"\n\n\n\n"),
		txnBad("cmp_bad_lease", "lease(\"foo\") = \"0x1\"\n\n\n\n"),
		txnBad("cmp_lease_decimal_overflow", "lease(\"foo\") = \"7587899274017767956\"\n\n\n\n"),
		txnBad("op_unknown", "\nbogus x\n\n\n"),
		txnBad("op_uppercase", "\nGET foo\n\n\n"),
		txnBad("op_one_word", "\nget\n\n\n"),
		txnBad("op_one_word_unknown", "\nbogus\n\n\n"),
		txnBad("op_txn", "\ntxn\n\n\n"),
		txnBad("op_compaction", "\ncompaction 1\n\n\n"),
		txnBad("op_unknown_flag_get", "\nget foo --bogus\n\n\n"),
		txnBad("op_unknown_flag_put", "\nput foo --bogus\n\n\n"),
		txnBad("op_unknown_flag_del", "\ndel foo --bogus\n\n\n"),
		txnBad("op_global_flag", "\nget foo -w json\n\n\n"),
		txnBad("op_bad_int_flag", "\nget foo --limit=x\n\n\n"),
		txnBad("op_bad_escape", "\nput x \"\\q\"\n\n\n"),
		txnBad("op_bad_sort", "\nget foo --sort-by=BAD\n\n\n"),
		txnBad("op_bad_consistency", "\nget foo --consistency=x\n\n\n"),
		txnBad("op_prefix_from_key", "\ndel foo --prefix --from-key\n\n\n"),
		txnBad("op_prefix_two_args", "\nget a b --prefix\n\n\n"),
		txnBad("op_put_no_value", "\nput foo\n\n\n"),
		txnBad("op_put_bad_lease", "\nput foo v --lease=zz\n\n\n"),
		txnBad("op_put_ignore_value_missing", "\nput nokey --ignore-value\n\n\n"),
		txnBad("op_empty_key", "\nget \"\"\n\n\n"),
		txnBad("duplicate_key", "\nput a 1\nput a 2\n\n\n"),
		goldenCase{name: "txn_bad_format", history: base, args: args("txn -w bogus"), stdin: "\nget foo --sort-by=BAD\n\n\n"},
		goldenCase{name: "txn_unknown_flag", noServer: true, args: args("txn --bogus")},
		goldenCase{name: "txn_help", noServer: true, args: args("txn --help")},
	)

	// compaction
	add(inFormats(goldenCase{name: "compaction", history: base, args: args("compaction 5")})...)
	add(
		goldenCase{name: "compaction_physical", history: base, args: args("compaction 5 --physical")},
		goldenCase{name: "compaction_current", history: base, args: args("compaction 11")},
		goldenCase{name: "compaction_future", history: base, args: args("compaction 100")},
		goldenCase{name: "compaction_compacted", history: append(append([]step{}, base...), compact(6)), args: args("compaction 5")},
		goldenCase{name: "compaction_zero", history: base, args: args("compaction 0")},
		goldenCase{name: "compaction_bad_rev", noServer: true, args: args("compaction abc")},
		goldenCase{name: "compaction_no_args", noServer: true, args: args("compaction")},
		goldenCase{name: "compaction_two_args", noServer: true, args: args("compaction 1 2")},
		goldenCase{name: "compaction_bad_flag", noServer: true, args: args("compaction 5 --physical=x")},
		goldenCase{name: "compaction_bad_format", history: base, args: args("compaction 5 -w bogus")},
		goldenCase{name: "compaction_help", noServer: true, args: args("compaction --help")},
	)

	// endpoint
	add(inFormats(goldenCase{name: "endpoint_health", args: args("endpoint health")})...)
	add(inFormats(goldenCase{name: "endpoint_status", history: base, settled: true, args: args("endpoint status")})...)
	add(inFormats(goldenCase{name: "endpoint_status_hex", history: base, settled: true, args: args("endpoint status --hex")}, "simple", "json", "fields")...)
	add(
		goldenCase{name: "endpoint_health_cluster", args: args("endpoint health --cluster")},
		goldenCase{name: "endpoint_health_cluster_json", args: args("endpoint health --cluster -w json")},
		goldenCase{name: "endpoint_status_cluster", history: base, settled: true, args: args("endpoint status --cluster -w json")},
		goldenCase{name: "endpoint_health_dead", noServer: true, args: args("endpoint health --command-timeout=1s")},
		goldenCase{name: "endpoint_health_dead_json", noServer: true, args: args("endpoint health --command-timeout=1s -w json")},
		goldenCase{name: "endpoint_health_dead_table", noServer: true, args: args("endpoint health --command-timeout=1s -w table")},
		goldenCase{name: "endpoint_status_dead", noServer: true, args: args("endpoint status --command-timeout=1s")},
		goldenCase{name: "endpoint_status_dead_json", noServer: true, args: args("endpoint status --command-timeout=1s -w json")},
		goldenCase{name: "endpoint_status_dead_table", noServer: true, args: args("endpoint status --command-timeout=1s -w table")},
		goldenCase{name: "endpoint_status_dead_protobuf", noServer: true, args: args("endpoint status --command-timeout=1s -w protobuf")},
		goldenCase{name: "endpoint_status_mixed", raw: true, history: base, settled: true, args: args("--endpoints=127.0.0.1:1,{ep} --command-timeout=1s endpoint status")},
		goldenCase{name: "endpoint_health_bad_format", args: args("endpoint health -w bogus")},
		goldenCase{name: "endpoint_health_help", noServer: true, args: args("endpoint health --help")},
		goldenCase{name: "endpoint_status_help", noServer: true, args: args("endpoint status --help")},
		goldenCase{name: "endpoint_status_unknown_flag", noServer: true, args: args("endpoint status --bogus")},
	)

	// member list
	add(inFormats(goldenCase{name: "member_list", args: args("member list")})...)
	add(inFormats(goldenCase{name: "member_list_hex", args: args("member list --hex")}, hexFormats...)...)
	add(
		goldenCase{name: "member_list_serializable", args: args("member list --consistency=s")},
		goldenCase{name: "member_list_consistency_bad", noServer: true, args: args("member list --consistency=x")},
		goldenCase{name: "member_list_extra_args", args: args("member list extra")},
		goldenCase{name: "member_list_bad_format", args: args("member list -w bogus")},
		goldenCase{name: "member_list_help", noServer: true, args: args("member list --help")},
		goldenCase{name: "member_list_unknown_flag", noServer: true, args: args("member list --bogus")},
	)

	// version
	add(
		goldenCase{name: "version", noServer: true, args: args("version")},
		goldenCase{name: "version_json", noServer: true, args: args("version -w json")},
		goldenCase{name: "version_extra_args", noServer: true, args: args("version extra")},
		goldenCase{name: "version_help", noServer: true, args: args("version --help")},
		goldenCase{name: "version_flag", noServer: true, args: args("--version"), knownDiff: rootHelpDiff},
		goldenCase{name: "root_help", noServer: true, args: args("--help"), knownDiff: rootHelpDiff},
		goldenCase{name: "help_unknown_topic", noServer: true, args: args("help bogus"), knownDiff: rootHelpDiff},
		goldenCase{name: "help_get", noServer: true, args: args("help get")},
		goldenCase{name: "help_endpoint_status", noServer: true, args: args("help endpoint status")},
		goldenCase{name: "help_help", noServer: true, args: args("help --help")},
		goldenCase{name: "version_debug", noServer: true, args: args("--debug version")},
		goldenCase{name: "endpoint_help", noServer: true, args: args("endpoint --help")},
		goldenCase{name: "member_help", noServer: true, args: args("member --help")},
		goldenCase{name: "help_watch", noServer: true, args: args("help watch")},
		goldenCase{name: "help_lease_grant", noServer: true, args: args("help lease grant")},
	)

	// global flags and the environment
	add(
		goldenCase{name: "global_bad_format", history: base, args: args("get foo -w bogus")},
		goldenCase{name: "global_unknown_command", noServer: true, args: args("bogus")},
		goldenCase{name: "global_unknown_shorthand", noServer: true, args: args("get -x foo")},
		goldenCase{name: "global_no_endpoints", noServer: true, raw: true, args: []string{"--endpoints=", "get", "foo"}},
		goldenCase{name: "global_dead_endpoint", noServer: true, args: args("get foo --command-timeout=1s")},
		goldenCase{name: "global_bad_dial_timeout_flag", noServer: true, args: args("get foo --dial-timeout=xx")},
		goldenCase{name: "global_cacert_missing", noServer: true, args: args("get foo --cacert=/nonexistent/ca.pem")},
		goldenCase{name: "global_cert_without_key", noServer: true, args: args("get foo --cert=/nonexistent/c.pem")},
		goldenCase{name: "global_key_without_cert", noServer: true, args: args("get foo --key=/nonexistent/k.pem")},
		goldenCase{name: "global_cert_missing", noServer: true, args: args("get foo --cert=/nonexistent/c.pem --key=/nonexistent/k.pem")},
		goldenCase{name: "global_endpoints_flag_after_command", history: base, raw: true, args: args("get foo --endpoints={ep}")},
		goldenCase{name: "env_endpoints", history: base, raw: true, args: args("get foo"), env: []string{"ETCDCTL_ENDPOINTS={ep}"}},
		goldenCase{name: "env_write_out", history: base, args: args("get foo"), env: []string{"ETCDCTL_WRITE_OUT=json"}},
		goldenCase{name: "env_write_out_table", history: base, args: args("get foo"), env: []string{"ETCDCTL_WRITE_OUT=table"}},
		goldenCase{name: "env_hex", history: base, args: args("get foo"), env: []string{"ETCDCTL_HEX=true"}},
		goldenCase{name: "env_hex_one", history: base, args: args("get foo"), env: []string{"ETCDCTL_HEX=1"}},
		goldenCase{name: "env_hex_bad", history: base, args: args("get foo"), env: []string{"ETCDCTL_HEX=bogus"}},
		goldenCase{name: "env_hex_empty", history: base, args: args("get foo"), env: []string{"ETCDCTL_HEX="}},
		goldenCase{name: "env_bad_duration", history: base, args: args("get foo"), env: []string{"ETCDCTL_DIAL_TIMEOUT=xx"}},
		goldenCase{name: "env_unknown", history: base, args: args("get foo"), env: []string{"ETCDCTL_BOGUS=1"}},
		goldenCase{name: "env_command_flag", history: base, args: args("get foo"), env: []string{"ETCDCTL_PREFIX=true"}},
		goldenCase{name: "env_api_3", history: base, args: args("get foo"), env: []string{"ETCDCTL_API=3"}},
		goldenCase{name: "env_conflict", history: base, raw: true, args: args("--endpoints={ep} get foo"), env: []string{"ETCDCTL_ENDPOINTS={ep}"}},
		goldenCase{name: "env_conflict_same_value", history: base, args: args("get foo -w json"), env: []string{"ETCDCTL_WRITE_OUT=json"}},
		goldenCase{name: "env_conflict_after_arg_check", noServer: true, args: args("get"), env: []string{"ETCDCTL_ENDPOINTS=127.0.0.1:1"}},
		goldenCase{name: "env_conflict_version", noServer: true, args: args("version"), env: []string{"ETCDCTL_ENDPOINTS=127.0.0.1:1"}},
		goldenCase{name: "env_format_before_sort", noServer: true, args: args("get foo --sort-by=x"), env: []string{"ETCDCTL_WRITE_OUT=bogus"}},
	)
	add(watchCases()...)
	add(leaseCases()...)
	add(concurrencyCases()...)
	add(clusterCases()...)
	add(authCases()...)
	add(maintenanceCases()...)
	return cs
}
