package mvcc

// Every write looks up the key's newest version first (for its create
// revision, version, lease and the previous value events carry). On an LSM
// that lookup is a seek through every memtable and level, the most
// expensive step of a put. latestCache remembers the newest committed
// version of recently written or read keys, bounded in bytes, so that the
// key space's hot part is found in memory.
//
// Only the applier goroutine touches it: lookups in write transactions, the
// merge of a batch's writes at Publish, the reset at Restore. A batch's own
// uncommitted writes live in the batch's overlay until Publish.

// latestCacheBytes bounds the cache; entries cost their key, value and a
// fixed overhead. The bound is what keeps memory independent of the key
// count: a heap profile after loading 1,000,000 keys showed the cache as
// the largest live object.
const latestCacheBytes = 16 << 20

// latestEntryOverhead is an entry's cost beyond its key and value bytes:
// the map slot (string header and latestEntry), the key's and value's
// allocation headers and rounding, and the map's spare capacity.
const latestEntryOverhead = 192

// latestEntry is a key's newest version at mod, or its absence (live false:
// never written, deleted, or compacted away after deletion).
type latestEntry struct {
	live bool
	mod  int64
	rec  record // rec.value is owned by the entry and never modified
}

func (e *latestEntry) get() (*record, int64) {
	if !e.live {
		return nil, 0
	}
	rec := e.rec
	return &rec, e.mod
}

func (e *latestEntry) cost(key string) int { return len(key) + len(e.rec.value) + latestEntryOverhead }

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
