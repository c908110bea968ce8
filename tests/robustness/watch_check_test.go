package robustness

import (
	"strings"
	"testing"
)

var testKeys = keySpace{prefix: "/t/", n: 3}

func putEv(rev int64, k int, v string, create, ver int64) watchEvent {
	return watchEvent{Rev: rev, Key: testKeys.name(k), Value: v, Create: create, Ver: ver}
}

func delEv(rev int64, k int) watchEvent {
	return watchEvent{Rev: rev, Key: testKeys.name(k), Delete: true}
}

// testLog is a store's history from revision 2 to 7.
var testLog = eventLog{from: 2, events: []watchEvent{
	putEv(2, 0, "a", 2, 1),
	putEv(3, 1, "b", 3, 1),
	putEv(4, 0, "c", 2, 2),
	delEv(5, 1),
	putEv(6, 2, "d", 6, 1),
	putEv(7, 0, "e", 2, 3),
}}

func record(key string, prefix bool, start int64, events []watchEvent, progress ...progressMark) *watchRecord {
	r := &watchRecord{name: "w", key: key, prefix: prefix, start: start}
	r.mu.events = events
	r.mu.progress = progress
	return r
}

func TestWatchChecker(t *testing.T) {
	all := testLog.events
	tests := []struct {
		name string
		rec  *watchRecord
		want string // a fragment of the first problem; "" for none
	}{
		{name: "everything", rec: record(testKeys.prefix, true, 2, all)},
		{name: "from a later revision", rec: record(testKeys.prefix, true, 4, all[2:])},
		{name: "one key", rec: record(testKeys.name(0), false, 2, []watchEvent{all[0], all[2], all[5]})},
		{
			name: "one key, covered by progress",
			rec:  record(testKeys.name(1), false, 2, []watchEvent{all[1], all[3]}, progressMark{Rev: 4, Events: 1}, progressMark{Rev: 7, Events: 2}),
		},
		{
			name: "gap",
			rec:  record(testKeys.prefix, true, 2, []watchEvent{all[0], all[1], all[3], all[4], all[5]}),
			want: "gap: missing rev 4",
		},
		{
			name: "gap at the start",
			rec:  record(testKeys.prefix, true, 2, all[1:]),
			want: "gap: missing rev 2",
		},
		{
			name: "duplicate",
			rec:  record(testKeys.prefix, true, 2, []watchEvent{all[0], all[1], all[1], all[2], all[3], all[4], all[5]}),
			want: "duplicate event: rev 3",
		},
		{
			name: "out of order",
			rec:  record(testKeys.prefix, true, 2, []watchEvent{all[0], all[2], all[1], all[3], all[4], all[5]}),
			want: "revision went back",
		},
		{
			name: "before its start",
			rec:  record(testKeys.prefix, true, 3, all),
			want: "event before the start revision 3",
		},
		{
			name: "wrong value",
			rec:  record(testKeys.prefix, true, 2, []watchEvent{all[0], all[1], putEv(4, 0, "X", 2, 2), all[3], all[4], all[5]}),
			want: "event differs",
		},
		{
			name: "another key",
			rec:  record(testKeys.name(0), false, 2, []watchEvent{all[0], all[1], all[2], all[5]}),
			want: "event on a key not watched",
		},
		{
			name: "stuck before the end",
			rec:  record(testKeys.prefix, true, 2, all[:4]),
			want: "covers revision 5 only, the store reached 7",
		},
		{
			name: "progress promises an event not delivered",
			rec:  record(testKeys.name(1), false, 2, []watchEvent{all[1], all[3]}, progressMark{Rev: 5, Events: 1}, progressMark{Rev: 7, Events: 2}),
			want: "progress notification at revision 5 came after 1 events, but 2",
		},
		{
			name: "error on the stream",
			rec: func() *watchRecord {
				r := record(testKeys.prefix, true, 2, all)
				r.fail("watch failed: boom")
				return r
			}(),
			want: "watch failed: boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := checkWatcher(tt.rec, testLog, 7)
			switch {
			case tt.want == "" && len(probs) > 0:
				t.Errorf("problems in a correct stream: %q", probs)
			case tt.want != "" && len(probs) == 0:
				t.Errorf("no problem found, want %q", tt.want)
			case tt.want != "" && !strings.Contains(probs[0], tt.want):
				t.Errorf("problems %q, want first to contain %q", probs, tt.want)
			}
		})
	}
}

func TestEventLogChecker(t *testing.T) {
	init := kvState{Rev: 1}
	final := kvState{Rev: 7}
	final.Keys[0] = kv("e", 7, 2, 3)
	final.Keys[2] = kv("d", 6, 6, 1)
	acked := []ackedWrite{{Rev: 2, Key: 0, Value: "a"}, {Rev: 5, Key: 1, Delete: true}, {Rev: 7, Key: 0, Value: "e"}}
	attempted := func(v string) bool { return strings.Contains("abcde", v) }
	replace := func(i int, e watchEvent) []watchEvent {
		evs := append([]watchEvent(nil), testLog.events...)
		evs[i] = e
		return evs
	}
	tests := []struct {
		name   string
		events []watchEvent
		final  kvState
		acked  []ackedWrite
		want   string
	}{
		{name: "consistent", events: testLog.events, final: final, acked: acked},
		{
			name:   "gap",
			events: append(append([]watchEvent(nil), testLog.events[:2]...), testLog.events[3:]...),
			final:  final, want: "event log has a gap: no event at revisions 4..4",
		},
		{name: "one value written twice", events: replace(0, putEv(2, 0, "b", 2, 1)), final: final, want: "value written twice"},
		{
			name:   "acknowledged write missing",
			events: testLog.events,
			final:  final,
			acked:  []ackedWrite{{Rev: 4, Key: 0, Value: "z"}},
			want:   `acknowledged write lost: put /t/key0="z" at revision 4`,
		},
		{name: "phantom value", events: replace(4, putEv(6, 2, "q", 6, 1)), final: final, want: "value no client wrote"},
		{name: "wrong version", events: replace(2, putEv(4, 0, "c", 2, 1)), final: final, want: "event metadata"},
		{name: "delete of a missing key", events: replace(4, delEv(6, 2)), final: final, want: "delete of a missing key"},
		{
			name:   "ends before the store",
			events: testLog.events[:5],
			final:  final, want: "event log ends at revision 6",
		},
		{
			name:   "disagrees with the store",
			events: testLog.events,
			final:  func() kvState { s := final; s.Keys[1] = kv("b", 3, 3, 1); return s }(),
			want:   "replaying the event log gives",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := checkEventLog(eventLog{from: 2, events: tt.events}, testKeys, init, tt.final, tt.acked, attempted)
			switch {
			case tt.want == "" && len(probs) > 0:
				t.Errorf("problems in a correct log: %q", probs)
			case tt.want != "" && len(probs) == 0:
				t.Errorf("no problem found, want %q", tt.want)
			case tt.want != "" && !strings.Contains(strings.Join(probs, "\n"), tt.want):
				t.Errorf("problems %q, want one containing %q", probs, tt.want)
			}
		})
	}
}
