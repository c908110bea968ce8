package v2store

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-kv/cairn/internal/storage"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func put(path, val string) *Request { return &Request{Method: "PUT", Path: path, Val: val} }

func pbool(b bool) *bool { return &b }

// render is an event as a client sees it at t0, without the /1 prefix.
func render(e *Event) string {
	b, _ := json.Marshal(e.Render(KeysPrefix, t0))
	return string(b)
}

func errCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return fmt.Sprintf("error %d %q index %d", e.Code, e.Cause, e.Index)
	}
	return "raw error: " + err.Error()
}

// TestApply runs one request sequence through Apply; each step's event or
// error is what etcd 3.5 answers for the same sequence.
func TestApply(t *testing.T) {
	s := New()
	steps := []struct {
		name string
		req  *Request
		want string
	}{
		{"set creates", put("/1/a", "1"), `{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}`},
		{"set replaces", put("/1/a", "2"), `{"action":"set","node":{"key":"/a","value":"2","modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}`},
		{"create exists", &Request{Method: "PUT", Path: "/1/a", Val: "x", PrevExist: pbool(false)}, `error 105 "/1/a" index 2`},
		{"update", &Request{Method: "PUT", Path: "/1/a", Val: "3", PrevExist: pbool(true)}, `{"action":"update","node":{"key":"/a","value":"3","modifiedIndex":3,"createdIndex":2},"prevNode":{"key":"/a","value":"2","modifiedIndex":2,"createdIndex":2}}`},
		{"update missing", &Request{Method: "PUT", Path: "/1/nope", Val: "3", PrevExist: pbool(true)}, `error 100 "/1/nope" index 3`},
		{"cas value", &Request{Method: "PUT", Path: "/1/a", Val: "4", PrevValue: "3"}, `{"action":"compareAndSwap","node":{"key":"/a","value":"4","modifiedIndex":4,"createdIndex":2},"prevNode":{"key":"/a","value":"3","modifiedIndex":3,"createdIndex":2}}`},
		{"cas both wrong", &Request{Method: "PUT", Path: "/1/a", Val: "5", PrevValue: "x", PrevIndex: 1}, `error 101 "[x != 4] [1 != 4]" index 4`},
		{"nested set makes dirs", put("/1/d/e/f", "v"), `{"action":"set","node":{"key":"/d/e/f","value":"v","modifiedIndex":5,"createdIndex":5}}`},
		{"file as dir", put("/1/d/e/f/g", "v"), `error 104 "/1/d/e/f" index 5`},
		{"set on dir", put("/1/d", "v"), `error 102 "/1/d" index 5`},
		{"delete dir without dir", &Request{Method: "DELETE", Path: "/1/d"}, `error 102 "/1/d" index 5`},
		{"delete non-empty dir", &Request{Method: "DELETE", Path: "/1/d", Dir: true}, `error 108 "/1/d" index 5`},
		{"root read only", put("/1", "v"), `error 107 "/" index 5`},
		{"update dir is raw", &Request{Method: "PUT", Path: "/1/d", Dir: true, PrevExist: pbool(true)}, `raw error: nodePath /1/d : Not a file ()`},
		{"in order", &Request{Method: "POST", Path: "/1/q", Val: "j"}, `{"action":"create","node":{"key":"/q/00000000000000000006","value":"j","modifiedIndex":6,"createdIndex":6}}`},
		{"ttl", &Request{Method: "PUT", Path: "/1/t", Val: "v", Expiration: t0.Add(1500 * time.Millisecond).UnixNano()}, `{"action":"set","node":{"key":"/t","value":"v","expiration":"2026-01-02T03:04:06.5Z","ttl":2,"modifiedIndex":7,"createdIndex":7}}`},
		{"recursive delete", &Request{Method: "DELETE", Path: "/1/d", Recursive: true}, `{"action":"delete","node":{"key":"/d","dir":true,"modifiedIndex":8,"createdIndex":5},"prevNode":{"key":"/d","dir":true,"modifiedIndex":5,"createdIndex":5}}`},
		{"cad", &Request{Method: "DELETE", Path: "/1/a", PrevIndex: 4}, `{"action":"compareAndDelete","node":{"key":"/a","modifiedIndex":9,"createdIndex":2},"prevNode":{"key":"/a","value":"4","modifiedIndex":4,"createdIndex":2}}`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e, err := s.Apply(nil, st.req)
			got := ""
			if err != nil {
				got = errCode(err)
			} else {
				got = render(e)
			}
			if got != st.want {
				t.Errorf("got  %s\nwant %s", got, st.want)
			}
		})
	}
	// SYNC at the expiration removes the key and advances the index.
	if _, err := s.Apply(nil, &Request{Method: MethodSync, Time: t0.Add(1500 * time.Millisecond).UnixNano()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("/1/t", false, false); errCode(err) != `error 100 "/1/t" index 10` {
		t.Errorf("after expiry: %v", err)
	}
}

// TestExpiryOrder: keys due together expire in expiration then path order,
// so every member gives them the same indexes.
func TestExpiryOrder(t *testing.T) {
	s := New()
	exp := t0.UnixNano()
	for _, k := range []string{"/1/c", "/1/a", "/1/b"} {
		if _, err := s.Apply(nil, &Request{Method: "PUT", Path: k, Val: "v", Expiration: exp}); err != nil {
			t.Fatal(err)
		}
	}
	w, err := s.Watch("/1", true, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Apply(nil, &Request{Method: MethodSync, Time: exp})
	for i, want := range []string{"/1/a", "/1/b", "/1/c"} {
		e := <-w.EventChan()
		if e.Action != ActionExpire || e.Node.Key != want || e.Node.ModifiedIndex != uint64(4+i) {
			t.Errorf("event %d: %s %s at %d", i, e.Action, e.Node.Key, e.Node.ModifiedIndex)
		}
	}
	if s.HasTTLKeys() {
		t.Error("TTL keys left")
	}
}

// TestHistory: waitIndex reaches back HistorySize events; older is 401.
func TestHistory(t *testing.T) {
	s := New()
	for i := 0; i < HistorySize+5; i++ {
		s.Apply(nil, put(fmt.Sprintf("/1/k%d", i%3), "v"))
	}
	_, err := s.Watch("/1/k0", false, false, 5)
	if errCode(err) != fmt.Sprintf(`error 401 "the requested history has been cleared [6/5]" index %d`, HistorySize+5) {
		t.Errorf("old index: %v", errCode(err))
	}
	w, err := s.Watch("/1/k0", false, false, 6)
	if err != nil {
		t.Fatal(err)
	}
	if e := <-w.EventChan(); e.Node.Key != "/1/k0" || e.Node.ModifiedIndex != 7 || e.EtcdIndex != HistorySize+5 {
		t.Errorf("first k0 event from 6: %+v", e)
	}
	// A refresh is kept in the history but no watcher sees it.
	s.Apply(nil, &Request{Method: "PUT", Path: "/1/k0", Refresh: true, PrevExist: pbool(true), Expiration: t0.UnixNano()})
	w, _ = s.Watch("/1/k0", false, false, HistorySize+6)
	select {
	case e := <-w.EventChan():
		t.Errorf("refresh notified: %+v", e)
	default:
	}
}

// TestWatchDeletedDir: deleting a directory notifies watchers of keys
// inside it; hidden keys do not reach watchers of their parents.
func TestWatchDeletedDir(t *testing.T) {
	s := New()
	s.Apply(nil, put("/1/d/x", "1"))
	s.Apply(nil, put("/1/d/_h", "1"))
	inner, _ := s.Watch("/1/d/x", false, false, 0)
	parent, _ := s.Watch("/1/d", true, true, 0)
	s.Apply(nil, put("/1/d/_h", "2"))
	s.Apply(nil, &Request{Method: "DELETE", Path: "/1/d", Recursive: true})
	if e := <-inner.EventChan(); e.Action != ActionDelete || e.Node.Key != "/1/d" {
		t.Errorf("inner watcher: %+v", e.Node)
	}
	if e := <-parent.EventChan(); e.Action != ActionDelete || e.Node.Key != "/1/d" {
		t.Errorf("parent watcher got %s %s first (a hidden change leaked?)", e.Action, e.Node.Key)
	}
}

// TestPersistence: everything Apply writes to the batch loads back: nodes,
// TTLs, the index and the history.
func TestPersistence(t *testing.T) {
	eng, err := storage.Open("v2", storage.Options{FS: vfs.NewMem()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s := New()
	apply := func(r *Request) {
		b := eng.DB().NewBatch()
		if _, err := s.Apply(b, r); err != nil {
			t.Fatal(err)
		}
		s.Record(b, ActionSet, "/0/version")
		if err := b.Commit(nil); err != nil {
			t.Fatal(err)
		}
	}
	apply(put("/1/a/b", "x"))
	apply(&Request{Method: "PUT", Path: "/1/t", Val: "y", Expiration: t0.UnixNano()})
	apply(&Request{Method: "POST", Path: "/1/q", Dir: true})
	apply(put("/1/gone", "z"))
	apply(&Request{Method: "DELETE", Path: "/1/gone"})
	for i := 0; i < HistorySize; i++ {
		apply(put("/1/n", fmt.Sprint(i)))
	}
	l, err := Load(eng.DB())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.Get("/1", true, true)
	got, _ := l.Get("/1", true, true)
	if render(got) != render(want) || l.Index() != s.Index() || !l.HasTTLKeys() {
		t.Errorf("loaded %s at %d\nwant   %s at %d", render(got), l.Index(), render(want), s.Index())
	}
	if l.hist.startIndex() != s.hist.startIndex() || len(l.hist.events) != HistorySize {
		t.Errorf("history from %d (%d events), want from %d", l.hist.startIndex(), len(l.hist.events), s.hist.startIndex())
	}
	it, _ := eng.DB().NewIter(nil)
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if it.Key()[1] == subHistory {
			n++
		}
	}
	it.Close()
	if n != HistorySize {
		t.Errorf("%d history records stored, want %d", n, HistorySize)
	}
}

// FuzzLoad: no stored bytes make Load panic.
func FuzzLoad(f *testing.F) {
	f.Add("/1/a", []byte{0, 1, 1, 0, 'v'})
	f.Add("/1/a/b", []byte{1, 2, 2, 2})
	f.Fuzz(func(t *testing.T, p string, val []byte) {
		eng, err := storage.Open("v2", storage.Options{FS: vfs.NewMem()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		if err := eng.DB().Set(nodeKey(p), val, nil); err != nil {
			t.Fatal(err)
		}
		_ = eng.DB().Set(historyKey(1), val, nil)
		_, _ = Load(eng.DB())
	})
}
