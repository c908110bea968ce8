package v2store

import (
	"strings"
	"time"
)

// Actions, as they appear in events.
const (
	ActionGet              = "get"
	ActionCreate           = "create"
	ActionSet              = "set"
	ActionUpdate           = "update"
	ActionDelete           = "delete"
	ActionCompareAndSwap   = "compareAndSwap"
	ActionCompareAndDelete = "compareAndDelete"
	ActionExpire           = "expire"
)

// NodeExtern is a node as the API shows it. Field order and omissions are
// etcd's.
type NodeExtern struct {
	Key           string        `json:"key,omitempty"`
	Value         *string       `json:"value,omitempty"`
	Dir           bool          `json:"dir,omitempty"`
	Expiration    *time.Time    `json:"expiration,omitempty"`
	TTL           int64         `json:"ttl,omitempty"`
	Nodes         []*NodeExtern `json:"nodes,omitempty"`
	ModifiedIndex uint64        `json:"modifiedIndex,omitempty"`
	CreatedIndex  uint64        `json:"createdIndex,omitempty"`
}

// Event is the outcome of one operation.
type Event struct {
	Action   string      `json:"action"`
	Node     *NodeExtern `json:"node,omitempty"`
	PrevNode *NodeExtern `json:"prevNode,omitempty"`
	// EtcdIndex is the store's index once the operation was done (the
	// X-Etcd-Index header).
	EtcdIndex uint64 `json:"-"`
	// Refresh marks a TTL refresh: kept in the history but not sent to
	// watchers.
	Refresh bool `json:"-"`
}

// Index is the index the event happened at.
func (e *Event) Index() uint64 { return e.Node.ModifiedIndex }

// IsCreated reports whether the event created its node (HTTP 201).
func (e *Event) IsCreated() bool {
	return e.Action == ActionCreate || (e.Action == ActionSet && e.PrevNode == nil)
}

// Render returns a copy of e for a client: keys lose prefix and TTLs are
// counted from now. The store computes no TTLs itself, so that applying
// stays free of clock reads.
func (e *Event) Render(prefix string, now time.Time) *Event {
	c := *e
	c.Node = e.Node.render(prefix, now)
	c.PrevNode = e.PrevNode.render(prefix, now)
	return &c
}

func (n *NodeExtern) render(prefix string, now time.Time) *NodeExtern {
	if n == nil {
		return nil
	}
	c := *n
	c.Key = strings.TrimPrefix(n.Key, prefix)
	if n.Expiration != nil {
		c.TTL = ttlAt(*n.Expiration, now)
	}
	if n.Nodes != nil {
		c.Nodes = make([]*NodeExtern, len(n.Nodes))
		for i, ch := range n.Nodes {
			c.Nodes[i] = ch.render(prefix, now)
		}
	}
	return &c
}

// ttlAt is the number of seconds left, rounded up, as etcd counts it.
func ttlAt(exp, now time.Time) int64 {
	d := exp.Sub(now)
	ttl := d / time.Second
	if d%time.Second > 0 {
		ttl++
	}
	return int64(ttl)
}
