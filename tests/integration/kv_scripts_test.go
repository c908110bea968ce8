package integration

import (
	"strings"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// seed writes a small history used by the range scripts:
// rev 2 a=1, 3 b=1, 4 a=2, 5 c=1, 6 del b, 7 b=2, 8 d\x00x=1, 9 \xff=1, 10 c=22.
func seed() []step {
	return []step{
		put("seed a=1", &pb.PutRequest{Key: b("a"), Value: b("1")}),
		put("seed b=1", &pb.PutRequest{Key: b("b"), Value: b("1")}),
		put("seed a=2", &pb.PutRequest{Key: b("a"), Value: b("2")}),
		put("seed c=1", &pb.PutRequest{Key: b("c"), Value: b("1")}),
		del("seed del b", &pb.DeleteRangeRequest{Key: b("b")}),
		put("seed b=2", &pb.PutRequest{Key: b("b"), Value: b("2")}),
		put("seed d\\x00x", &pb.PutRequest{Key: b("d\x00x"), Value: b("1")}),
		put("seed \\xff", &pb.PutRequest{Key: []byte{0xff}, Value: b("1")}),
		put("seed c=22", &pb.PutRequest{Key: b("c"), Value: b("22")}),
	}
}

func TestConformanceRange(t *testing.T) {
	all := func(r *pb.RangeRequest) *pb.RangeRequest {
		r.Key, r.RangeEnd = []byte{0}, []byte{0}
		return r
	}
	steps := append(seed(),
		rng("single key", &pb.RangeRequest{Key: b("a")}),
		rng("missing key", &pb.RangeRequest{Key: b("zz")}),
		rng("range [a,c)", &pb.RangeRequest{Key: b("a"), RangeEnd: b("c")}),
		rng("prefix d", &pb.RangeRequest{Key: b("d"), RangeEnd: b("e")}),
		rng("from key b", &pb.RangeRequest{Key: b("b"), RangeEnd: []byte{0}}),
		rng("all keys", all(&pb.RangeRequest{})),
		rng("end before key", &pb.RangeRequest{Key: b("c"), RangeEnd: b("a")}),
		rng("end equals key", &pb.RangeRequest{Key: b("c"), RangeEnd: b("c")}),
		rng("key with 0x00", &pb.RangeRequest{Key: b("d\x00x")}),
		rng("prefix 0xff", &pb.RangeRequest{Key: []byte{0xff}, RangeEnd: []byte{0}}),
		rng("limit 2", all(&pb.RangeRequest{Limit: 2})),
		rng("limit equals count", all(&pb.RangeRequest{Limit: 5})),
		rng("limit above count", all(&pb.RangeRequest{Limit: 50})),
		rng("negative limit", all(&pb.RangeRequest{Limit: -1})),
		rng("rev 2", all(&pb.RangeRequest{Revision: 2})),
		rng("rev 5", all(&pb.RangeRequest{Revision: 5})),
		rng("rev 6 (b deleted)", &pb.RangeRequest{Key: b("b"), Revision: 6}),
		rng("rev current", all(&pb.RangeRequest{Revision: 10})),
		rng("rev future", all(&pb.RangeRequest{Revision: 11})),
		rng("negative rev", all(&pb.RangeRequest{Revision: -3})),
		rng("serializable", all(&pb.RangeRequest{Serializable: true})),
		rng("keys only", all(&pb.RangeRequest{KeysOnly: true})),
		rng("count only", all(&pb.RangeRequest{CountOnly: true})),
		rng("count only with limit", all(&pb.RangeRequest{CountOnly: true, Limit: 1})),
		rng("keys only and count only", all(&pb.RangeRequest{KeysOnly: true, CountOnly: true})),
		rng("keys only sorted by value", all(&pb.RangeRequest{KeysOnly: true, SortTarget: pb.RangeRequest_VALUE, SortOrder: pb.RangeRequest_DESCEND})),
		rng("keys only sorted by value, limit 2", all(&pb.RangeRequest{KeysOnly: true, SortTarget: pb.RangeRequest_VALUE, Limit: 2})),
		rng("min mod rev 5", all(&pb.RangeRequest{MinModRevision: 5})),
		rng("max mod rev 7", all(&pb.RangeRequest{MaxModRevision: 7})),
		rng("min create rev 3", all(&pb.RangeRequest{MinCreateRevision: 3})),
		rng("max create rev 5", all(&pb.RangeRequest{MaxCreateRevision: 5})),
		rng("mod window with limit", all(&pb.RangeRequest{MinModRevision: 4, MaxModRevision: 9, Limit: 2})),
		rng("filters at old rev", all(&pb.RangeRequest{Revision: 7, MinModRevision: 3})),
		rng("empty key", &pb.RangeRequest{}),
		rng("empty key with end", &pb.RangeRequest{RangeEnd: b("z")}),
		rng("bad sort order", all(&pb.RangeRequest{SortOrder: 7})),
		rng("bad sort target", all(&pb.RangeRequest{SortTarget: 9})),
	)
	for _, order := range []pb.RangeRequest_SortOrder{pb.RangeRequest_NONE, pb.RangeRequest_ASCEND, pb.RangeRequest_DESCEND} {
		for _, target := range []pb.RangeRequest_SortTarget{pb.RangeRequest_KEY, pb.RangeRequest_VERSION, pb.RangeRequest_CREATE, pb.RangeRequest_MOD, pb.RangeRequest_VALUE} {
			name := "sort " + order.String() + " by " + target.String()
			steps = append(steps,
				rng(name, all(&pb.RangeRequest{SortOrder: order, SortTarget: target})),
				rng(name+" limit 2", all(&pb.RangeRequest{SortOrder: order, SortTarget: target, Limit: 2})),
			)
		}
	}
	checkGolden(t, "range", runScript(t, steps))
}

func TestConformancePutDelete(t *testing.T) {
	big := strings.Repeat("x", 1572864)
	steps := []step{
		put("put new", &pb.PutRequest{Key: b("k"), Value: b("v1")}),
		put("put prev_kv", &pb.PutRequest{Key: b("k"), Value: b("v2"), PrevKv: true}),
		put("put prev_kv on new key", &pb.PutRequest{Key: b("n"), Value: b("x"), PrevKv: true}),
		put("ignore_value", &pb.PutRequest{Key: b("k"), IgnoreValue: true, PrevKv: true}),
		rng("after ignore_value", &pb.RangeRequest{Key: b("k")}),
		put("ignore_value with value", &pb.PutRequest{Key: b("k"), Value: b("x"), IgnoreValue: true}),
		put("ignore_value on missing key", &pb.PutRequest{Key: b("missing"), IgnoreValue: true}),
		put("ignore_lease", &pb.PutRequest{Key: b("k"), Value: b("v3"), IgnoreLease: true}),
		put("ignore_lease with lease", &pb.PutRequest{Key: b("k"), Value: b("v3"), IgnoreLease: true, Lease: 5}),
		put("ignore_lease on missing key", &pb.PutRequest{Key: b("missing"), Value: b("v"), IgnoreLease: true}),
		put("ignore both on missing key", &pb.PutRequest{Key: b("missing"), IgnoreValue: true, IgnoreLease: true}),
		put("unknown lease", &pb.PutRequest{Key: b("k"), Value: b("v"), Lease: 12345}),
		put("unknown lease and ignore_value on missing", &pb.PutRequest{Key: b("missing"), IgnoreValue: true, Lease: 12345}),
		put("empty key", &pb.PutRequest{Value: b("v")}),
		put("empty value", &pb.PutRequest{Key: b("e")}),
		rng("empty value read", &pb.RangeRequest{Key: b("e")}),
		put("value at the request limit", &pb.PutRequest{Key: b("big"), Value: b(big)}),
		put("value over gRPC's limit", &pb.PutRequest{Key: b("big"), Value: b(big + big)}),
		put("large key", &pb.PutRequest{Key: b(big[:4096]), Value: b("v")}),
		put("key with 0x00", &pb.PutRequest{Key: b("z\x00"), Value: b("v")}),
		del("delete single", &pb.DeleteRangeRequest{Key: b("k"), PrevKv: true}),
		rng("after delete", &pb.RangeRequest{Key: b("k")}),
		put("recreate", &pb.PutRequest{Key: b("k"), Value: b("again"), PrevKv: true}),
		del("delete missing", &pb.DeleteRangeRequest{Key: b("nothing")}),
		put("p/1", &pb.PutRequest{Key: b("p/1"), Value: b("1")}),
		put("p/2", &pb.PutRequest{Key: b("p/2"), Value: b("2")}),
		put("p/3", &pb.PutRequest{Key: b("p/3"), Value: b("3")}),
		del("delete range", &pb.DeleteRangeRequest{Key: b("p/1"), RangeEnd: b("p/3")}),
		del("delete prefix with prev_kv", &pb.DeleteRangeRequest{Key: b("p/"), RangeEnd: b("p0"), PrevKv: true}),
		del("delete from key", &pb.DeleteRangeRequest{Key: b("y"), RangeEnd: []byte{0}, PrevKv: true}),
		del("delete empty key", &pb.DeleteRangeRequest{}),
		rng("everything left", &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, KeysOnly: true}),
		del("delete all", &pb.DeleteRangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}),
		rng("nothing left", &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}),
	}
	checkGolden(t, "put_delete", runScript(t, steps))
}

