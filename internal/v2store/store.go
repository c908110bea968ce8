package v2store

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Namespaces of the tree, as etcd lays it out: the cluster's own records
// under /0, the keys of /v2/keys under /1.
const (
	ClusterPrefix = "/0"
	KeysPrefix    = "/1"
)

// minExpireTime: expiration times before it are taken as permanent (etcd
// does the same with times lost in a JSON round trip).
var minExpireTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Store is the v2 tree. Apply and the membership hooks change it (from the
// applier goroutine); Get and Watch may run concurrently with them.
type Store struct {
	mu       sync.RWMutex
	root     *node
	index    uint64
	ttl      map[*node]struct{}
	hist     history
	hub      hub
	stats    Stats
	batch    *pebble.Batch // set while applying; nil in tests without an engine
	readonly map[string]bool
}

// New returns an empty store with the /0 and /1 directories.
func New() *Store {
	s := &Store{
		root:     newDir("/", 0, nil, time.Time{}),
		ttl:      map[*node]struct{}{},
		hub:      hub{watchers: map[string][]*Watcher{}},
		readonly: map[string]bool{"/": true, ClusterPrefix: true, KeysPrefix: true},
	}
	for _, p := range []string{ClusterPrefix, KeysPrefix} {
		s.root.children[p[1:]] = newDir(p, 0, s.root, time.Time{})
	}
	return s
}

// Index is the current etcd index.
func (s *Store) Index() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.index
}

// HasTTLKeys reports whether any node has an expiration (the leader then
// proposes SYNC requests).
func (s *Store) HasTTLKeys() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.ttl) > 0
}

func cleanPath(p string) string { return path.Clean(path.Join("/", p)) }

// walk follows p from the root, calling step for each component.
func (s *Store) walk(p string, step func(parent *node, name string) (*node, *Error)) (*node, *Error) {
	curr := s.root
	for _, c := range strings.Split(p, "/")[1:] {
		if c == "" {
			return curr, nil
		}
		var err *Error
		if curr, err = step(curr, c); err != nil {
			return nil, err
		}
	}
	return curr, nil
}

func (s *Store) getLocked(p string) (*node, *Error) {
	p = cleanPath(p)
	return s.walk(p, func(parent *node, name string) (*node, *Error) {
		if !parent.dir {
			return nil, NewError(EcodeNotDir, parent.path, s.index)
		}
		if c, ok := parent.children[name]; ok {
			return c, nil
		}
		return nil, NewError(EcodeKeyNotFound, path.Join(parent.path, name), s.index)
	})
}

// Get reads a node; directories list their children (and theirs, when
// recursive). sorted is accepted for compatibility: listings are always in
// key order.
func (s *Store) Get(p string, recursive, sorted bool) (*Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, err := s.getLocked(p)
	s.stats.countGet(err, recursive)
	if err != nil {
		return nil, err
	}
	e := &Event{Action: ActionGet, EtcdIndex: s.index}
	e.Node = &NodeExtern{Key: cleanPath(p), Dir: n.dir, ModifiedIndex: n.modified, CreatedIndex: n.created, Expiration: n.expiration()}
	if n.dir {
		e.Node.Nodes = n.childExterns(recursive)
	} else {
		v := n.value
		e.Node.Value = &v
	}
	return e, nil
}

// Watch watches p (and below it, if recursive) from sinceIndex (0: from
// the next change). An event still in the history is delivered at once.
func (s *Store) Watch(p string, recursive, stream bool, sinceIndex uint64) (*Watcher, error) {
	s.stats.inc(&s.stats.WatchRequests)
	s.mu.RLock()
	defer s.mu.RUnlock()
	p = cleanPath(p)
	if sinceIndex == 0 {
		sinceIndex = s.index + 1
	}
	e, err := s.hist.scan(p, recursive, sinceIndex)
	if err != nil {
		err.Index = s.index
		return nil, err
	}
	w := &Watcher{ch: make(chan *Event, 100), recursive: recursive, stream: stream, sinceIndex: sinceIndex, startIndex: s.index, hub: &s.hub, key: p}
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if e != nil {
		c := *e
		c.EtcdIndex = s.index
		w.ch <- &c
		if !stream {
			w.removed = true
			return w, nil
		}
	}
	s.hub.add(w)
	return w, nil
}

