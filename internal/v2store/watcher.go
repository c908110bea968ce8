package v2store

import (
	"path"
	"strings"
	"sync"
)

// Watcher receives the events of one watch. A plain watcher gets one event;
// a stream watcher gets events until removed. If a watcher falls 100 events
// behind its channel is closed.
type Watcher struct {
	ch         chan *Event
	recursive  bool
	stream     bool
	sinceIndex uint64
	startIndex uint64
	hub        *hub
	key        string
	removed    bool
}

// EventChan delivers the events; it is closed when the watcher is removed
// for falling behind.
func (w *Watcher) EventChan() <-chan *Event { return w.ch }

// StartIndex is the store's index when the watch began (X-Etcd-Index).
func (w *Watcher) StartIndex() uint64 { return w.startIndex }

// Remove stops the watcher.
func (w *Watcher) Remove() {
	w.hub.mu.Lock()
	defer w.hub.mu.Unlock()
	w.removeLocked()
}

func (w *Watcher) removeLocked() {
	if w.removed {
		return
	}
	w.removed = true
	close(w.ch)
	l := w.hub.watchers[w.key]
	for i, x := range l {
		if x == w {
			l = append(l[:i:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(w.hub.watchers, w.key)
	} else {
		w.hub.watchers[w.key] = l
	}
	w.hub.count--
}

// notify offers e; it reports whether the watcher was interested.
func (w *Watcher) notify(e *Event, originalPath, deleted bool) bool {
	if (w.recursive || originalPath || deleted) && e.Index() >= w.sinceIndex {
		select {
		case w.ch <- e:
		default:
			// Too slow: drop the watcher rather than block apply.
			w.removeLocked()
		}
		return true
	}
	return false
}

// hub holds the watchers by the path they watch.
type hub struct {
	mu       sync.Mutex
	watchers map[string][]*Watcher
	count    int
}

func (h *hub) add(w *Watcher) {
	h.watchers[w.key] = append(h.watchers[w.key], w)
	h.count++
}

// notify delivers e to the watchers of its key and of every ancestor.
func (h *hub) notify(e *Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	curr := "/"
	for _, seg := range strings.Split(e.Node.Key, "/") {
		curr = path.Join(curr, seg)
		h.notifyPathLocked(e, curr, false)
	}
}

// notifyDeleted tells the watchers of a removed node's path.
func (h *hub) notifyDeleted(e *Event, p string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.notifyPathLocked(e, p, true)
}

func (h *hub) notifyPathLocked(e *Event, p string, deleted bool) {
	l := h.watchers[p]
	if len(l) == 0 {
		return
	}
	original := e.Node.Key == p
	for _, w := range append([]*Watcher(nil), l...) {
		if w.removed {
			continue
		}
		if (original || !isHidden(p, e.Node.Key)) && w.notify(e, original, deleted) && !w.stream && !w.removed {
			w.removed = true
			h.dropLocked(w)
		}
	}
}

// dropLocked unregisters a watcher that got its one event; its channel
// stays open so the event can be read.
func (h *hub) dropLocked(w *Watcher) {
	l := h.watchers[w.key]
	for i, x := range l {
		if x == w {
			l = append(l[:i:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(h.watchers, w.key)
	} else {
		h.watchers[w.key] = l
	}
	h.count--
}

// isHidden reports whether keyPath lies in a hidden node below watchPath.
func isHidden(watchPath, keyPath string) bool {
	if len(watchPath) > len(keyPath) {
		return false
	}
	after := path.Clean("/" + keyPath[len(watchPath):])
	return strings.Contains(after, "/_")
}