func TestConformanceTxn(t *testing.T) {
	eq, gt, lt, ne := pb.Compare_EQUAL, pb.Compare_GREATER, pb.Compare_LESS, pb.Compare_NOT_EQUAL
	steps := []step{
		put("k=5", &pb.PutRequest{Key: b("k"), Value: b("5")}),
		put("k=7", &pb.PutRequest{Key: b("k"), Value: b("7")}),
		put("r/1", &pb.PutRequest{Key: b("r/1"), Value: b("a")}),
		put("r/2", &pb.PutRequest{Key: b("r/2"), Value: b("b")}),
	}
	cmps := map[string]*pb.Compare{}
	for _, res := range []pb.Compare_CompareResult{eq, gt, lt, ne} {
		cmps["value "+res.String()+" 7"] = cmpValue("k", res, "7")
		cmps["value "+res.String()+" 6"] = cmpValue("k", res, "6")
		cmps["version "+res.String()+" 2"] = cmpInt("k", pb.Compare_VERSION, res, 2)
		cmps["create "+res.String()+" 2"] = cmpInt("k", pb.Compare_CREATE, res, 2)
		cmps["mod "+res.String()+" 2"] = cmpInt("k", pb.Compare_MOD, res, 2)
		cmps["lease "+res.String()+" 0"] = cmpInt("k", pb.Compare_LEASE, res, 0)
		cmps["missing value "+res.String()] = cmpValue("missing", res, "")
		cmps["missing version "+res.String()+" 0"] = cmpInt("missing", pb.Compare_VERSION, res, 0)
		cmps["missing mod "+res.String()+" 0"] = cmpInt("missing", pb.Compare_MOD, res, 0)
	}
	for _, name := range sortedKeys(cmps) {
		steps = append(steps, txn("compare "+name, &pb.TxnRequest{
			Compare: []*pb.Compare{cmps[name]},
			Success: []*pb.RequestOp{opGet("k", "")},
			Failure: []*pb.RequestOp{opGet("r/1", "")},
		}))
	}
	rangeCmp := cmpValue("r/", pb.Compare_GREATER, "0")
	rangeCmp.RangeEnd = b("r0")
	rangeCmpFail := cmpValue("r/", pb.Compare_EQUAL, "a")
	rangeCmpFail.RangeEnd = b("r0")
	steps = append(steps,
		txn("range compare all match", &pb.TxnRequest{Compare: []*pb.Compare{rangeCmp}}),
		txn("range compare one differs", &pb.TxnRequest{Compare: []*pb.Compare{rangeCmpFail}}),
		txn("empty txn", &pb.TxnRequest{}),
		txn("two compares, second false", &pb.TxnRequest{
			Compare: []*pb.Compare{cmpValue("k", eq, "7"), cmpValue("r/1", eq, "zzz")},
			Success: []*pb.RequestOp{opPut("s", "1")},
			Failure: []*pb.RequestOp{opPut("f", "1")},
		}),
		txn("reads see earlier writes", &pb.TxnRequest{Success: []*pb.RequestOp{
			opGet("w", ""), opPut("w", "1"), opGet("w", ""), opDel("nothing", ""), opDel("w", ""), opGet("w", ""), opPut("w2", "x"),
		}}),
		txn("delete range then read", &pb.TxnRequest{Success: []*pb.RequestOp{opDel("r/", "r0"), opGet("r/", "r0")}}),
		txn("nested", &pb.TxnRequest{
			Compare: []*pb.Compare{cmpInt("k", pb.Compare_VERSION, eq, 2)},
			Success: []*pb.RequestOp{
				opPut("n1", "a"),
				opTxn(&pb.TxnRequest{
					Compare: []*pb.Compare{cmpInt("n1", pb.Compare_VERSION, eq, 0)},
					Success: []*pb.RequestOp{opPut("n2", "nested-success"), opGet("n1", "")},
					Failure: []*pb.RequestOp{opPut("n2", "nested-failure")},
				}),
				opGet("n2", ""),
			},
		}),
		txn("read-only nested", &pb.TxnRequest{Success: []*pb.RequestOp{opTxn(&pb.TxnRequest{Success: []*pb.RequestOp{opGet("n2", "")}})}}),
		txn("duplicate put", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("d", "1"), opPut("d", "2")}}),
		txn("put inside deleted range", &pb.TxnRequest{Success: []*pb.RequestOp{opDel("a", "m"), opPut("d", "2")}}),
		txn("put then delete of same key", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("d", "2"), opDel("d", "")}}),
		txn("put with from-key delete", &pb.TxnRequest{Success: []*pb.RequestOp{opDel("zz", "\x00"), opPut("zzz", "2")}}),
		txn("duplicates in different branches", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("d", "1")}, Failure: []*pb.RequestOp{opPut("d", "2")}}),
		txn("nested then/else same key", &pb.TxnRequest{Success: []*pb.RequestOp{opTxn(&pb.TxnRequest{
			Success: []*pb.RequestOp{opPut("d", "1")}, Failure: []*pb.RequestOp{opPut("d", "2")},
		})}}),
		txn("nested put duplicates outer put", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("d", "0"), opTxn(&pb.TxnRequest{
			Success: []*pb.RequestOp{opPut("d", "1")},
		})}}),
		txn("nested put under outer delete", &pb.TxnRequest{Success: []*pb.RequestOp{opDel("d", ""), opTxn(&pb.TxnRequest{
			Failure: []*pb.RequestOp{opPut("d", "1")},
		})}}),
		txn("empty compare key", &pb.TxnRequest{Compare: []*pb.Compare{{Target: pb.Compare_VALUE}}}),
		txn("empty op", &pb.TxnRequest{Success: []*pb.RequestOp{{}}}),
		txn("op with empty key", &pb.TxnRequest{Success: []*pb.RequestOp{opPut("", "x")}}),
		txn("unknown lease in txn", &pb.TxnRequest{Success: []*pb.RequestOp{
			opPut("l1", "x"),
			{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: b("l2"), Lease: 99}}},
		}}),
		rng("l1 was not written", &pb.RangeRequest{Key: b("l1")}),
		txn("ignore_value on missing key in txn", &pb.TxnRequest{Success: []*pb.RequestOp{
			{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: b("nokey"), IgnoreValue: true}}},
		}}),
		txn("future revision range in txn", &pb.TxnRequest{Success: []*pb.RequestOp{
			opPut("fr", "x"),
			{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: b("k"), Revision: 1000}}},
		}}),
		txn("bad sort in txn range", &pb.TxnRequest{Success: []*pb.RequestOp{
			{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: b("k"), SortOrder: 9}}},
		}}),
		txn("ignore_value with value in txn", &pb.TxnRequest{Failure: []*pb.RequestOp{
			{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: b("k"), Value: b("v"), IgnoreValue: true}}},
		}}),
		txn("128 ops", &pb.TxnRequest{Success: manyPuts(128)}),
		txn("129 ops", &pb.TxnRequest{Success: manyPuts(129)}),
		txn("129 compares", &pb.TxnRequest{Compare: manyCompares(129)}),
		txn("nested over the budget", &pb.TxnRequest{
			Success: append(manyPuts(100), opTxn(&pb.TxnRequest{Success: manyGets(29)})),
		}),
		rng("final state", &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}),
	)
	checkGolden(t, "txn", runScript(t, steps))
}

