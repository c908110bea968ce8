package robustness

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// hop is one operation of a hand-written history: times are abstract
// ticks; ret < 0 marks a failed write, open until the end.
type hop struct {
	client    int
	call, ret int64
	in        kvInput
	out       kvOutput
}

func toOps(hs []hop) []porcupine.Operation {
	var last int64
	for _, h := range hs {
		last = max(last, h.call, h.ret)
	}
	ops := make([]porcupine.Operation, len(hs))
	for i, h := range hs {
		ret := h.ret
		if ret < 0 {
			h.out.Unknown, h.out.Err = true, "timeout"
			ret = last + 1
		}
		ops[i] = porcupine.Operation{ClientId: h.client, Input: h.in, Call: h.call, Output: h.out, Return: ret}
	}
	return ops
}

func put(k int, v string) kvInput { return kvInput{Kind: opPut, Key: k, Value: v} }
func get(k int) kvInput           { return kvInput{Kind: opGet, Key: k} }
func del(k int) kvInput           { return kvInput{Kind: opDelete, Key: k} }
func rangeAll() kvInput           { return kvInput{Kind: opRange} }
func casVal(k int, old, v string) kvInput {
	return kvInput{Kind: opCASValue, Key: k, Expect: old, Value: v}
}
func casRev(k int, rev int64, v string) kvInput {
	return kvInput{Kind: opCASModRev, Key: k, ExpectRev: rev, Value: v}
}
func rev(r int64) kvOutput { return kvOutput{Rev: r} }
func saw(r int64, k keyState) kvOutput {
	return kvOutput{Rev: r, KV: k}
}
func kv(v string, mod, create, ver int64) keyState {
	return keyState{Value: v, Mod: mod, Create: create, Ver: ver}
}

// TestModelHistories runs hand-written histories through the checker:
// the legal ones must pass and the illegal ones, each breaking one of
// etcd's rules, must be rejected.
func TestModelHistories(t *testing.T) {
	tests := []struct {
		name  string
		ops   []hop
		legal bool
	}{
		{
			name: "sequential put then get",
			ops: []hop{
				{0, 1, 2, put(0, "a"), rev(2)},
				{0, 3, 4, get(0), saw(2, kv("a", 2, 2, 1))},
			},
			legal: true,
		},
		{
			name: "overwrite keeps create_revision and bumps version",
			ops: []hop{
				{0, 1, 2, put(0, "a"), rev(2)},
				{0, 3, 4, put(1, "x"), rev(3)},
				{0, 5, 6, put(0, "b"), rev(4)},
				{0, 7, 8, get(0), saw(4, kv("b", 4, 2, 2))},
			},
			legal: true,
		},
		{
			name: "concurrent puts in either order",
			ops: []hop{
				{0, 1, 10, put(0, "a"), rev(3)},
				{1, 2, 9, put(0, "b"), rev(2)},
				{2, 11, 12, get(0), saw(3, kv("a", 3, 2, 2))},
			},
			legal: true,
		},
		{
			name: "failed put that took effect",
			ops: []hop{
				{0, 1, -1, put(0, "a"), kvOutput{}},
				{1, 5, 6, get(0), saw(2, kv("a", 2, 2, 1))},
			},
			legal: true,
		},
		{
			name: "failed put that never took effect",
			ops: []hop{
				{0, 1, -1, put(0, "a"), kvOutput{}},
				{1, 5, 6, put(0, "b"), rev(2)},
				{1, 7, 8, get(0), saw(2, kv("b", 2, 2, 1))},
			},
			legal: true,
		},
		{
			name: "delete of a missing key leaves the revision",
			ops: []hop{
				{0, 1, 2, del(0), kvOutput{Rev: 1, Deleted: 0}},
				{0, 3, 4, put(0, "a"), rev(2)},
				{0, 5, 6, del(0), kvOutput{Rev: 3, Deleted: 1}},
				{0, 7, 8, put(0, "b"), rev(4)},
				{0, 9, 10, get(0), saw(4, kv("b", 4, 4, 1))},
			},
			legal: true,
		},
		{
			name: "compare-and-set by value and by mod_revision",
			ops: []hop{
				{0, 1, 2, casRev(0, 0, "a"), kvOutput{Rev: 2, Succeeded: true}},
				{0, 3, 4, casVal(0, "a", "b"), kvOutput{Rev: 3, Succeeded: true}},
				{0, 5, 6, casVal(0, "a", "c"), kvOutput{Rev: 3, KV: kv("b", 3, 2, 2)}},
				{0, 7, 8, casRev(0, 2, "d"), kvOutput{Rev: 3, KV: kv("b", 3, 2, 2)}},
				{0, 9, 10, casVal(1, "", "e"), kvOutput{Rev: 3}},
			},
			legal: true,
		},
		{
			name: "range sees every key",
			ops: []hop{
				{0, 1, 2, put(0, "a"), rev(2)},
				{1, 1, 3, put(2, "c"), rev(3)},
				{0, 4, 5, rangeAll(), kvOutput{Rev: 3, All: [maxKeys]keyState{0: kv("a", 2, 2, 1), 2: kv("c", 3, 3, 1)}, Count: 2}},
			},
			legal: true,
		},
		{
			name: "stale read after an acknowledged put",
			ops: []hop{
				{0, 1, 2, put(0, "a"), rev(2)},
				{1, 3, 4, get(0), saw(1, keyState{})},
			},
		},
		{
			name: "read of another client's write misses it",
			ops: []hop{
				{0, 1, 2, put(0, "a"), rev(2)},
				{0, 3, 4, put(0, "b"), rev(3)},
				{1, 5, 6, get(0), saw(2, kv("a", 2, 2, 1))},
			},
		},
		{
			name: "two writes at one revision",
			ops: []hop{
				{0, 1, 2, put(0, "a"), rev(2)},
				{1, 3, 4, put(1, "b"), rev(2)},
			},
		},
		{
			name: "delete of a missing key bumps the revision",
			ops: []hop{
				{0, 1, 2, del(0), kvOutput{Rev: 2, Deleted: 0}},
			},
		},
		{
			name: "wrong version",
			ops: []hop{
				{0, 1, 2, put(0, "a"), rev(2)},
				{0, 3, 4, put(0, "b"), rev(3)},
				{0, 5, 6, get(0), saw(3, kv("b", 3, 2, 1))},
			},
		},
		{
			name: "create_revision survives a delete",
			ops: []hop{
				{0, 1, 2, put(0, "a"), rev(2)},
				{0, 3, 4, del(0), kvOutput{Rev: 3, Deleted: 1}},
				{0, 5, 6, put(0, "b"), rev(4)},
				{0, 7, 8, get(0), saw(4, kv("b", 4, 2, 2))},
			},
		},
		{
			name: "compare-and-set succeeds on a stale value",
			ops: []hop{
				{0, 1, 2, put(0, "a"), rev(2)},
				{0, 3, 4, put(0, "b"), rev(3)},
				{1, 5, 6, casVal(0, "a", "c"), kvOutput{Rev: 4, Succeeded: true}},
			},
		},
		{
			name: "compare-and-set of a missing key's value succeeds",
			ops: []hop{
				{0, 1, 2, casVal(0, "", "a"), kvOutput{Rev: 2, Succeeded: true}},
			},
		},
		{
			name: "range count disagrees with its keys",
			ops: []hop{
				{0, 1, 2, put(0, "a"), rev(2)},
				{0, 3, 4, rangeAll(), kvOutput{Rev: 2, All: [maxKeys]keyState{0: kv("a", 2, 2, 1)}, Count: 2}},
			},
		},
		{
			name: "failed write seen, then unseen",
			ops: []hop{
				{0, 1, -1, put(0, "a"), kvOutput{}},
				{1, 2, 3, get(0), saw(2, kv("a", 2, 2, 1))},
				{1, 4, 5, get(0), saw(2, keyState{})},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := porcupine.CheckOperationsTimeout(kvModel(initialState()), toOps(tt.ops), 10*time.Second)
			want := porcupine.Illegal
			if tt.legal {
				want = porcupine.Ok
			}
			if got != want {
				t.Errorf("check = %v, want %v", got, want)
			}
		})
	}
}

