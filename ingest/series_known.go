package ingest

import (
	"hash/maphash"
	"sync"

	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store"
)

// knownSeries remembers, per tenant, the remote write encoding of label
// sets that passed validation, with their fingerprint. Prometheus sends a
// series' labels the same way, byte for byte, in every request, so most
// series of a request are found here by one lookup on a hash of
// their bytes: then neither decoding, nor validating, nor hashing their
// labels is needed, and when labelsSent says their labels went out
// recently, they leave the decoder as references, never having had
// labels at all.
//
// The labels of a series decode from its bytes alone, and the limits
// they were checked against are flags, fixed for the process' life, so a
// validated encoding stays valid. The key is 128 bits of two maphash
// hashes with this process' random seeds: two encodings that collide, and
// so share a fingerprint, are far less likely than two label sets whose
// 64-bit fingerprints do, which the store already rules out, and no
// sender can aim for a collision without the seeds. Memory is bounded by
// two generations of at most size/2 entries of 32 bytes, in tables
// between 3/8 and 3/4 full once past their first 64 slots (knownTable).
//
// Each entry also keeps a copy of its series' labelsSent entry, so that a
// series whose labels went out recently costs one lookup, not two (here
// and in labelsSent's map): the copy is taken when the copy in hand does
// not tell the series fresh and labelsSent's entry does, and it is void
// once the metrics topic's partition count changed (labelsSent.epoch).
// A copy may be older than labelsSent's entry, never wrong: labels that
// Kafka acknowledged for a day stay acknowledged.
type knownSeries struct {
	seed, seed2 maphash.Seed

	mu sync.RWMutex
	// known holds, by tenant, two generations of tables (knownTable) of
	// at most size/2 entries together.
	known generations[*knownTable]
	// copiesEpoch is labelsSent's epoch that the copies in the tables
	// were taken in; copies of any other are void.
	copiesEpoch uint64

	keys keyScratch // a request's keys, while it is looked up
}

// keyScratch pools the slices of keys that lookups hash a request's
// series into.
type keyScratch struct{ pool sync.Pool }

func (p *keyScratch) get(n int) []rawKey {
	if v, ok := p.pool.Get().(*[]rawKey); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]rawKey, n)
}

func (p *keyScratch) put(keys []rawKey) {
	clear(keys)
	p.pool.Put(&keys)
}

// sentCopy is a copy of labelsSent's entry to store with a known series.
type sentCopy struct {
	key  rawKey
	sent sentAt
}

// rawKey identifies an encoded label set (knownSeries.key). The zero key
// marks an empty slot of a knownTable; key never returns it.
type rawKey [2]uint64

// key hashes encoded labels.
func (k *knownSeries) key(raw []byte) rawKey {
	key := rawKey{maphash.Bytes(k.seed, raw), maphash.Bytes(k.seed2, raw)}
	if key == (rawKey{}) {
		key[1] = 1
	}
	return key
}

func newKnownSeries(size int) *knownSeries {
	return &knownSeries{
		seed: maphash.MakeSeed(), seed2: maphash.MakeSeed(),
		known: newGenerations(size, func() *knownTable { return &knownTable{} }),
	}
}

// find returns key's slot in cur or else prev, or nil.
func find(cur, prev *knownTable, key rawKey) *knownSlot {
	if v := cur.get(key); v != nil {
		return v
	}
	return prev.get(key)
}

// knownEntry is an encoded label set and its series' fingerprint.
type knownEntry struct {
	raw []byte
	fp  uint64
}

// add remembers entries of tenant.
func (k *knownSeries) add(tenant string, entries []knownEntry) {
	if len(entries) == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, e := range entries {
		if k.known.current(tenant).put(k.key(e.raw), e.fp) {
			k.known.added()
		}
	}
}