func TestConformanceCompact(t *testing.T) {
	steps := []step{
		compact("compact 0 on a fresh store", &pb.CompactionRequest{}),
		compact("compact 0 again", &pb.CompactionRequest{}),
		rng("read at 0 after compacting at 0", &pb.RangeRequest{Key: b("a")}),
		put("a=1", &pb.PutRequest{Key: b("a"), Value: b("1")}),
		put("a=2", &pb.PutRequest{Key: b("a"), Value: b("2")}),
		put("b=1", &pb.PutRequest{Key: b("b"), Value: b("1")}),
		del("del b", &pb.DeleteRangeRequest{Key: b("b")}),
		put("a=3", &pb.PutRequest{Key: b("a"), Value: b("3")}),
		compact("compact future", &pb.CompactionRequest{Revision: 100}),
		compact("compact 4", &pb.CompactionRequest{Revision: 4}),
		rng("read at 3 (compacted)", &pb.RangeRequest{Key: b("a"), Revision: 3}),
		rng("read at 4", &pb.RangeRequest{Key: b("a"), RangeEnd: []byte{0}, Revision: 4}),
		rng("read at 5", &pb.RangeRequest{Key: b("a"), RangeEnd: []byte{0}, Revision: 5}),
		compact("compact 4 again", &pb.CompactionRequest{Revision: 4}),
		compact("compact 3", &pb.CompactionRequest{Revision: 3}),
		compact("compact 6 physical", &pb.CompactionRequest{Revision: 6, Physical: true}),
		rng("read at 5 after physical", &pb.RangeRequest{Key: b("a"), Revision: 5}),
		rng("read at 6", &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: 6}),
		txn("txn reading compacted rev", &pb.TxnRequest{Success: []*pb.RequestOp{
			{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: b("a"), Revision: 2}}},
		}}),
		put("a=4", &pb.PutRequest{Key: b("a"), Value: b("4"), PrevKv: true}),
		compact("compact 0", &pb.CompactionRequest{}),
		compact("compact negative", &pb.CompactionRequest{Revision: -1}),
	}
	checkGolden(t, "compact", runScript(t, steps))
}

func manyPuts(n int) []*pb.RequestOp {
	ops := make([]*pb.RequestOp, n)
	for i := range ops {
		ops[i] = opPut("m/"+itoa(i), "v")
	}
	return ops
}

func manyGets(n int) []*pb.RequestOp {
	ops := make([]*pb.RequestOp, n)
	for i := range ops {
		ops[i] = opGet("m/"+itoa(i), "")
	}
	return ops
}

func manyCompares(n int) []*pb.Compare {
	cs := make([]*pb.Compare, n)
	for i := range cs {
		cs[i] = cmpInt("m/"+itoa(i), pb.Compare_VERSION, pb.Compare_GREATER, -1)
	}
	return cs
}
