package robustness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// history records the workload's operations for porcupine: each with its
// call and return time on one monotonic clock, and the porcupine client
// that issued it. A client whose operation failed continues under a new
// porcupine client id, because the failed operation stays open until the
// end of the history and one porcupine client has one open operation at a
// time.
type history struct {
	start time.Time

	mu struct {
		sync.Mutex
		ops    []porcupine.Operation
		nextID int
		// attempted holds every value a write tried to write, acknowledged
		// or not: a value in the store that is not here came from nowhere.
		attempted map[string]bool
		failures  map[string]int // error text -> count, for the report
	}
}

func newHistory() *history {
	h := &history{start: time.Now()}
	h.mu.attempted = map[string]bool{}
	h.mu.failures = map[string]int{}
	return h
}

// now is the history's clock, in nanoseconds since it started.
func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) newClientID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.mu.nextID
	h.mu.nextID++
	return id
}

// attempt notes a value a write is about to try.
func (h *history) attempt(value string) {
	h.mu.Lock()
	h.mu.attempted[value] = true
	h.mu.Unlock()
}

func (h *history) add(client int, in kvInput, call int64, out kvOutput, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if out.Unknown {
		h.mu.failures[out.Err]++
	}
	h.mu.ops = append(h.mu.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
}

// operations returns the history for porcupine: failed writes return after
// every other operation.
func (h *history) operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	var last int64
	for _, op := range h.mu.ops {
		last = max(last, op.Return, op.Call)
	}
	ops := make([]porcupine.Operation, len(h.mu.ops))
	copy(ops, h.mu.ops)
	for i := range ops {
		if ops[i].Output.(kvOutput).Unknown {
			ops[i].Return = last + 1
		}
	}
	return ops
}

// resolveUnknown settles failed writes from the store's event log, which
// runs to the final read that closes the history. Every put and
// compare-and-set writes a value no other request writes, so a failed one
// took effect exactly when its value is in the log, at that revision: it
// becomes an answered write at that revision (still returning at the end
// of the history, since when it returned is unknown). One whose value is
// not in the log changed nothing the history observed (if it applied at
// all, it applied after the final read) and is left out. Failed deletes
// carry no value to find and stay unknown.
//
// This keeps the checker's search small: each unknown write otherwise
// doubles the orders it may have to try. It trusts the event log, which
// is itself checked against the workload (acknowledged writes, values,
// metadata) and against the final read; a wrong log shows up as a
// violation here or there, never as a pass.
func resolveUnknown(ops []porcupine.Operation, log eventLog) (out []porcupine.Operation, resolved, dropped int) {
	written := map[string]int64{}
	for _, e := range log.events {
		if !e.Delete {
			written[e.Value] = e.Rev
		}
	}
	for _, op := range ops {
		in, res := op.Input.(kvInput), op.Output.(kvOutput)
		if !res.Unknown || in.Kind == opDelete || !in.Kind.isWrite() {
			out = append(out, op)
			continue
		}
		rev, ok := written[in.Value]
		if !ok {
			dropped++
			continue
		}
		op.Output = kvOutput{Rev: rev, Succeeded: true}
		out = append(out, op)
		resolved++
	}
	return out, resolved, dropped
}

// ackedWrite is a write whose success the server acknowledged, and so
// must be in the store at its revision.
type ackedWrite struct {
	Rev    int64
	Key    int
	Delete bool
	Value  string
}

