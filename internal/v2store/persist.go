package v2store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-kv/cairn/internal/storage"
)

// Sub-prefixes under storage.PrefixV2.
const (
	subIndex   = 'i'
	subNode    = 'n'
	subHistory = 'h'
)

var keyIndex = []byte{storage.PrefixV2, subIndex}

func nodeKey(p string) []byte { return append([]byte{storage.PrefixV2, subNode}, p...) }

func historyKey(i uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{storage.PrefixV2, subHistory}, i)
}

// encodeNode: flags (bit 0: directory), created, modified, expiration
// (Unix nanoseconds, 0 = permanent) as uvarints/varint, then the value.
func encodeNode(n *node) []byte {
	var flags uint64
	if n.dir {
		flags = 1
	}
	b := binary.AppendUvarint(nil, flags)
	b = binary.AppendUvarint(b, n.created)
	b = binary.AppendUvarint(b, n.modified)
	var exp int64
	if !n.permanent() {
		exp = n.expire.UnixNano()
	}
	b = binary.AppendVarint(b, exp)
	return append(b, n.value...)
}

// ErrCorrupt: a v2 record in the engine cannot be decoded.
var ErrCorrupt = errors.New("v2store: corrupt record")

func decodeNode(p string, b []byte) (*node, error) {
	var vals [3]uint64
	for i := range vals {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, fmt.Errorf("%w: node %q", ErrCorrupt, p)
		}
		vals[i], b = v, b[k:]
	}
	exp, k := binary.Varint(b)
	if k <= 0 || vals[0] > 1 {
		return nil, fmt.Errorf("%w: node %q", ErrCorrupt, p)
	}
	n := &node{path: p, created: vals[1], modified: vals[2], dir: vals[0] == 1, value: string(b[k:])}
	if exp != 0 {
		n.expire = time.Unix(0, exp)
	}
	if n.dir {
		n.children = map[string]*node{}
	}
	return n, nil
}

type historyRecord struct {
	Event   *Event `json:"e"`
	Refresh bool   `json:"r,omitempty"`
	Index   uint64 `json:"i"`
}

func (s *Store) putNode(n *node) {
	if s.batch != nil {
		must(s.batch.Set(nodeKey(n.path), encodeNode(n), nil))
	}
}

func (s *Store) deleteNode(n *node) {
	if s.batch != nil {
		must(s.batch.Delete(nodeKey(n.path), nil))
	}
}

func (s *Store) putIndex() {
	if s.batch != nil {
		must(s.batch.Set(keyIndex, storage.PutUint64(s.index), nil))
	}
}

func (s *Store) putHistory(e *Event) {
	if s.batch == nil {
		return
	}
	b, err := json.Marshal(historyRecord{Event: e, Refresh: e.Refresh, Index: e.EtcdIndex})
	must(err)
	must(s.batch.Set(historyKey(e.Index()), b, nil))
}

func (s *Store) deleteHistory(i uint64) {
	if s.batch != nil {
		must(s.batch.Delete(historyKey(i), nil))
	}
}

// must: a failed write into an engine batch leaves the state machine
// unknown; apply treats it as fatal.
func must(err error) {
	if err != nil {
		panic(fmt.Sprintf("v2store: engine write failed: %v", err))
	}
}

// Load builds the store from the engine's v2 records (after a restart or a
// state snapshot). Watchers are not kept: a reload ends them.
func Load(r pebble.Reader) (*Store, error) {
	s := New()
	idx, err := storage.GetUint64(r, keyIndex)
	if err != nil {
		return nil, err
	}
	s.index = idx
	lower := []byte{storage.PrefixV2, subNode}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: []byte{storage.PrefixV2, subNode + 1}})
	if err != nil {
		return nil, err
	}
	// Keys sort parents before children ("/a" < "/a/b"), so each node's
	// directory already exists when it is read.
	for it.First(); it.Valid(); it.Next() {
		p := string(it.Key()[2:])
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return nil, err
		}
		n, err := decodeNode(p, v)
		if err != nil {
			it.Close()
			return nil, err
		}
		if err := s.link(n); err != nil {
			it.Close()
			return nil, err
		}
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	it, err = r.NewIter(&pebble.IterOptions{LowerBound: []byte{storage.PrefixV2, subHistory}, UpperBound: []byte{storage.PrefixV2, subHistory + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		var rec historyRecord
		if err := json.Unmarshal(it.Value(), &rec); err != nil || rec.Event == nil || rec.Event.Node == nil {
			return nil, fmt.Errorf("%w: history event %x", ErrCorrupt, it.Key())
		}
		rec.Event.Refresh, rec.Event.EtcdIndex = rec.Refresh, rec.Index
		s.hist.add(rec.Event)
	}
	return s, nil
}

func (s *Store) link(n *node) error {
	if !strings.HasPrefix(n.path, "/") || n.path == "/" || cleanPath(n.path) != n.path {
		return fmt.Errorf("%w: node path %q", ErrCorrupt, n.path)
	}
	if s.readonly[n.path] {
		return nil // the fixed directories exist already
	}
	dirName, name := splitPath(n.path)
	d, err := s.getLocked(dirName)
	if err != nil || !d.dir {
		return fmt.Errorf("%w: node %q has no directory", ErrCorrupt, n.path)
	}
	n.parent = d
	d.children[name] = n
	if !n.permanent() {
		s.ttl[n] = struct{}{}
	}
	return nil
}

func splitPath(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	return p[:i+1], p[i+1:]
}

// Reload replaces the store's contents with the engine's (after a state
// snapshot was installed). Current watchers are ended: their channels
// close, as etcd ends its watchers when it recovers from a snapshot.
func (s *Store) Reload(r pebble.Reader) error {
	n, err := Load(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.root, s.index, s.ttl, s.hist = n.root, n.index, n.ttl, n.hist
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	for _, l := range s.hub.watchers {
		for _, w := range l {
			if !w.removed {
				w.removed = true
				close(w.ch)
			}
		}
	}
	s.hub.watchers = map[string][]*Watcher{}
	s.hub.count = 0
	return nil
}
