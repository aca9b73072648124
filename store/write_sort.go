package store

import (
	"cmp"
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
// fingerprint, timestamp). A block that arrives sorted is written as it
// is; one that does not is sorted by the server first, which was the
// largest part of an insert's cost.
//
// The sort is a stable radix sort of row indexes by fingerprint, then a
// stable counting sort by tenant when the batch has more than one, then a
// stable sort by timestamp of each series whose samples did not come in
// time order (a late sample, or two senders' requests crossing), and one
// gather per column: linear in the rows in the common case, and the
// columns are read in place instead of the series they came from. Rows
// with equal keys keep the order they came in, so the replacing engine
// keeps the last one delivered.
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
	x.sortRunsByTime(s.tenant, s.fp, s.ts)
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

// sortRunsByTime sorts, stably by timestamp, each run of x.perm whose rows
// share tenant and fingerprint and are not already in time order.
func (x *sortScratch) sortRunsByTime(tenant []string, fp []uint64, ts []int64) {
	perm := x.perm
	for i := 0; i < len(perm); {
		j, sorted := i+1, true
		for ; j < len(perm); j++ {
			a, b := perm[j-1], perm[j]
			if fp[b] != fp[a] || tenant[b] != tenant[a] {
				break
			}
			if ts[b] < ts[a] {
				sorted = false
			}
		}
		if !sorted {
			slices.SortStableFunc(perm[i:j], func(a, b int32) int { return cmp.Compare(ts[a], ts[b]) })
		}
		i = j
	}
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
