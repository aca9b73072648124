package ingest

// generations holds a table (T) per tenant, bounded by two generations of
// at most size/2 entries each (tenants together): when the current
// generation fills, it becomes the previous one and the one before goes.
// Lookups read both, so an entry lives through at least size/2
// insertions after its last one. It does no locking; its owners do.
// tenantCache makes maps of it; knownSeries, tables of its own.
type generations[T any] struct {
	size      int
	cur, prev map[string]T
	n         int // entries in cur
	newTable  func() T
}

func newGenerations[T any](size int, newTable func() T) generations[T] {
	return generations[T]{size: max(size, 2), cur: map[string]T{}, newTable: newTable}
}

// tables returns tenant's current and previous tables, for lookups in
// both; either may be the zero T.
func (g *generations[T]) tables(tenant string) (cur, prev T) {
	return g.cur[tenant], g.prev[tenant]
}

// current returns tenant's table in the current generation for an
// insertion, starting a new generation first when the current one is
// full. The caller calls added when the insertion added an entry.
func (g *generations[T]) current(tenant string) T {
	if g.n >= g.size/2 {
		g.prev, g.cur, g.n = g.cur, map[string]T{}, 0
	}
	t, ok := g.cur[tenant]
	if !ok {
		t = g.newTable()
		g.cur[tenant] = t
	}
	return t
}

func (g *generations[T]) added() { g.n++ }

// tenantCache is a map per tenant in generations.
type tenantCache[K comparable, V any] struct {
	generations[map[K]V]
}

func newTenantCache[K comparable, V any](size int) tenantCache[K, V] {
	return tenantCache[K, V]{newGenerations(size, func() map[K]V { return map[K]V{} })}
}

// maps returns tenant's current and previous generations; either may be
// nil.
func (c *tenantCache[K, V]) maps(tenant string) (cur, prev map[K]V) { return c.tables(tenant) }

// put sets k to v in tenant's current generation.
func (c *tenantCache[K, V]) put(tenant string, k K, v V) {
	cur := c.current(tenant)
	if _, ok := cur[k]; !ok {
		c.added()
	}
	cur[k] = v
}
