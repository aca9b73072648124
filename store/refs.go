package store

// SampleRefs are samples of series named by fingerprint alone, whose
// labels were written before (ingest's references), held in columns:
// row i is the sample (T[i], V[i]) of series FP[i] of the tenant of the
// span that holds row i. A writer that decodes references this way keeps
// 24 bytes a sample, against about 110 for a Series of one sample, and
// WriteMetrics copies the columns instead of walking a Series each.
//
// Append rows with Add; the zero value is empty and ready.
type SampleRefs struct {
	Spans []TenantSpan
	FP    []uint64
	T     []int64
	V     []float64
}

// TenantSpan says that the rows of a SampleRefs from the end of the
// previous span (or 0) up to End are Tenant's.
type TenantSpan struct {
	Tenant string
	End    int
}

// Len is the number of rows.
func (r *SampleRefs) Len() int { return len(r.FP) }

// Add appends a row.
func (r *SampleRefs) Add(tenant string, fp uint64, t int64, v float64) {
	if n := len(r.Spans); n == 0 || r.Spans[n-1].Tenant != tenant {
		r.Spans = append(r.Spans, TenantSpan{Tenant: tenant})
	}
	r.FP = append(r.FP, fp)
	r.T = append(r.T, t)
	r.V = append(r.V, v)
	r.Spans[len(r.Spans)-1].End = len(r.FP)
}

// Truncate keeps the first n rows, as after n calls to Add.
func (r *SampleRefs) Truncate(n int) {
	if n >= r.Len() {
		return
	}
	r.FP, r.T, r.V = r.FP[:n], r.T[:n], r.V[:n]
	for len(r.Spans) > 0 {
		last := &r.Spans[len(r.Spans)-1]
		if start := r.spanStart(len(r.Spans) - 1); start < n {
			last.End = n
			return
		}
		*last = TenantSpan{}
		r.Spans = r.Spans[:len(r.Spans)-1]
	}
}

// Reset empties r, keeping its memory, and lets go of the tenants.
func (r *SampleRefs) Reset() {
	clear(r.Spans)
	r.Spans, r.FP, r.T, r.V = r.Spans[:0], r.FP[:0], r.T[:0], r.V[:0]
}

// Reset empties m, keeping its memory, and lets go of what its series
// and tenants point to.
func (m *Metrics) Reset() {
	clear(m.Series)
	m.Series = m.Series[:0]
	m.Refs.Reset()
}

func (r *SampleRefs) spanStart(i int) int {
	if i == 0 {
		return 0
	}
	return r.Spans[i-1].End
}

// Series returns r as references, one Series a row, for the paths that
// take series only (a batch split by days, which is rare).
func (r *SampleRefs) Series() []Series {
	out := make([]Series, 0, r.Len())
	samples := make([]Sample, r.Len())
	for si, sp := range r.Spans {
		for i := r.spanStart(si); i < sp.End; i++ {
			samples[i] = Sample{T: r.T[i], V: r.V[i]}
			out = append(out, Series{Tenant: sp.Tenant, Fingerprint: r.FP[i], Samples: samples[i : i+1 : i+1]})
		}
	}
	return out
}
