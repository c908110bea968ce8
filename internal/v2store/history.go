package v2store

import (
	"fmt"
	"path"
	"strings"
)

// HistorySize is how many events a waitIndex watch can look back over.
const HistorySize = 1000

// history is the ring of the last HistorySize events. Every index the store
// gives out has exactly one event, so an index maps to a ring slot.
type history struct {
	events []*Event // oldest first
}

// add appends e and returns the event that fell out, if any.
func (h *history) add(e *Event) (dropped *Event) {
	if len(h.events) == HistorySize {
		dropped = h.events[0]
		h.events = append(h.events[:0:0], h.events[1:]...)
	}
	h.events = append(h.events, e)
	return dropped
}

func (h *history) startIndex() uint64 {
	if len(h.events) == 0 {
		return 0
	}
	return h.events[0].Index()
}

func (h *history) lastIndex() uint64 {
	if len(h.events) == 0 {
		return 0
	}
	return h.events[len(h.events)-1].Index()
}

// scan returns the first event at or after index that a watcher on key
// would see, nil if none happened yet, or error 401 if index is older than
// the history.
func (h *history) scan(key string, recursive bool, index uint64) (*Event, *Error) {
	start := h.startIndex()
	if index < start {
		return nil, NewError(EcodeEventIndexCleared, fmt.Sprintf("the requested history has been cleared [%v/%v]", start, index), 0)
	}
	if index > h.lastIndex() {
		return nil, nil
	}
	prefix := path.Clean(key)
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	for _, e := range h.events[index-start:] {
		if e.Refresh {
			continue
		}
		ok := e.Node.Key == key || (recursive && strings.HasPrefix(e.Node.Key, prefix))
		if (e.Action == ActionDelete || e.Action == ActionExpire) && e.PrevNode != nil && e.PrevNode.Dir {
			ok = ok || strings.HasPrefix(key, e.PrevNode.Key)
		}
		if ok {
			return e, nil
		}
	}
	return nil, nil
}
