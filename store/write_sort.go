package store

import (
	"cmp"
	"math"
	"math/bits"
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

// The radix sort orders rows by at most radixBits of the fingerprint, in
// passes of radixDigit bits: the highest bits in which the batch's
// fingerprints differ. Fingerprints are hashes, so 22 bits tell apart
// nearly every series of a batch (10,000 series collide in about a dozen
// pairs), and rows whose bits tie are ordered afterwards by a sort of
// each tie. Two passes over the rows instead of eight.
const (
	radixDigit = 11
	radixBits  = 2 * radixDigit
)

// sortRows puts the sample rows in the samples table's sort order (tenant,
// fingerprint, timestamp). A block that arrives sorted is written as it
// is; one that does not is sorted by the server first, which was the
// largest part of an insert's cost.
//
// The sort is a stable radix sort of row indexes by the high bits of the
// fingerprint (radixBits), then a stable counting sort by tenant when the
// batch has more than one, then a stable sort by fingerprint and
// timestamp of each run of rows that tie on both and are not in order (a
// late sample, two senders' requests crossing, or two series whose high
// bits agree), and one gather per column: linear in the rows in the
// common case, and the columns are read in place instead of the series
// they came from. Rows with equal keys keep the order they came in, so
// the replacing engine keeps the last one delivered.
func (b *writeBatch) sortRows() {
	s := &b.samples
	if len(s.fp) > math.MaxInt32 || rowsSorted(s.tenant, s.fp, s.ts) {
		// Row indexes are 32 bits (sortByFingerprint); a block of more
		// rows than that is the server's to sort.
		return
	}
	x := &b.sort
	shift := x.sortByFingerprint(s.fp)
	one := oneString(s.tenant)
	if !one {
		x.sortByTenant(s.tenant)
	}
	x.fp = gather(x.fp, s.fp, x.perm)
	x.ts = gather(x.ts, s.ts, x.perm)
	x.sortTies(s.tenant, s.fp, s.ts, shift, one)
	x.val = gather(x.val, s.val, x.perm)
	x.flags = gather(x.flags, s.flags, x.perm)
	s.fp, x.fp = x.fp, s.fp
	s.ts, x.ts = x.ts, s.ts
	s.val, x.val = x.val, s.val
	s.flags, x.flags = x.flags, s.flags
	if one {
		return // every order of the tenant column is the same column
	}
	x.tenant = gather(x.tenant, s.tenant, x.perm)
	s.tenant, x.tenant = x.tenant, s.tenant
	clear(x.tenant) // the old column: the scratch keeps no strings alive
}

// sortByFingerprint sets x.perm to the row indexes ordered stably by the
// high bits of fp, those from the highest bit in which two fingerprints
// differ down radixBits, and returns by how much a fingerprint is shifted
// right to leave those bits. Each key holds the bits above the row index,
// so that a pass moves one array and rows that tie stay in arrival order.
func (x *sortScratch) sortByFingerprint(fp []uint64) (shift int) {
	n := len(fp)
	var diff uint64
	for _, f := range fp {
		diff |= f ^ fp[0]
	}
	shift = max(bits.Len64(diff)-radixBits, 0)
	x.keys = slices.Grow(x.keys[:0], n)[:n]
	x.keys2 = slices.Grow(x.keys2[:0], n)[:n]
	for i, f := range fp {
		x.keys[i] = (f>>shift)<<32 | uint64(i)
	}
	var count [1 << radixDigit]int
	for d := 32; d < 32+radixBits; d += radixDigit {
		clear(count[:])
		for _, k := range x.keys {
			count[k>>d&(1<<radixDigit-1)]++
		}
		if count[x.keys[0]>>d&(1<<radixDigit-1)] == n {
			continue // every key has this digit
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range x.keys {
			i := k >> d & (1<<radixDigit - 1)
			x.keys2[count[i]] = k
			count[i]++
		}
		x.keys, x.keys2 = x.keys2, x.keys
	}
	x.perm = slices.Grow(x.perm[:0], n)[:n]
	x.perm2 = slices.Grow(x.perm2[:0], n)[:n]
	for i, k := range x.keys {
		x.perm[i] = int32(uint32(k))
	}
	return shift
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

// sortTies finishes the sort of x.perm, whose rows are in order by
// tenant and fingerprint>>shift, and x.fp and x.ts, the fingerprints and
// timestamps gathered in that order: each run of rows that tie on both
// and are not in (fingerprint, timestamp) order is sorted stably, with
// its part of x.fp and x.ts (insertTies). Only such a run can be out of
// order, so the rows are checked in sequence and a run found only where
// two rows are. one says that every row has the same tenant.
func (x *sortScratch) sortTies(tenant []string, fp []uint64, ts []int64, shift int, one bool) {
	perm, gfp, gts := x.perm, x.fp, x.ts
	tie := func(a, b int) bool {
		return gfp[a]>>shift == gfp[b]>>shift && (one || tenant[perm[a]] == tenant[perm[b]])
	}
	for j := 1; j < len(perm); j++ {
		if gfp[j] > gfp[j-1] || gfp[j] == gfp[j-1] && gts[j] >= gts[j-1] || !tie(j-1, j) {
			continue
		}
		i, k := j-1, j+1
		for i > 0 && tie(i-1, i) {
			i--
		}
		for k < len(perm) && tie(k-1, k) {
			k++
		}
		if !x.insertTies(i, k) {
			slices.SortStableFunc(perm[i:k], func(a, b int32) int {
				return cmp.Or(cmp.Compare(fp[a], fp[b]), cmp.Compare(ts[a], ts[b]))
			})
			for r := i; r < k; r++ {
				gfp[r], gts[r] = fp[perm[r]], ts[perm[r]]
			}
		}
		j = k
	}
}

// insertTies sorts rows [i, k) of x.perm, x.fp and x.ts by fingerprint
// and timestamp, stably, by insertion: each row moves back past the rows
// before it that are greater. A run out of order is nearly in order (a
// sample or two late, two senders' requests crossed), and insertion costs
// its length plus the rows moved, where a general sort costs n log n
// comparisons through a function. Past a budget of moves, linear in the
// run, it stops and reports false, leaving the run a stable partial sort
// of itself for a general sort to finish.
func (x *sortScratch) insertTies(i, k int) bool {
	perm, gfp, gts := x.perm, x.fp, x.ts
	budget := 4*(k-i) + 64
	for r := i + 1; r < k; r++ {
		f, t, p := gfp[r], gts[r], perm[r]
		q := r
		for q > i && (gfp[q-1] > f || gfp[q-1] == f && gts[q-1] > t) {
			gfp[q], gts[q], perm[q] = gfp[q-1], gts[q-1], perm[q-1]
			q--
		}
		gfp[q], gts[q], perm[q] = f, t, p
		if budget -= r - q; budget < 0 {
			return false
		}
	}
	return true
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