// Request is a v2 change carried through raft. Expiration is the absolute
// time (Unix nanoseconds) a TTL ends, computed by the proposing member;
// Time is the leader's clock in a SYNC request.
type Request struct {
	Method     string `json:"method"`
	Path       string `json:"path,omitempty"`
	Val        string `json:"val,omitempty"`
	Dir        bool   `json:"dir,omitempty"`
	PrevValue  string `json:"prevValue,omitempty"`
	PrevIndex  uint64 `json:"prevIndex,omitempty"`
	PrevExist  *bool  `json:"prevExist,omitempty"`
	Expiration int64  `json:"expiration,omitempty"`
	Refresh    bool   `json:"refresh,omitempty"`
	Recursive  bool   `json:"recursive,omitempty"`
	Time       int64  `json:"time,omitempty"`
}

// Methods of Request besides the HTTP ones.
const MethodSync = "SYNC"

func (r *Request) expireTime() time.Time {
	if r.Expiration == 0 {
		return time.Time{}
	}
	t := time.Unix(0, r.Expiration)
	if t.Before(minExpireTime) {
		return time.Time{}
	}
	return t
}

// Apply applies a committed request, writing every change to b (which may
// be nil). It is deterministic. A SYNC request returns a nil event.
func (s *Store) Apply(b *pebble.Batch, r *Request) (*Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batch = b
	defer func() { s.batch = nil }()
	exp := r.expireTime()
	var e *Event
	var err *Error
	switch r.Method {
	case "POST":
		e, err = s.create(r.Path, r.Dir, r.Val, true, exp)
		s.stats.count(err, &s.stats.CreateSuccess, &s.stats.CreateFail)
	case "PUT":
		switch {
		case r.PrevExist != nil && *r.PrevExist && r.PrevIndex == 0 && r.PrevValue == "":
			e, err = s.update(r.Path, r.Val, exp, r.Refresh)
			if err == nil && e == nil {
				// etcd cannot update a directory's value: it answers a raw
				// (non-v2) error, which clients see as error 300.
				return nil, fmt.Errorf("nodePath %v : %v", cleanPath(r.Path), NewError(EcodeNotFile, "", 0))
			}
			s.stats.count(err, &s.stats.UpdateSuccess, &s.stats.UpdateFail)
		case r.PrevExist != nil && *r.PrevExist, r.PrevExist == nil && (r.PrevIndex > 0 || r.PrevValue != ""):
			e, err = s.compareAndSwap(r.Path, r.PrevValue, r.PrevIndex, r.Val, exp, r.Refresh)
			s.stats.count(err, &s.stats.CompareAndSwapSuccess, &s.stats.CompareAndSwapFail)
		case r.PrevExist != nil:
			e, err = s.create(r.Path, r.Dir, r.Val, false, exp)
			s.stats.count(err, &s.stats.CreateSuccess, &s.stats.CreateFail)
		default:
			e, err = s.set(r.Path, r.Dir, r.Val, exp, r.Refresh)
			s.stats.count(err, &s.stats.SetSuccess, &s.stats.SetFail)
		}
	case "DELETE":
		if r.PrevIndex > 0 || r.PrevValue != "" {
			e, err = s.compareAndDelete(r.Path, r.PrevValue, r.PrevIndex)
			s.stats.count(err, &s.stats.CompareAndDeleteSuccess, &s.stats.CompareAndDeleteFail)
		} else {
			e, err = s.delete(r.Path, r.Dir, r.Recursive)
			s.stats.count(err, &s.stats.DeleteSuccess, &s.stats.DeleteFail)
		}
	case MethodSync:
		s.deleteExpired(time.Unix(0, r.Time))
		return nil, nil
	default:
		return nil, fmt.Errorf("etcdserver: unknown method")
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Record advances the index for a change to the cluster's own records,
// which etcd 3.5 kept in this store under /0 (a member added, its
// attributes published, the cluster version set...). Only the index and the
// history see it: the records themselves live in package membership.
func (s *Store) Record(b *pebble.Batch, action, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batch = b
	defer func() { s.batch = nil }()
	s.setIndex(s.index + 1)
	e := &Event{Action: action, Node: &NodeExtern{Key: key, ModifiedIndex: s.index, CreatedIndex: s.index}, EtcdIndex: s.index}
	s.addEvent(e)
}

// checkDir is the walk step that creates missing directories.
func (s *Store) checkDir(parent *node, name string) (*node, *Error) {
	if c, ok := parent.children[name]; ok {
		if c.dir {
			return c, nil
		}
		return nil, NewError(EcodeNotDir, c.path, s.index)
	}
	c := newDir(path.Join(parent.path, name), s.index+1, parent, time.Time{})
	parent.children[name] = c
	s.putNode(c)
	return c, nil
}

func (s *Store) create(p string, dir bool, value string, unique bool, exp time.Time) (*Event, *Error) {
	e, err := s.internalCreate(p, dir, value, unique, false, exp, ActionCreate)
	if err != nil {
		return nil, err
	}
	s.notify(e)
	return e, nil
}

func (s *Store) set(p string, dir bool, value string, exp time.Time, refresh bool) (*Event, *Error) {
	n, getErr := s.getLocked(p)
	if getErr != nil && getErr.Code != EcodeKeyNotFound {
		return nil, getErr
	}
	if refresh {
		if getErr != nil {
			return nil, getErr
		}
		value = n.value
	}
	e, err := s.internalCreate(p, dir, value, false, true, exp, ActionSet)
	if err != nil {
		return nil, err
	}
	if refresh {
		e.Refresh = true
		s.addEvent(e)
	} else {
		s.notify(e)
	}
	return e, nil
}

func (s *Store) internalCreate(p string, dir bool, value string, unique, replace bool, exp time.Time, action string) (*Event, *Error) {
	curr, next := s.index, s.index+1
	if unique {
		p += "/" + fmt.Sprintf("%020d", next)
	}
	p = cleanPath(p)
	if s.readonly[p] {
		return nil, NewError(EcodeRootROnly, "/", curr)
	}
	dirName, name := path.Split(p)
	d, err := s.walk(dirName, s.checkDir)
	if err != nil {
		err.Index = curr
		return nil, err
	}
	e := &Event{Action: action, Node: &NodeExtern{Key: p, ModifiedIndex: next, CreatedIndex: next}}
	if old, ok := d.children[name]; ok {
		if !replace {
			return nil, NewError(EcodeNodeExist, p, curr)
		}
		if old.dir {
			return nil, NewError(EcodeNotFile, p, curr)
		}
		e.PrevNode = old.extern(false)
		s.removeNode(old, nil)
	}
	var n *node
	if dir {
		e.Node.Dir = true
		n = newDir(p, next, d, exp)
	} else {
		v := value
		e.Node.Value = &v
		n = newKV(p, value, next, d, exp)
	}
	d.children[name] = n
	if !n.permanent() {
		s.ttl[n] = struct{}{}
		e.Node.Expiration = n.expiration()
	}
	s.putNode(n)
	s.setIndex(next)
	e.EtcdIndex = next
	return e, nil
}

// update changes a key's value or TTL. It returns a nil event for a
// directory (see Apply).
func (s *Store) update(p, value string, exp time.Time, refresh bool) (*Event, *Error) {
	p = cleanPath(p)
	if s.readonly[p] {
		return nil, NewError(EcodeRootROnly, "/", s.index)
	}
	curr, next := s.index, s.index+1
	n, err := s.getLocked(p)
	if err != nil {
		return nil, err
	}
	if n.dir && value != "" {
		return nil, NewError(EcodeNotFile, p, curr)
	}
	if n.dir {
		return nil, nil
	}
	if refresh {
		value = n.value
	}
	e := &Event{Action: ActionUpdate, Node: &NodeExtern{Key: p, ModifiedIndex: next, CreatedIndex: n.created}, EtcdIndex: next}
	e.PrevNode = n.extern(false)
	n.value, n.modified = value, next
	v := value
	e.Node.Value = &v
	s.setTTL(n, exp)
	e.Node.Expiration = n.expiration()
	s.putNode(n)
	s.setIndex(next)
	if refresh {
		e.Refresh = true
		s.addEvent(e)
	} else {
		s.notify(e)
	}
	return e, nil
}

func (s *Store) compareAndSwap(p, prevValue string, prevIndex uint64, value string, exp time.Time, refresh bool) (*Event, *Error) {
	p = cleanPath(p)
	if s.readonly[p] {
		return nil, NewError(EcodeRootROnly, "/", s.index)
	}
	n, err := s.getLocked(p)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, NewError(EcodeNotFile, p, s.index)
	}
	if ok, cause := n.compare(prevValue, prevIndex); !ok {
		return nil, NewError(EcodeTestFailed, cause, s.index)
	}
	if refresh {
		value = n.value
	}
	next := s.index + 1
	e := &Event{Action: ActionCompareAndSwap, Node: &NodeExtern{Key: p, ModifiedIndex: next, CreatedIndex: n.created}, EtcdIndex: next}
	e.PrevNode = n.extern(false)
	n.value, n.modified = value, next
	s.setTTL(n, exp)
	v := value
	e.Node.Value = &v
	e.Node.Expiration = n.expiration()
	s.putNode(n)
	s.setIndex(next)
	if refresh {
		e.Refresh = true
		s.addEvent(e)
	} else {
		s.notify(e)
	}
	return e, nil
}

func (s *Store) delete(p string, dir, recursive bool) (*Event, *Error) {
	p = cleanPath(p)
	if s.readonly[p] {
		return nil, NewError(EcodeRootROnly, "/", s.index)
	}
	if recursive {
		dir = true
	}
	n, err := s.getLocked(p)
	if err != nil {
		return nil, err
	}
	if n.dir && !dir {
		return nil, NewError(EcodeNotFile, n.path, s.index)
	}
	if n.dir && len(n.children) > 0 && !recursive {
		return nil, NewError(EcodeDirNotEmpty, n.path, s.index)
	}
	next := s.index + 1
	e := &Event{Action: ActionDelete, Node: &NodeExtern{Key: p, Dir: n.dir, ModifiedIndex: next, CreatedIndex: n.created}, EtcdIndex: next}
	e.PrevNode = n.extern(false)
	s.removeNode(n, e)
	s.setIndex(next)
	s.notify(e)
	return e, nil
}

func (s *Store) compareAndDelete(p, prevValue string, prevIndex uint64) (*Event, *Error) {
	p = cleanPath(p)
	n, err := s.getLocked(p)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, NewError(EcodeNotFile, p, s.index)
	}
	if ok, cause := n.compare(prevValue, prevIndex); !ok {
		return nil, NewError(EcodeTestFailed, cause, s.index)
	}
	next := s.index + 1
	e := &Event{Action: ActionCompareAndDelete, Node: &NodeExtern{Key: p, ModifiedIndex: next, CreatedIndex: n.created}, EtcdIndex: next}
	e.PrevNode = n.extern(false)
	s.removeNode(n, e)
	s.setIndex(next)
	s.notify(e)
	return e, nil
}

