package ingest

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/head"
)

// TestTailAppendOutlivesMessage: the labels the wire decoder returns point
// into the Kafka message; the head must keep its own copy of a series'
// labels, since the message's memory is reused once Tail moves on, also
// for the references that come after them.
func TestTailAppendOutlivesMessage(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	h, err := head.New(head.Config{Window: time.Hour, Dir: t.TempDir()}, logger, metrics.NewSet())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close()) })
	tail := NewTail(queue.Config{}, "metrics", h, 0, 0, logger, metrics.NewSet())

	now := time.Now().UnixMilli()
	want := labels.FromStrings("__name__", "up", "instance", "host-1:9100", "job", "node")
	msg := func(ls labels.Labels, v float64, t int64) []byte {
		return wire.AppendMetrics(nil, "t", []store.Series{{Labels: ls, Fingerprint: store.Fingerprint(want), Samples: []store.Sample{{T: t, V: v}}}})
	}
	msgs := [][]byte{
		msg(want, 1, now-2000),
		msg(want, 2, now-1000),            // finds the series
		msg(labels.EmptyLabels(), 3, now), // a reference
	}
	for i, m := range msgs {
		require.NoError(t, tail.append(context.Background(), queue.Message{Topic: "metrics", Offset: int64(i), HighWaterMark: 3, Value: m}))
		for j := range m {
			m[j] = 'x' // the message's memory, reused
		}
	}

	q, err := h.Querier("t", now-time.Hour.Milliseconds(), now)
	require.NoError(t, err)
	defer q.Close()
	ss := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "up"))
	require.True(t, ss.Next(), "the series is in the head")
	require.Equal(t, want, ss.At().Labels())
	var vals []float64
	it := ss.At().Iterator(nil)
	for it.Next() == chunkenc.ValFloat {
		_, v := it.At()
		vals = append(vals, v)
	}
	require.Equal(t, []float64{1, 2, 3}, vals)
	require.False(t, ss.Next())
	require.NoError(t, ss.Err())
}

// fakeHead records what Tail does to a head.
type fakeHead struct {
	appendErr   error
	appended    int
	invalidated []string
	ready       []int64
}

func (f *fakeHead) Append(_ context.Context, series []store.Series) error {
	f.appended += len(series)
	return f.appendErr
}
func (f *fakeHead) Ready(from int64)         { f.ready = append(f.ready, from) }
func (f *fakeHead) Invalidate(reason string) { f.invalidated = append(f.invalidated, reason) }
func (f *fakeHead) Window() time.Duration    { return time.Hour }

// TestTailAppendFailures: an undecodable message is counted and skipped
// (the writer dead-letters it), a message the head refuses invalidates the
// head; neither ends the tail.
func TestTailAppendFailures(t *testing.T) {
	ls := labels.FromStrings("__name__", "up")
	good := wire.AppendMetrics(nil, "t", []store.Series{{Labels: ls, Samples: []store.Sample{{T: 1, V: 1}}}})
	for _, tc := range []struct {
		name            string
		value           []byte
		appendErr       error
		wantAppended    int
		wantUndecodable uint64
		wantInvalidated string
	}{
		{name: "decodes", value: good, wantAppended: 1},
		{name: "undecodable", value: []byte("not a message"), wantUndecodable: 1},
		{name: "refused", value: good, appendErr: errors.New("disk full"), wantAppended: 1, wantInvalidated: "append message 7 of partition 3: disk full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeHead{appendErr: tc.appendErr}
			set := metrics.NewSet()
			tail := NewTail(queue.Config{}, "metrics", f, 0, 0, slog.New(slog.DiscardHandler), set)
			require.NoError(t, tail.append(context.Background(), queue.Message{Topic: "metrics", Partition: 3, Offset: 7, HighWaterMark: 10, Value: tc.value}))
			require.Equal(t, tc.wantAppended, f.appended)
			require.Equal(t, tc.wantUndecodable, tail.undecodable.Get())
			if tc.wantInvalidated == "" {
				require.Empty(t, f.invalidated)
			} else {
				require.Equal(t, []string{tc.wantInvalidated}, f.invalidated)
			}
			require.Equal(t, 2.0, set.GetOrCreateGauge(`cairn_head_tail_lag_messages{topic="metrics",partition="3"}`, nil).Get(),
				"the lag: messages after this one")
		})
	}
}

// TestTailCaughtUp: with references, a series' labels may have gone out
// just before the replay's start, so the head is complete only a labels
// interval (and the future skew) after it.
func TestTailCaughtUp(t *testing.T) {
	complete := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                       string
		futureSkew, labelsInterval time.Duration
		want                       time.Time
	}{
		{name: "labels always", want: complete},
		{name: "future skew", futureSkew: time.Minute, want: complete.Add(time.Minute)},
		{name: "labels interval", futureSkew: time.Minute, labelsInterval: 10 * time.Minute, want: complete.Add(11 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeHead{}
			tail := NewTail(queue.Config{}, "metrics", f, tc.futureSkew, tc.labelsInterval, slog.New(slog.DiscardHandler), metrics.NewSet())
			tail.caughtUp(complete)
			require.Equal(t, []int64{tc.want.UnixMilli()}, f.ready)
		})
	}
}