// lookup returns a remotewrite.Known for a request of tenant: it knows a
// series whose encoded labels were validated before and whose labels went
// to Kafka recently enough for its samples (sent). The caller must call
// done when the request is decoded; both caches are read-locked until
// then, and done stores the copies of labelsSent's entries taken.
func (k *knownSeries) lookup(tenant string, sent *labelsSent, now int64) (known remotewrite.Known, done func()) {
	k.mu.RLock()
	cur, prev := k.known.tables(tenant)
	entry, epoch, unlock := sent.entries(tenant)
	copiesValid := k.copiesEpoch == epoch
	oldest := sent.oldest(now)
	var copies []sentCopy
	one := func(key rawKey, samples []store.Sample, hs []store.HistogramSample) (uint64, bool) {
		v := find(cur, prev, key)
		if v == nil {
			return 0, false
		}
		if copiesValid && v.sent.unpack().fresh(oldest, samples, hs) {
			return v.fp, true
		}
		e, ok := entry(v.fp)
		if !ok || !e.fresh(oldest, samples, hs) {
			// Not a reference: sent with its labels, after which learn
			// replaces the entry anyway.
			return v.fp, false
		}
		// labelsSent's entry says fresh where the copy in hand did not:
		// the copy is stale, or of another epoch.
		copies = append(copies, sentCopy{key: key, sent: e})
		return v.fp, true
	}
	known = func(raws [][]byte, series []store.Series, isKnown []bool) {
		keys := k.keys.get(len(raws))
		defer k.keys.put(keys)
		for i, raw := range raws {
			if raw != nil {
				keys[i] = k.key(raw)
			}
		}
		cur.touch(keys)
		for i, raw := range raws {
			if raw == nil {
				continue
			}
			// A found series that is not a reference gets its fingerprint
			// too, which the decoder ignores.
			series[i].Fingerprint, isKnown[i] = one(keys[i], series[i].Samples, series[i].Histograms)
		}
	}
	return known, func() {
		unlock()
		k.mu.RUnlock()
		if len(copies) == 0 {
			return
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		switch {
		case epoch < k.copiesEpoch:
			return // taken in an epoch that ended: void
		case epoch > k.copiesEpoch:
			// The first copies of a new epoch: the old ones go.
			for _, gen := range [2]map[string]*knownTable{k.known.cur, k.known.prev} {
				for _, t := range gen {
					t.clearSent()
				}
			}
			k.copiesEpoch = epoch
		}
		cur, prev := k.known.tables(tenant)
		for _, c := range copies {
			if v := find(cur, prev, c.key); v != nil {
				v.sent = packSent(c.sent)
			}
		}
	}
}

// knownTable is a hash table of known series by rawKey, with open
// addressing and linear probing over slots of 32 bytes, two to a cache
// line. It replaces a Go map, whose lookups were a fifth of the
// receiver's CPU: the key is already a random hash, so a slot is found
// from its first word with no hashing, most lookups touch one cache line
// where the map touched its control word and then the slot, and the key
// comparison is two inlined word compares. Entries are never deleted:
// knownSeries drops whole tables.
type knownTable struct {
	slots []knownSlot // a power of two, at most 3/4 full
	n     int
}

type knownSlot struct {
	key  rawKey // zero: empty
	fp   uint64
	sent packedSent // the copy of labelsSent's entry, zero when none
}

// get returns key's slot, or nil. A nil table holds nothing.
func (t *knownTable) get(key rawKey) *knownSlot {
	if t == nil || len(t.slots) == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := key[0] & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == key {
			return s
		}
		if s.key == (rawKey{}) {
			return nil
		}
	}
}

// touch loads the slot at which the search for each of keys starts, and
// returns a sum of what it read, so that the loads are not optimized
// away. The loads do not depend on each other, so the processor overlaps
// their cache misses, which lookups one after another, each waiting for
// its slot before the next starts, do not: the lookups that follow find
// their slots in the cache. In a table of 10,400 series the misses were
// a third of the remote write decoder's time.
//
//go:noinline
func (t *knownTable) touch(keys []rawKey) (sum uint64) {
	if t == nil || len(t.slots) == 0 {
		return 0
	}
	mask := uint64(len(t.slots) - 1)
	for _, k := range keys {
		sum += t.slots[k[0]&mask].fp
	}
	return sum
}

// put sets key's fingerprint, with no copy of labelsSent's entry, and
// reports whether key is new.
func (t *knownTable) put(key rawKey, fp uint64) bool {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := key[0] & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch s.key {
		case key:
			*s = knownSlot{key: key, fp: fp}
			return false
		case rawKey{}:
			*s = knownSlot{key: key, fp: fp}
			t.n++
			return true
		}
	}
}

func (t *knownTable) grow() {
	old := t.slots
	t.slots = make([]knownSlot, max(64, 2*len(old)))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.key == (rawKey{}) {
			continue
		}
		i := s.key[0] & mask
		for t.slots[i].key != (rawKey{}) {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// clearSent voids every copy.
func (t *knownTable) clearSent() {
	for i := range t.slots {
		t.slots[i].sent = 0
	}
}

// packedSent is a sentAt in one word: the day in the high 32 bits, the
// time (Unix seconds, unsigned: until 2106) in the low ones.
type packedSent uint64

func packSent(e sentAt) packedSent {
	return packedSent(uint64(uint32(int32(e.day)))<<32 | uint64(uint32(e.at)))
}

func (p packedSent) unpack() sentAt {
	return sentAt{day: int64(int32(uint32(p >> 32))), at: int64(uint32(p))}
}
