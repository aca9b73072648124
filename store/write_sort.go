package store

import (
	"slices"
	"strings"
)

// sortScratch holds the buffers of writeBatch.sortRows, kept with the
// batch so that the steady state does not allocate.
type sortScratch struct {
	keys, keys2 []uint64
	perm, perm2 []int32
	tenant      []string
	fp          []uint64
	ts          []int64
	val         []float64
	flags       []uint8
	rank        map[string]int32
}

// sortRows puts the sample rows in the samples table's sort order (tenant,
// fingerprint, timestamp), keeping rows with the same tenant and
// fingerprint in the order they came: time order, since a series' samples
// arrive in time order and a batch holds a series once per round, in the
// order its partition delivered them. A block that arrives sorted is
// written as it is; one that does not is sorted by the server first, which
// was the largest part of an insert's cost. Rows out of time order (a
// late sample) only cost the server its sort again.
//
// The sort is a stable radix sort of row indexes by fingerprint, then a
// stable counting sort by tenant when the batch has more than one, and
// one gather per column: linear in the rows, and the columns are read in
// place instead of the series they came from.
func (b *writeBatch) sortRows() {
	s := &b.samples
	if rowsSorted(s.tenant, s.fp, s.ts) {
		return
	}
	n := len(s.fp)
	x := &b.sort
	x.keys = append(x.keys[:0], s.fp...)
	x.keys2 = slices.Grow(x.keys2[:0], n)[:n]
	x.perm = slices.Grow(x.perm[:0], n)[:n]
	x.perm2 = slices.Grow(x.perm2[:0], n)[:n]
	for i := range x.perm {
		x.perm[i] = int32(i)
	}
	var count [256]int
	for shift := uint(0); shift < 64; shift += 8 {
		clear(count[:])
		for _, k := range x.keys {
			count[byte(k>>shift)]++
		}
		if count[byte(x.keys[0]>>shift)] == n {
			continue // every key has this digit
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for i, k := range x.keys {
			d := byte(k >> shift)
			x.keys2[count[d]], x.perm2[count[d]] = k, x.perm[i]
			count[d]++
		}
		x.keys, x.keys2 = x.keys2, x.keys
		x.perm, x.perm2 = x.perm2, x.perm
	}
	if !oneString(s.tenant) {
		x.sortByTenant(s.tenant)
	}
	x.tenant = gather(x.tenant, s.tenant, x.perm)
	x.fp = gather(x.fp, s.fp, x.perm)
	x.ts = gather(x.ts, s.ts, x.perm)
	x.val = gather(x.val, s.val, x.perm)
	x.flags = gather(x.flags, s.flags, x.perm)
	s.tenant, x.tenant = x.tenant, s.tenant
	s.fp, x.fp = x.fp, s.fp
	s.ts, x.ts = x.ts, s.ts
	s.val, x.val = x.val, s.val
	s.flags, x.flags = x.flags, s.flags
	clear(x.tenant) // the old column: the pooled batch keeps no strings alive
}

// sortByTenant reorders x.perm stably by the tenant of each row.
func (x *sortScratch) sortByTenant(tenants []string) {
	if x.rank == nil {
		x.rank = make(map[string]int32)
	}
	clear(x.rank)
	var names []string
	for _, t := range tenants {
		if _, ok := x.rank[t]; !ok {
			x.rank[t] = 0
			names = append(names, t)
		}
	}
	slices.SortFunc(names, strings.Compare)
	for i, t := range names {
		x.rank[t] = int32(i)
	}
	starts := make([]int, len(names)+1)
	for _, i := range x.perm {
		starts[x.rank[tenants[i]]+1]++
	}
	for r := 1; r < len(starts); r++ {
		starts[r] += starts[r-1]
	}
	for _, i := range x.perm {
		r := x.rank[tenants[i]]
		x.perm2[starts[r]] = i
		starts[r]++
	}
	x.perm, x.perm2 = x.perm2, x.perm
	clear(x.rank)
}

// gather returns dst holding src[perm[0]], src[perm[1]], …
func gather[T any](dst, src []T, perm []int32) []T {
	dst = slices.Grow(dst[:0], len(perm))[:len(perm)]
	for i, p := range perm {
		dst[i] = src[p]
	}
	return dst
}

// rowsSorted reports whether the rows are in (tenant, fingerprint,
// timestamp) order.
func rowsSorted(tenant []string, fp []uint64, ts []int64) bool {
	for i := 1; i < len(fp); i++ {
		if tenant[i] != tenant[i-1] {
			if tenant[i] < tenant[i-1] {
				return false
			}
			continue
		}
		if fp[i] < fp[i-1] || fp[i] == fp[i-1] && ts[i] < ts[i-1] {
			return false
		}
	}
	return true
}

// oneString reports whether every element of ss is the same string.
func oneString(ss []string) bool {
	for _, s := range ss {
		if s != ss[0] {
			return false
		}
	}
	return true
}
