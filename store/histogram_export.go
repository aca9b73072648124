package store

// AppendHistogram appends the encoding of s's histogram (not its
// timestamp) to buf: the layout the histograms table stores, which ingest's
// Kafka messages carry too, so a histogram is encoded once on its way in.
func AppendHistogram(buf []byte, s HistogramSample) ([]byte, error) {
	return appendHistogram(buf, s)
}

// DecodeHistogram decodes what AppendHistogram appended into s, leaving
// s.T alone. The histogram does not share data's memory.
func DecodeHistogram(data []byte, s *HistogramSample) error {
	return decodeHistogram(data, s)
}

// Validate checks s's histogram by Prometheus' rules (histogram.Validate):
// bucket counts that add up to the count, spans that match the buckets, a
// schema in range. s must hold exactly one of H and FH.
func (s HistogramSample) Validate() error {
	if s.H != nil {
		return s.H.Validate()
	}
	return s.FH.Validate()
}
