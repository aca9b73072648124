package store

import "sync"

// seriesKey is one row of the series table: a series on a day.
type seriesKey struct {
	tenant string
	fp     uint64
	day    int64 // days since 1970-01-01, UTC
}

// seriesCache remembers series keys the writer has already inserted into
// the series tables, so steady-state writes touch only samples. It holds
// at most size keys in two generations: lookups hit either, inserts go to
// the current one, and when that is full the previous generation is
// dropped. A key in use is thus never forgotten for longer than one
// generation, and memory stays bounded without per-entry bookkeeping.
//
// Forgetting a key costs one redundant row, which ReplacingMergeTree
// merges away; remembering a key the database lost (a dropped table)
// would hide series, which is why the cache lives no longer than the
// Client.
type seriesCache struct {
	mu       sync.Mutex
	half     int // keys per generation; 0 disables the cache
	cur, old map[seriesKey]struct{}
}

func newSeriesCache(size int) *seriesCache {
	c := &seriesCache{half: size / 2}
	if size > 0 && c.half == 0 {
		c.half = 1
	}
	c.cur = make(map[seriesKey]struct{})
	return c
}

// has reports whether k is known to be written.
func (c *seriesCache) has(k seriesKey) bool {
	if c.half == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[k]; ok {
		return true
	}
	if _, ok := c.old[k]; ok {
		c.addLocked(k) // promote, so keys in use survive rotation
		return true
	}
	return false
}

// add records ks as written.
func (c *seriesCache) add(ks []seriesKey) {
	if c.half == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range ks {
		c.addLocked(k)
	}
}

func (c *seriesCache) addLocked(k seriesKey) {
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[seriesKey]struct{}, c.half)
	}
	c.cur[k] = struct{}{}
}

// len is the number of keys held, for tests.
func (c *seriesCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