// acked lists the acknowledged writes that changed the store.
func (h *history) acked() []ackedWrite {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []ackedWrite
	for _, op := range h.mu.ops {
		in, res := op.Input.(kvInput), op.Output.(kvOutput)
		if res.Unknown {
			continue
		}
		switch {
		case in.Kind == opPut, (in.Kind == opCASValue || in.Kind == opCASModRev) && res.Succeeded:
			out = append(out, ackedWrite{Rev: res.Rev, Key: in.Key, Value: in.Value})
		case in.Kind == opDelete && res.Deleted > 0:
			out = append(out, ackedWrite{Rev: res.Rev, Key: in.Key, Delete: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rev < out[j].Rev })
	return out
}

// maxAckedRev is the highest revision an answer reported so far.
func (h *history) maxAckedRev() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var rev int64
	for _, op := range h.mu.ops {
		if out := op.Output.(kvOutput); !out.Unknown {
			rev = max(rev, out.Rev)
		}
	}
	return rev
}

func (h *history) wasAttempted(value string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mu.attempted[value]
}

// summary counts operations by outcome, for the test log.
func (h *history) summary() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ok, unknown int
	for _, op := range h.mu.ops {
		if op.Output.(kvOutput).Unknown {
			unknown++
		} else {
			ok++
		}
	}
	var fails []string
	for e, n := range h.mu.failures {
		fails = append(fails, fmt.Sprintf("%dx %s", n, e))
	}
	sort.Strings(fails)
	// The longest stretch without an answered write tells how long the
	// faults kept the cluster from taking writes.
	var rets []int64
	for _, op := range h.mu.ops {
		if op.Input.(kvInput).Kind.isWrite() && !op.Output.(kvOutput).Unknown {
			rets = append(rets, op.Return)
		}
	}
	sort.Slice(rets, func(i, j int) bool { return rets[i] < rets[j] })
	var gap int64
	for i := 1; i < len(rets); i++ {
		gap = max(gap, rets[i]-rets[i-1])
	}
	s := fmt.Sprintf("%d operations: %d answered, %d writes with unknown outcome; longest time without an answered write %v",
		ok+unknown, ok, unknown, time.Duration(gap).Round(time.Millisecond))
	if len(fails) > 0 {
		s += " (" + strings.Join(fails, "; ") + ")"
	}
	return s
}

// keySpace names the workload's keys under a prefix.
type keySpace struct {
	prefix string
	n      int
}

func (ks keySpace) name(i int) string { return fmt.Sprintf("%skey%d", ks.prefix, i) }

// index returns the key's index, or -1 for a key outside the space.
func (ks keySpace) index(key string) int {
	for i := range ks.n {
		if ks.name(i) == key {
			return i
		}
	}
	return -1
}

// state converts a Range's key-values to the model's store at rev; ok is
// false if a key is outside the space.
func (ks keySpace) state(rev int64, kvs []*mvccpb.KeyValue) (kvState, bool) {
	s := kvState{Rev: rev}
	for _, kv := range kvs {
		i := ks.index(string(kv.Key))
		if i < 0 {
			return s, false
		}
		s.Keys[i] = toKeyState(kv)
	}
	return s, true
}

func toKeyState(kv *mvccpb.KeyValue) keyState {
	return keyState{Value: string(kv.Value), Mod: kv.ModRevision, Create: kv.CreateRevision, Ver: kv.Version}
}

// workload is a set of clients issuing random requests on a key space and
// recording them in a history.
type workload struct {
	keys      keySpace
	hist      *history
	opTimeout time.Duration
}

// invalidKV marks a response that no correct server gives (two key-values
// for one key, a key outside the space): the model rejects it.
var invalidKV = keyState{Mod: -1}

// runClient issues requests until ctx is done. id makes the client's
// written values unique in the run.
func (w *workload) runClient(ctx context.Context, cli *clientv3.Client, id int, rng *rand.Rand) {
	pid := w.hist.newClientID()
	var seen [maxKeys]keyState // the last state this client saw per key
	for seq := 0; ctx.Err() == nil; seq++ {
		in := w.pick(rng, &seen, fmt.Sprintf("c%d-%d", id, seq))
		if in.Kind.isWrite() && in.Kind != opDelete {
			w.hist.attempt(in.Value)
		}
		call := w.hist.now()
		// A request outlives the end of the workload by its own timeout, so
		// that stopping the run does not turn answers into failures.
		octx, cancel := context.WithTimeout(context.Background(), w.opTimeout)
		out := w.do(octx, cli, in)
		cancel()
		ret := w.hist.now()
		if out.Unknown && !in.Kind.isWrite() {
			continue // a failed read tells nothing
		}
		w.hist.add(pid, in, call, out, ret)
		if out.Unknown {
			pid = w.hist.newClientID()
			continue
		}
		w.observe(&seen, in, out)
	}
}

