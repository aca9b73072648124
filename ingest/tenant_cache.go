package ingest

// tenantCache is a map per tenant bounded by two generations of at most
// size/2 entries each (tenants together): when the current generation
// fills, it becomes the previous one and the one before goes. Lookups
// read both, so an entry lives through at least size/2 insertions after
// its last one. It does no locking; its owner, labelsSent, does.
// knownSeries keeps its generations the same way, of tables of its own.
type tenantCache[K comparable, V any] struct {
	size      int
	cur, prev map[string]map[K]V
	n         int // entries in cur
}

func newTenantCache[K comparable, V any](size int) tenantCache[K, V] {
	return tenantCache[K, V]{size: max(size, 2), cur: map[string]map[K]V{}}
}

// maps returns tenant's current and previous generations, for lookups
// in both; either may be nil.
func (c *tenantCache[K, V]) maps(tenant string) (cur, prev map[K]V) {
	return c.cur[tenant], c.prev[tenant]
}

// put sets k to v in tenant's current generation, starting a new one
// first when the current one is full.
func (c *tenantCache[K, V]) put(tenant string, k K, v V) {
	if c.n >= c.size/2 {
		c.prev, c.cur, c.n = c.cur, map[string]map[K]V{}, 0
	}
	cur := c.cur[tenant]
	if cur == nil {
		cur = map[K]V{}
		c.cur[tenant] = cur
	}
	if _, ok := cur[k]; !ok {
		c.n++
	}
	cur[k] = v
}
