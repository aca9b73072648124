package ingest

import (
	"fmt"

	"github.com/VictoriaMetrics/metrics"

	"github.com/cairn-dev/cairn/ingest/queue"
)

// partitionLag keeps, for each partition a writer has read, how many
// messages the partition holds beyond the writer's last commit, and
// exports it as the gauge
//
//	cairn_writer_consumer_lag_messages{topic="…",partition="…"}
//
// The partition's end is the high-water mark the last fetched message
// carried; the committed position starts at the first offset fetched
// (where the group stood) and moves with every commit. Under a store
// outage the lag thus grows with what the writer has fetched and cannot
// commit; a partition that moved to another writer in a rebalance keeps
// its last value here. Only the writer's Run goroutine updates it.
type partitionLag struct {
	set   *metrics.Set
	parts map[partitionKey]*lagState
}

type partitionKey struct {
	topic     string
	partition int
}

type lagState struct {
	end   int64 // high-water mark: offset after the partition's last message
	next  int64 // offset after the last committed message
	gauge *metrics.Gauge
}

func (s *lagState) update() { s.gauge.Set(float64(max(s.end-s.next, 0))) }

func newPartitionLag(set *metrics.Set) *partitionLag {
	return &partitionLag{set: set, parts: map[partitionKey]*lagState{}}
}

// fetched records the partition end that m saw.
func (l *partitionLag) fetched(m queue.Message) {
	k := partitionKey{m.Topic, m.Partition}
	s, ok := l.parts[k]
	if !ok {
		name := fmt.Sprintf(`cairn_writer_consumer_lag_messages{topic=%q,partition="%d"}`, m.Topic, m.Partition)
		s = &lagState{next: m.Offset, gauge: l.set.GetOrCreateGauge(name, nil)}
		l.parts[k] = s
	}
	s.end = max(s.end, m.HighWaterMark, m.Offset+1)
	s.update()
}

// committed records that msgs, and everything before them in their
// partitions, are committed.
func (l *partitionLag) committed(msgs []queue.Message) {
	for _, m := range msgs {
		if s, ok := l.parts[partitionKey{m.Topic, m.Partition}]; ok {
			s.next = max(s.next, m.Offset+1)
		}
	}
	for _, s := range l.parts {
		s.update()
	}
}