// TestVisualizationOfViolation checks that a rejected history yields
// porcupine's HTML view in a file.
func TestVisualizationOfViolation(t *testing.T) {
	model := kvModel(initialState())
	ops := toOps([]hop{
		{0, 1, 2, put(0, "a"), rev(2)},
		{1, 3, 4, get(0), saw(1, keyState{})},
	})
	res, info := porcupine.CheckOperationsVerbose(model, ops, 10*time.Second)
	if res != porcupine.Illegal {
		t.Fatalf("check = %v, want Illegal", res)
	}
	msg := visualize(model, info)
	path, ok := strings.CutPrefix(msg, "visualization in ")
	if !ok {
		t.Fatal(msg)
	}
	defer os.Remove(path)
	html, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `get(k0)`) {
		t.Errorf("visualization does not describe the operations:\n%.300s", html)
	}
}

// TestResolveUnknown checks that failed writes are settled from the event
// log, and that a log contradicting the answers still fails the check.
func TestResolveUnknown(t *testing.T) {
	history := []hop{
		{0, 1, -1, put(0, "a"), kvOutput{}},
		{1, 2, 3, put(1, "b"), rev(2)},
		{1, 4, 5, get(0), saw(3, kv("a", 3, 3, 1))},
		{2, 1, -1, casVal(2, "q", "z"), kvOutput{}},
		{3, 1, -1, del(1), kvOutput{}},
	}
	tests := []struct {
		name              string
		log               []watchEvent
		resolved, dropped int
		legal             bool
	}{
		{
			name:     "took effect where the log says",
			log:      []watchEvent{putEv(2, 1, "b", 2, 1), putEv(3, 0, "a", 3, 1)},
			resolved: 1, dropped: 1, legal: true,
		},
		{
			name:     "log contradicts an answer",
			log:      []watchEvent{putEv(2, 0, "a", 2, 1), putEv(3, 1, "b", 3, 1)},
			resolved: 1, dropped: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, resolved, dropped := resolveUnknown(toOps(history), eventLog{from: 2, events: tt.log})
			if resolved != tt.resolved || dropped != tt.dropped {
				t.Errorf("resolved %d, dropped %d; want %d, %d", resolved, dropped, tt.resolved, tt.dropped)
			}
			if n := len(history) - tt.dropped; len(ops) != n {
				t.Errorf("%d operations left, want %d", len(ops), n)
			}
			got := porcupine.CheckOperationsTimeout(kvModel(initialState()), ops, 10*time.Second)
			want := porcupine.Illegal
			if tt.legal {
				want = porcupine.Ok
			}
			if got != want {
				t.Errorf("check = %v, want %v", got, want)
			}
		})
	}
}
