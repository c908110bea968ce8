package robustness

import (
	"fmt"
	"hash/maphash"
	"strings"

	"github.com/anishathalye/porcupine"
)

// The model is a sequential specification of etcd's KV API over a small,
// fixed key space, for porcupine. Its state is the whole store: the
// current revision and, per key, the value and the metadata etcd keeps
// (mod_revision, create_revision, version). Keys cannot be checked apart
// because etcd's revision is global: a put's response revision depends on
// every write before it, on any key. The state is a comparable value
// (an array, not a map), so porcupine compares and caches it cheaply.
//
// Rules the model holds the server to, as etcd defines them:
//   - a store starts at revision 1; every put, every delete that removes a
//     key and every transaction that writes adds exactly one revision; a
//     delete of a missing key and a transaction that only reads add none;
//   - a put sets mod_revision to the new revision and version+1, and
//     create_revision to the new revision when the key did not exist;
//   - every response's header revision is the store's revision after the
//     request;
//   - a compare of a missing key's value is false; a missing key's
//     mod_revision compares as 0.
//
// A write that failed (timeout, unavailable, connection lost) may or may
// not have been applied. Its output is marked unknown and its return time
// is after every other operation, as porcupine expects: the checker may
// place it anywhere after its call, including after everything, where it
// changes nothing observable.

// maxKeys bounds the key space the model tracks; a workload uses keys
// 0..n-1 with n <= maxKeys.
const maxKeys = 8

// keyState is one key as the store holds it; the zero value is a missing
// key (etcd never gives a live key mod_revision 0).
type keyState struct {
	Value  string
	Mod    int64 // mod_revision
	Create int64 // create_revision
	Ver    int64 // version
}

func (k keyState) exists() bool { return k.Mod != 0 }

func (k keyState) String() string {
	if !k.exists() {
		return "-"
	}
	return fmt.Sprintf("%q@%d(c%d,v%d)", k.Value, k.Mod, k.Create, k.Ver)
}

// kvState is the whole store.
type kvState struct {
	Rev  int64
	Keys [maxKeys]keyState
}

// initialState is an empty store as a new cluster starts it.
func initialState() kvState { return kvState{Rev: 1} }

func (s kvState) count() int64 {
	var n int64
	for _, k := range s.Keys {
		if k.exists() {
			n++
		}
	}
	return n
}

// put returns the state after a put of value to key.
func (s kvState) put(key int, value string) kvState {
	s.Rev++
	k := s.Keys[key]
	if !k.exists() {
		k = keyState{Create: s.Rev}
	}
	k.Value, k.Mod, k.Ver = value, s.Rev, k.Ver+1
	s.Keys[key] = k
	return s
}

// del returns the state after a delete of an existing key.
func (s kvState) del(key int) kvState {
	s.Rev++
	s.Keys[key] = keyState{}
	return s
}

