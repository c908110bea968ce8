package mvcc

// Every write looks up the key's newest version first (for its create
// revision, version and lease). On an LSM
// that lookup is a seek through every memtable and level, the most
// expensive step of a put. latestCache remembers the newest committed
// version of recently written or read keys, bounded in bytes, so that the
// key space's hot part is found in memory.
//
// Only the applier goroutine touches it: lookups in write transactions, the
// merge of a batch's writes at Publish, the reset at Restore. A batch's own
// uncommitted writes live in the batch's overlay until Publish.

// latestCacheBytes bounds the cache; entries cost their key and a fixed
// overhead. The bound is what keeps memory independent of the key count: a
// heap profile after loading 1,000,000 keys showed the cache as the largest
// live object. 32 MiB covers about 240,000 keys of 8 bytes: 10-put txns
// over 100,000 keys after 150,000 other puts took 14% less member CPU
// than with 16 MiB (a third of their lookups missed and went to the
// engine's tables).
const latestCacheBytes = 32 << 20

// latestEntryOverhead is an entry's cost beyond its key bytes: the map slot
// (string header and latestEntry) at the map's average spare capacity, and
// the key's allocation rounding. Measured: 112 to 124 bytes with keys of 16
// to 100 bytes.
const latestEntryOverhead = 128

// latestEntry is a key's newest version at mod, or its absence (live false:
// never written, deleted, or compacted away after deletion). It holds the
// version's metadata only: values are read from the engine by the few
// requests that need them (prev_kv, ignore_value, value compares), and
// watchers read previous values themselves, so that the cache covers as
// many keys as its bytes allow.
type latestEntry struct {
	live                        bool
	mod, create, version, lease int64
}

func newLatestEntry(mod int64, rec *record) latestEntry {
	if rec.tombstone {
		return latestEntry{}
	}
	return latestEntry{live: true, mod: mod, create: rec.create, version: rec.version, lease: rec.lease}
}

// get returns the entry's version without its value, or nil.
func (e *latestEntry) get() (*record, int64) {
	if !e.live {
		return nil, 0
	}
	return &record{create: e.create, version: e.version, lease: e.lease}, e.mod
}

func (e *latestEntry) cost(key string) int { return len(key) + latestEntryOverhead }

type latestCache struct {
	m     map[string]latestEntry
	bytes int
}

func (c *latestCache) get(key []byte) (latestEntry, bool) {
	e, ok := c.m[string(key)]
	return e, ok
}

func (c *latestCache) put(key string, e latestEntry) {
	if c.m == nil {
		c.m = make(map[string]latestEntry)
	}
	if old, ok := c.m[key]; ok {
		c.bytes -= old.cost(key)
	}
	c.m[key] = e
	c.bytes += e.cost(key)
	if c.bytes > latestCacheBytes {
		c.shrink()
	}
}

// shrink drops entries in map order (which Go randomizes) down to three
// quarters of the budget: cheap, and unbiased enough for a cache whose
// misses cost one seek.
func (c *latestCache) shrink() {
	for k, e := range c.m {
		if c.bytes <= latestCacheBytes*3/4 {
			return
		}
		c.bytes -= e.cost(k)
		delete(c.m, k)
	}
}

func (c *latestCache) reset() { c.m, c.bytes = nil, 0 }
