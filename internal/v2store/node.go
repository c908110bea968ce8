package v2store

import (
	"path"
	"sort"
	"time"
)

// node is a key or a directory.
type node struct {
	path     string
	created  uint64
	modified uint64
	value    string
	dir      bool
	expire   time.Time // zero: permanent
	parent   *node
	children map[string]*node // directories only
}

func newDir(p string, index uint64, parent *node, expire time.Time) *node {
	return &node{path: p, created: index, modified: index, dir: true, parent: parent, expire: expire, children: map[string]*node{}}
}

func newKV(p, value string, index uint64, parent *node, expire time.Time) *node {
	return &node{path: p, created: index, modified: index, value: value, parent: parent, expire: expire}
}

func (n *node) name() string { _, name := path.Split(n.path); return name }

func (n *node) permanent() bool { return n.expire.IsZero() }

// hidden nodes (names starting with '_') are left out of listings.
func (n *node) hidden() bool {
	name := n.name()
	return len(name) > 0 && name[0] == '_'
}

// sortedChildren lists a directory's children by name. etcd lists them in
// map order unless asked to sort; sorting always is one of those orders and
// keeps output reproducible.
func (n *node) sortedChildren() []*node {
	out := make([]*node, 0, len(n.children))
	for _, c := range n.children {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

func (n *node) expiration() *time.Time {
	if n.permanent() {
		return nil
	}
	t := n.expire.UTC()
	return &t
}

// extern is the node as clients see it; directories list their children
// only when recursive.
func (n *node) extern(recursive bool) *NodeExtern {
	e := &NodeExtern{Key: n.path, Dir: n.dir, ModifiedIndex: n.modified, CreatedIndex: n.created, Expiration: n.expiration()}
	if !n.dir {
		v := n.value
		e.Value = &v
		return e
	}
	if recursive {
		e.Nodes = n.childExterns(true)
	}
	return e
}

func (n *node) childExterns(recursive bool) []*NodeExtern {
	out := make([]*NodeExtern, 0, len(n.children))
	for _, c := range n.sortedChildren() {
		if !c.hidden() {
			out = append(out, c.extern(recursive))
		}
	}
	return out
}

// compare tests prevValue and prevIndex (each ignored when empty or zero)
// and returns etcd's cause on mismatch.
func (n *node) compare(prevValue string, prevIndex uint64) (bool, string) {
	indexOK := prevIndex == 0 || n.modified == prevIndex
	valueOK := prevValue == "" || n.value == prevValue
	switch {
	case indexOK && valueOK:
		return true, ""
	case indexOK:
		return false, "[" + prevValue + " != " + n.value + "]"
	case valueOK:
		return false, "[" + utoa(prevIndex) + " != " + utoa(n.modified) + "]"
	}
	return false, "[" + prevValue + " != " + n.value + "] [" + utoa(prevIndex) + " != " + utoa(n.modified) + "]"
}
