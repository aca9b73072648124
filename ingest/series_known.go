package ingest

import (
	"hash/maphash"
	"sync"

	"github.com/cairn-dev/cairn/store"
)

// knownSeries remembers, per tenant, the remote write encoding of label
// sets that passed validation, with their fingerprint. Prometheus sends a
// series' labels the same way, byte for byte, in every request, so most
// series of a request are found here by one map lookup on a hash of
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
// two generations of at most size/2 entries (tenantCache) of 48 bytes
// and the map's overhead.
//
// Each entry also keeps a copy of its series' labelsSent entry, so that a
// series whose labels went out recently costs one map lookup, not two:
// the copy is taken when the copy in hand does not tell the series fresh
// and labelsSent's entry does, and it is void once the metrics
// topic's partition count changed (labelsSent.epoch). A copy may be older
// than labelsSent's entry, never wrong: labels that Kafka acknowledged
// for a day stay acknowledged.
type knownSeries struct {
	seed, seed2 maphash.Seed

	mu    sync.RWMutex
	known tenantCache[rawKey, knownValue] // by tenant, then encoded labels
}

// knownValue is what knownSeries holds of an encoded label set.
type knownValue struct {
	fp    uint64
	sent  sentAt // a copy of labelsSent's entry for fp, taken in epoch
	epoch uint64
}

// sentCopy is a copy of labelsSent's entry to store with a known series.
type sentCopy struct {
	key  rawKey
	sent sentAt
}

// rawKey identifies an encoded label set (knownSeries.key).
type rawKey [2]uint64

// key hashes encoded labels.
func (k *knownSeries) key(raw []byte) rawKey {
	return rawKey{maphash.Bytes(k.seed, raw), maphash.Bytes(k.seed2, raw)}
}

func newKnownSeries(size int) *knownSeries {
	return &knownSeries{seed: maphash.MakeSeed(), seed2: maphash.MakeSeed(), known: newTenantCache[rawKey, knownValue](size)}
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
		k.known.put(tenant, k.key(e.raw), knownValue{fp: e.fp})
	}
}

// lookup returns a remotewrite.Known for a request of tenant: it knows a
// series whose encoded labels were validated before and whose labels went
// to Kafka recently enough for its samples (sent). The caller must call
// done when the request is decoded; both caches are read-locked until
// then, and done stores the copies of labelsSent's entries taken.
func (k *knownSeries) lookup(tenant string, sent *labelsSent, now int64) (known func([]byte, []store.Sample, []store.HistogramSample) (uint64, bool), done func()) {
	k.mu.RLock()
	cur, prev := k.known.maps(tenant)
	entry, epoch, unlock := sent.entries(tenant)
	oldest := sent.oldest(now)
	var copies []sentCopy
	known = func(raw []byte, samples []store.Sample, hs []store.HistogramSample) (uint64, bool) {
		key := k.key(raw)
		v, ok := cur[key]
		if !ok {
			if v, ok = prev[key]; !ok {
				return 0, false
			}
		}
		if v.epoch == epoch && v.sent.fresh(oldest, samples, hs) {
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
	return known, func() {
		unlock()
		k.mu.RUnlock()
		if len(copies) == 0 {
			return
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		for _, c := range copies {
			k.known.update(tenant, c.key, func(v *knownValue) { v.sent, v.epoch = c.sent, epoch })
		}
	}
}