func (s kvState) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rev %d {", s.Rev)
	first := true
	for i, k := range s.Keys {
		if !k.exists() {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		fmt.Fprintf(&b, "k%d=%v", i, k)
	}
	b.WriteString("}")
	return b.String()
}

// opKind names a request of the workload.
type opKind uint8

const (
	// opPut is Put(key, value).
	opPut opKind = iota
	// opGet is a linearizable Range of one key.
	opGet
	// opRange is a linearizable Range of the whole key space.
	opRange
	// opDelete is DeleteRange of one key.
	opDelete
	// opCASValue is Txn(If value(key) == Expect, Then put(key, Value),
	// Else get(key)).
	opCASValue
	// opCASModRev is Txn(If mod_revision(key) == ExpectRev, Then put(key,
	// Value), Else get(key)).
	opCASModRev
)

func (k opKind) isWrite() bool { return k != opGet && k != opRange }

// kvInput is a request.
type kvInput struct {
	Kind      opKind
	Key       int
	Value     string // the value a put or a successful CAS writes
	Expect    string // opCASValue's expected value
	ExpectRev int64  // opCASModRev's expected mod_revision
}

// kvOutput is a response, or the mark of a failed request.
type kvOutput struct {
	// Unknown marks a write that failed: it may or may not have applied.
	Unknown bool
	Err     string // the failure, for reports
	// Rev is the response header's revision.
	Rev int64
	// KV is opGet's result and a failed CAS's Else-branch result.
	KV keyState
	// All and Count are opRange's result.
	All   [maxKeys]keyState
	Count int64
	// Deleted is opDelete's deleted count.
	Deleted int64
	// Succeeded is a CAS's txn outcome.
	Succeeded bool
}

// step applies in to s and reports whether out is what etcd may answer.
func step(s kvState, in kvInput, out kvOutput) (bool, kvState) {
	switch in.Kind {
	case opGet:
		return out.Unknown || (out.Rev == s.Rev && out.KV == s.Keys[in.Key]), s
	case opRange:
		return out.Unknown || (out.Rev == s.Rev && out.All == s.Keys && out.Count == s.count()), s
	case opPut:
		next := s.put(in.Key, in.Value)
		return out.Unknown || out.Rev == next.Rev, next
	case opDelete:
		if !s.Keys[in.Key].exists() {
			return out.Unknown || (out.Rev == s.Rev && out.Deleted == 0), s
		}
		next := s.del(in.Key)
		return out.Unknown || (out.Rev == next.Rev && out.Deleted == 1), next
	case opCASValue, opCASModRev:
		k := s.Keys[in.Key]
		var ok bool
		if in.Kind == opCASValue {
			ok = k.exists() && k.Value == in.Expect
		} else {
			ok = k.Mod == in.ExpectRev
		}
		if !ok {
			return out.Unknown || (!out.Succeeded && out.Rev == s.Rev && out.KV == k), s
		}
		next := s.put(in.Key, in.Value)
		return out.Unknown || (out.Succeeded && out.Rev == next.Rev), next
	}
	panic(fmt.Sprintf("unknown op kind %d", in.Kind))
}

var hashSeed = maphash.MakeSeed()

// kvModel is the porcupine model, starting from init.
func kvModel(init kvState) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return init },
		Step: func(state, input, output any) (bool, any) {
			return step(state.(kvState), input.(kvInput), output.(kvOutput))
		},
		Equal: func(a, b any) bool { return a.(kvState) == b.(kvState) },
		Hash: func(state any) uint64 {
			s := state.(kvState)
			var h maphash.Hash
			h.SetSeed(hashSeed)
			for _, k := range s.Keys {
				h.WriteString(k.Value)
			}
			return h.Sum64() ^ uint64(s.Rev)
		},
		DescribeOperation: func(input, output any) string {
			return describeOp(input.(kvInput), output.(kvOutput))
		},
		DescribeState: func(state any) string { return state.(kvState).String() },
	}
}

func describeOp(in kvInput, out kvOutput) string {
	var call string
	switch in.Kind {
	case opPut:
		call = fmt.Sprintf("put(k%d, %q)", in.Key, in.Value)
	case opGet:
		call = fmt.Sprintf("get(k%d)", in.Key)
	case opRange:
		call = "range(all)"
	case opDelete:
		call = fmt.Sprintf("delete(k%d)", in.Key)
	case opCASValue:
		call = fmt.Sprintf("if value(k%d)==%q then put(k%d, %q)", in.Key, in.Expect, in.Key, in.Value)
	case opCASModRev:
		call = fmt.Sprintf("if mod(k%d)==%d then put(k%d, %q)", in.Key, in.ExpectRev, in.Key, in.Value)
	}
	if out.Unknown {
		return fmt.Sprintf("%s -> unknown (%s)", call, out.Err)
	}
	switch in.Kind {
	case opGet:
		return fmt.Sprintf("%s -> %v, rev %d", call, out.KV, out.Rev)
	case opRange:
		var kvs []string
		for i, k := range out.All {
			if k.exists() {
				kvs = append(kvs, fmt.Sprintf("k%d=%v", i, k))
			}
		}
		return fmt.Sprintf("%s -> [%s] count %d, rev %d", call, strings.Join(kvs, " "), out.Count, out.Rev)
	case opDelete:
		return fmt.Sprintf("%s -> deleted %d, rev %d", call, out.Deleted, out.Rev)
	case opCASValue, opCASModRev:
		if out.Succeeded {
			return fmt.Sprintf("%s -> ok, rev %d", call, out.Rev)
		}
		return fmt.Sprintf("%s -> failed, saw %v, rev %d", call, out.KV, out.Rev)
	}
	return fmt.Sprintf("%s -> rev %d", call, out.Rev)
}
