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
// two generations of at most size/2 entries (tenantCache) of 24 bytes
// and the map's overhead.
type knownSeries struct {
	seed, seed2 maphash.Seed

	mu    sync.RWMutex
	known tenantCache[rawKey, uint64] // by tenant, then encoded labels
}

// rawKey identifies an encoded label set (knownSeries.key).
type rawKey [2]uint64

// key hashes encoded labels.
func (k *knownSeries) key(raw []byte) rawKey {
	return rawKey{maphash.Bytes(k.seed, raw), maphash.Bytes(k.seed2, raw)}
}

func newKnownSeries(size int) *knownSeries {
	return &knownSeries{seed: maphash.MakeSeed(), seed2: maphash.MakeSeed(), known: newTenantCache[rawKey, uint64](size)}
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
		k.known.put(tenant, k.key(e.raw), e.fp)
	}
}

// lookup returns a remotewrite.Known for a request of tenant: it knows a
// series whose encoded labels were validated before and whose labels went
// to Kafka recently enough for its samples (sent). The caller must call
// done when the request is decoded; both caches are read-locked until
// then.
func (k *knownSeries) lookup(tenant string, sent *labelsSent, now int64) (known func([]byte, []store.Sample, []store.HistogramSample) (uint64, bool), done func()) {
	k.mu.RLock()
	cur, prev := k.known.maps(tenant)
	fresh, unlock := sent.fresh(tenant, now)
	known = func(raw []byte, samples []store.Sample, hs []store.HistogramSample) (uint64, bool) {
		key := k.key(raw)
		fp, ok := cur[key]
		if !ok {
			if fp, ok = prev[key]; !ok {
				return 0, false
			}
		}
		return fp, fresh(fp, samples, hs)
	}
	return known, func() {
		unlock()
		k.mu.RUnlock()
	}
}
