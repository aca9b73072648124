package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSeriesCache(t *testing.T) {
	k := func(i int) seriesKey { return seriesKey{tenant: "t", fp: uint64(i), day: 1} }
	c := newSeriesCache(4)
	require.False(t, c.has(k(1)))
	c.add([]seriesKey{k(1), k(2)})
	require.True(t, c.has(k(1)))
	require.False(t, c.has(seriesKey{tenant: "other", fp: 1, day: 1}), "tenants are apart")
	require.False(t, c.has(seriesKey{tenant: "t", fp: 1, day: 2}), "days are apart")

	// Bounded: many keys later, at most 4 remain, and a key in use survives.
	for i := 3; i < 100; i++ {
		c.add([]seriesKey{k(i)})
		require.True(t, c.has(k(1)), "key in use at %d", i)
		require.LessOrEqual(t, c.len(), 4)
	}
	require.False(t, c.has(k(2)), "unused key forgotten")
}

func TestSeriesCacheDisabled(t *testing.T) {
	c := newSeriesCache(0)
	c.add([]seriesKey{{tenant: "t", fp: 1}})
	require.False(t, c.has(seriesKey{tenant: "t", fp: 1}))
	require.Equal(t, 0, c.len())
}