// deleteExpired removes every node whose expiration is at or before
// cutoff, oldest expiration first (ties by path, so every member removes
// them in the same order and gives the same indexes).
func (s *Store) deleteExpired(cutoff time.Time) {
	var due []*node
	for n := range s.ttl {
		if !n.expire.After(cutoff) {
			due = append(due, n)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].expire.Equal(due[j].expire) {
			return due[i].expire.Before(due[j].expire)
		}
		return due[i].path < due[j].path
	})
	for _, n := range due {
		if _, live := s.ttl[n]; !live {
			continue // went with an expired parent
		}
		next := s.index + 1
		e := &Event{Action: ActionExpire, Node: &NodeExtern{Key: n.path, Dir: n.dir, ModifiedIndex: next, CreatedIndex: n.created}, EtcdIndex: next}
		e.PrevNode = n.extern(false)
		s.removeNode(n, e)
		s.setIndex(next)
		s.stats.inc(&s.stats.ExpireCount)
		s.notify(e)
	}
}

// removeNode unlinks n and everything below it, telling the watchers of
// each removed path when e is set.
func (s *Store) removeNode(n *node, e *Event) {
	for _, c := range n.sortedChildren() {
		s.removeNode(c, e)
	}
	if n.parent != nil && n.parent.children[n.name()] == n {
		delete(n.parent.children, n.name())
	}
	delete(s.ttl, n)
	s.deleteNode(n)
	if e != nil {
		s.hub.notifyDeleted(e, n.path)
	}
}

func (s *Store) setTTL(n *node, exp time.Time) {
	n.expire = exp
	if exp.IsZero() {
		delete(s.ttl, n)
	} else {
		s.ttl[n] = struct{}{}
	}
}

func (s *Store) notify(e *Event) {
	s.addEvent(e)
	s.hub.notify(e)
}

func (s *Store) addEvent(e *Event) {
	if dropped := s.hist.add(e); dropped != nil {
		s.deleteHistory(dropped.Index())
	}
	s.putHistory(e)
}

func (s *Store) setIndex(i uint64) {
	s.index = i
	s.putIndex()
}

func utoa(v uint64) string { return strconv.FormatUint(v, 10) }