// pick chooses the next request. Compare-and-set expectations come from
// what this client saw last, so some succeed and some lose races.
func (w *workload) pick(rng *rand.Rand, seen *[maxKeys]keyState, value string) kvInput {
	key := rng.IntN(w.keys.n)
	switch p := rng.IntN(100); {
	case p < 30:
		return kvInput{Kind: opPut, Key: key, Value: value}
	case p < 50:
		return kvInput{Kind: opGet, Key: key}
	case p < 58:
		return kvInput{Kind: opRange}
	case p < 68:
		return kvInput{Kind: opDelete, Key: key}
	case p < 84:
		return kvInput{Kind: opCASValue, Key: key, Value: value, Expect: seen[key].Value}
	default:
		return kvInput{Kind: opCASModRev, Key: key, Value: value, ExpectRev: seen[key].Mod}
	}
}

// observe updates what the client knows of the keys from an answer.
func (w *workload) observe(seen *[maxKeys]keyState, in kvInput, out kvOutput) {
	switch in.Kind {
	case opGet:
		seen[in.Key] = out.KV
	case opRange:
		*seen = out.All
	case opPut:
		seen[in.Key] = keyState{Value: in.Value, Mod: out.Rev}
	case opDelete:
		seen[in.Key] = keyState{}
	case opCASValue, opCASModRev:
		if out.Succeeded {
			seen[in.Key] = keyState{Value: in.Value, Mod: out.Rev}
		} else {
			seen[in.Key] = out.KV
		}
	}
}

// do sends one request and converts the answer.
func (w *workload) do(ctx context.Context, cli *clientv3.Client, in kvInput) kvOutput {
	key := w.keys.name(in.Key)
	switch in.Kind {
	case opPut:
		resp, err := cli.Put(ctx, key, in.Value)
		if err != nil {
			return failed(err)
		}
		return kvOutput{Rev: resp.Header.Revision}
	case opGet:
		resp, err := cli.Get(ctx, key)
		if err != nil {
			return failed(err)
		}
		return kvOutput{Rev: resp.Header.Revision, KV: w.single(resp.Kvs)}
	case opRange:
		return w.rangeAll(ctx, cli)
	case opDelete:
		resp, err := cli.Delete(ctx, key)
		if err != nil {
			return failed(err)
		}
		return kvOutput{Rev: resp.Header.Revision, Deleted: resp.Deleted}
	case opCASValue, opCASModRev:
		cmp := clientv3.Compare(clientv3.Value(key), "=", in.Expect)
		if in.Kind == opCASModRev {
			cmp = clientv3.Compare(clientv3.ModRevision(key), "=", in.ExpectRev)
		}
		resp, err := cli.Txn(ctx).If(cmp).Then(clientv3.OpPut(key, in.Value)).Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			return failed(err)
		}
		out := kvOutput{Rev: resp.Header.Revision, Succeeded: resp.Succeeded}
		if !resp.Succeeded {
			if len(resp.Responses) != 1 || resp.Responses[0].GetResponseRange() == nil {
				out.KV = invalidKV
			} else {
				out.KV = w.single(resp.Responses[0].GetResponseRange().Kvs)
			}
		}
		return out
	}
	panic(fmt.Sprintf("unknown op kind %d", in.Kind))
}

// rangeAll reads the whole key space, linearizably.
func (w *workload) rangeAll(ctx context.Context, cli *clientv3.Client) kvOutput {
	resp, err := cli.Get(ctx, w.keys.prefix, clientv3.WithPrefix())
	if err != nil {
		return failed(err)
	}
	s, ok := w.keys.state(resp.Header.Revision, resp.Kvs)
	out := kvOutput{Rev: resp.Header.Revision, All: s.Keys, Count: resp.Count}
	if !ok {
		out.Count = -1
	}
	return out
}

func (w *workload) single(kvs []*mvccpb.KeyValue) keyState {
	switch len(kvs) {
	case 0:
		return keyState{}
	case 1:
		return toKeyState(kvs[0])
	}
	return invalidKV
}

func failed(err error) kvOutput {
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "deadline exceeded"
	}
	return kvOutput{Unknown: true, Err: msg}
}
