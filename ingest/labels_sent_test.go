package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
)

func TestLabelsSent(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	day := t0.UnixMilli()
	nextDay := t0.Add(24 * time.Hour).UnixMilli()
	series := func(fp uint64, ts ...int64) store.Series {
		s := store.Series{Labels: labels.FromStrings("__name__", "m"), Fingerprint: fp}
		for _, t := range ts {
			s.Samples = append(s.Samples, store.Sample{T: t, V: 1})
		}
		return s
	}
	type step struct {
		name   string
		tenant string
		at     time.Time
		series []store.Series
		acked  bool     // record what was sent, as after Kafka's acknowledgement
		refs   []uint64 // the fingerprints that must go as references
	}
	for _, tc := range []struct {
		name     string
		interval time.Duration
		size     int
		steps    []step
	}{
		{
			name: "labels once, then references", interval: 10 * time.Minute, size: 1024,
			steps: []step{
				{name: "first", tenant: "a", at: t0, series: []store.Series{series(1, day), series(2, day)}, acked: true},
				{name: "again", tenant: "a", at: t0.Add(time.Minute), series: []store.Series{series(1, day+15000), series(2, day+15000), series(3, day)}, acked: true, refs: []uint64{1, 2}},
				{name: "new one is known now", tenant: "a", at: t0.Add(2 * time.Minute), series: []store.Series{series(3, day+30000)}, refs: []uint64{3}},
			},
		},
		{
			name: "not acknowledged, sent again", interval: 10 * time.Minute, size: 1024,
			steps: []step{
				{name: "failed", tenant: "a", at: t0, series: []store.Series{series(1, day)}},
				{name: "retry", tenant: "a", at: t0, series: []store.Series{series(1, day)}, acked: true},
				{name: "then", tenant: "a", at: t0, series: []store.Series{series(1, day)}, refs: []uint64{1}},
			},
		},
		{
			name: "every interval", interval: 10 * time.Minute, size: 1024,
			steps: []step{
				{name: "first", tenant: "a", at: t0, series: []store.Series{series(1, day)}, acked: true},
				{name: "just within", tenant: "a", at: t0.Add(10 * time.Minute), series: []store.Series{series(1, day)}, refs: []uint64{1}},
				{name: "past it", tenant: "a", at: t0.Add(10*time.Minute + time.Second), series: []store.Series{series(1, day)}, acked: true},
				{name: "renewed", tenant: "a", at: t0.Add(11 * time.Minute), series: []store.Series{series(1, day)}, refs: []uint64{1}},
			},
		},
		{
			name: "a new day", interval: time.Hour, size: 1024,
			steps: []step{
				{name: "first", tenant: "a", at: t0, series: []store.Series{series(1, day)}, acked: true},
				{name: "next day", tenant: "a", at: t0, series: []store.Series{series(1, nextDay)}, acked: true},
				{name: "back a day", tenant: "a", at: t0, series: []store.Series{series(1, day)}, acked: true},
				{name: "two days at once", tenant: "a", at: t0, series: []store.Series{series(1, day, nextDay)}, acked: true},
				{name: "still the first's day", tenant: "a", at: t0, series: []store.Series{series(1, day)}, refs: []uint64{1}},
			},
		},
		{
			name: "per tenant", interval: time.Hour, size: 1024,
			steps: []step{
				{name: "a", tenant: "a", at: t0, series: []store.Series{series(1, day)}, acked: true},
				{name: "b has its own", tenant: "b", at: t0, series: []store.Series{series(1, day)}, acked: true},
				{name: "b knows now", tenant: "b", at: t0, series: []store.Series{series(1, day)}, refs: []uint64{1}},
			},
		},
		{
			name: "disabled", interval: 0, size: 1024,
			steps: []step{
				{name: "first", tenant: "a", at: t0, series: []store.Series{series(1, day)}, acked: true},
				{name: "never references", tenant: "a", at: t0, series: []store.Series{series(1, day)}, acked: true},
			},
		},
		{
			name: "forgotten past two generations", interval: time.Hour, size: 4,
			steps: []step{
				{name: "1 and 2 fill a generation", tenant: "a", at: t0, series: []store.Series{series(1, day), series(2, day)}, acked: true},
				{name: "3 starts the next", tenant: "a", at: t0, series: []store.Series{series(3, day)}, acked: true},
				{name: "the previous one still counts", tenant: "a", at: t0, series: []store.Series{series(1, day), series(3, day)}, refs: []uint64{1, 3}},
				{name: "4 and 5 push 1 and 2 out", tenant: "a", at: t0, series: []store.Series{series(4, day), series(5, day)}, acked: true},
				{name: "1 is sent again", tenant: "a", at: t0, series: []store.Series{series(1, day), series(5, day)}, refs: []uint64{5}, acked: true},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := newLabelsSent(tc.interval, tc.size)
			epoch := ls.partitions(4)
			for _, st := range tc.steps {
				send := ls.refer(st.tenant, st.series, st.at, epoch)
				var refs []uint64
				for _, s := range st.series {
					if s.IsRef() {
						refs = append(refs, s.Fingerprint)
					} else if tc.interval > 0 {
						require.Contains(t, send, s.Fingerprint, "%s: a series with labels is recorded once acknowledged", st.name)
					}
				}
				require.Equal(t, st.refs, refs, st.name)
				if st.acked {
					ls.record(st.tenant, send, st.series, st.at, epoch)
				}
			}
		})
	}
}

// TestLabelsSentEpochs: a request that shards by a partition count
// another request has since replaced neither makes references nor
// records what it sent, and the epochs count the changes.
func TestLabelsSentEpochs(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	series := func() []store.Series {
		return []store.Series{{Labels: labels.FromStrings("__name__", "m"), Fingerprint: 7, Samples: []store.Sample{{T: t0.UnixMilli(), V: 1}}}}
	}
	ls := newLabelsSent(10*time.Minute, 100)
	e1 := ls.partitions(4)
	require.Equal(t, uint64(1), e1, "the first count is no change")
	require.Equal(t, e1, ls.partitions(4))

	// Sent with labels in e1 and acknowledged: a reference in e1.
	ls.record("t", ls.refer("t", series(), t0, e1), series(), t0, e1)
	ss := series()
	require.Empty(t, ls.refer("t", ss, t0, e1))
	require.True(t, ss[0].IsRef())

	// Another request moves to 8 partitions; this one still shards by 4.
	e2 := ls.partitions(8)
	require.Equal(t, e1+1, e2)
	ss = series()
	require.Equal(t, []uint64{7}, ls.refer("t", ss, t0, e1), "an old epoch sends labels")
	require.False(t, ss[0].IsRef())
	ls.record("t", []uint64{7}, ss, t0, e1)
	ss = series()
	require.Equal(t, []uint64{7}, ls.refer("t", ss, t0, e2), "what an old epoch sent is not recorded")

	ls.record("t", []uint64{7}, ss, t0, e2)
	ss = series()
	require.Empty(t, ls.refer("t", ss, t0, e2))
	require.True(t, ss[0].IsRef(), "the new epoch's own record counts")
}

// flakyProducer keeps what it is given, or fails while fail is set.
type flakyProducer struct {
	fail  bool
	parts int // partitions of every topic; 2 when 0
	msgs  []queue.Message
}

func (p *flakyProducer) Produce(_ context.Context, msgs []queue.Message) error {
	if p.fail {
		return queue.ErrUnavailable
	}
	for _, m := range msgs {
		m.Value = bytes.Clone(m.Value) // the receiver reuses the memory
		p.msgs = append(p.msgs, m)
	}
	return nil
}

func (p *flakyProducer) Partitions(context.Context, string) (int, error) { return max(p.parts, 2), nil }

// TestProduceMetricsReferences follows series through the receiver's
// encoding: with labels until Kafka acknowledged them, by fingerprint
// after, on the partition of their labels.
func TestProduceMetricsReferences(t *testing.T) {
	p := &flakyProducer{}
	rc := NewReceiver(testReceiverConfig(), Topics{Metrics: "m"}, p, discard(), metrics.NewSet())
	now := time.Now()
	rc.now = func() time.Time { return now }
	request := func() []store.Series {
		return []store.Series{
			{Tenant: "t", Labels: labels.FromStrings("__name__", "up", "job", "a"), Samples: []store.Sample{{T: now.UnixMilli(), V: 1}}},
			{Tenant: "t", Labels: labels.FromStrings("__name__", "up", "job", "b"), Samples: []store.Sample{{T: now.UnixMilli(), V: 0}}},
		}
	}
	// decoded returns what the producer got since the last call, and each
	// series' partition key.
	decoded := func() (out []store.Series, keys []string) {
		for _, m := range p.msgs {
			series, err := wire.DecodeMetrics(nil, m.Value)
			require.NoError(t, err)
			for range series {
				keys = append(keys, string(m.Key))
			}
			out = append(out, series...)
		}
		p.msgs = nil
		return out, keys
	}

	p.fail = true
	require.True(t, errors.Is(rc.produceMetrics(context.Background(), "t", request()), queue.ErrUnavailable))
	p.fail = false
	in := request()
	require.NoError(t, rc.produceMetrics(context.Background(), "t", in))
	require.False(t, in[0].IsRef(), "the caller's series keep their labels")
	first, firstKeys := decoded()
	require.Len(t, first, 2)
	for _, s := range first {
		require.False(t, s.IsRef(), "labels go until Kafka acknowledged them, the failed attempt included")
	}

	require.NoError(t, rc.produceMetrics(context.Background(), "t", request()))
	second, secondKeys := decoded()
	require.Len(t, second, 2)
	for i, s := range second {
		require.True(t, s.IsRef(), "series %d", i)
		j := 0
		if s.Fingerprint != first[0].Fingerprint {
			j = 1
		}
		require.Equal(t, first[j].Fingerprint, s.Fingerprint)
		require.Equal(t, firstKeys[j], secondKeys[i], "a reference goes to the partition of its labels")
		require.Equal(t, request()[j].Samples, s.Samples)
	}

	// A partition more: each series goes with its labels to its new
	// partition first.
	p.parts = 3
	require.NoError(t, rc.produceMetrics(context.Background(), "t", request()))
	third, _ := decoded()
	for _, s := range third {
		require.False(t, s.IsRef(), "labels again after the partition count changed")
	}
	require.NoError(t, rc.produceMetrics(context.Background(), "t", request()))
	fourth, _ := decoded()
	for _, s := range fourth {
		require.True(t, s.IsRef(), "then references")
	}
}

// TestRemoteWriteReferences follows remote write requests through the
// receiver on kfake: a series' labels go to Kafka once, then its samples
// by fingerprint, validated labels are not checked again, and a rejected
// sample of a series that left the decoder without labels is still
// reported under them.
func TestRemoteWriteReferences(t *testing.T) {
	e := newReceiverEnv(t)
	now := e.now.UnixMilli()
	tenant := map[string]string{"X-Scope-OrgID": "team-a"}
	demo := []string{"__name__", "demo_metric", "job", "x"}
	up := []string{"__name__", "up", "job", "y"}

	code, body, _ := e.post(t, "/api/v1/write", rwBody(t, series(now, 1, demo...), series(now, 2, up...)), tenant)
	require.Equal(t, http.StatusNoContent, code, body)
	code, body, _ = e.post(t, "/api/v1/write", rwBody(t, series(now+15000, 3, demo...), series(now+15000, 4, up...)), tenant)
	require.Equal(t, http.StatusNoContent, code, body)
	code, body, _ = e.post(t, "/api/v1/write", rwBody(t, series(now+30000, 5, demo...), series(now+time.Hour.Milliseconds(), 6, up...)), tenant)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, `{__name__="up", job="y"}`, "the rejection names the series")
	require.Contains(t, body, "1 of 2 samples rejected")
	// Invalid labels are refused every time, never remembered.
	for range 2 {
		code, body, _ = e.post(t, "/api/v1/write", rwBody(t, series(now, 1, "__name__", "bad", "0label", "v")), tenant)
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, body, `label name "0label"`)
	}

	got := e.consumeSeries(t, 5)
	require.Len(t, got, 5)
	byFP := map[uint64]labels.Labels{}
	for _, s := range got {
		if !s.IsRef() {
			byFP[s.Fingerprint] = s.Labels
		}
	}
	require.Len(t, byFP, 2, "each series' labels went once")
	values := map[string][]float64{}
	for _, s := range got {
		ls, ok := byFP[s.Fingerprint]
		require.True(t, ok, "a reference to a series whose labels went before")
		require.Equal(t, "team-a", s.Tenant)
		for _, smp := range s.Samples {
			values[ls.Get("__name__")] = append(values[ls.Get("__name__")], smp.V)
		}
	}
	require.ElementsMatch(t, []float64{1, 3, 5}, values["demo_metric"])
	require.ElementsMatch(t, []float64{2, 4}, values["up"])
}

// FuzzAdmittedRoundTrips checks that whatever admission lets through of
// a remote write request crosses Kafka's encoding intact: a message the
// writer could not decode would be dead-lettered, and with it the labels
// of every series in it, which their references then lack until the
// receiver sends them again.
func FuzzAdmittedRoundTrips(f *testing.F) {
	for _, body := range [][]store.Series{
		{series(1, 1, "__name__", "up", "job", "a"), series(2, 0, "__name__", "x", "a", "", "b", "v")},
		{{Labels: labels.FromStrings("__name__", "h"), Histograms: []store.HistogramSample{{T: 1, FH: &histogram.FloatHistogram{Count: 1, Sum: 1}}}}},
	} {
		b, err := remotewrite.EncodeV1(body)
		require.NoError(f, err)
		raw, err := remotewrite.Decompress(b, 1<<20)
		require.NoError(f, err)
		f.Add(raw)
	}
	rc := NewReceiver(testReceiverConfig(), Topics{Metrics: "m"}, &flakyProducer{}, discard(), metrics.NewSet())
	rc.now = func() time.Time { return time.UnixMilli(0) }
	f.Fuzz(func(t *testing.T, raw []byte) {
		series, _, err := remotewrite.DecodeV1Known(raw, "t", nil)
		if err != nil {
			return
		}
		var v verdict
		kept := rc.admit("prometheus", series, &v, nil, nil)
		if len(kept) == 0 {
			return
		}
		for i := range kept {
			kept[i].Fingerprint = store.Fingerprint(kept[i].Labels)
		}
		got, err := wire.DecodeMetrics(nil, wire.AppendMetrics(nil, "t", kept))
		require.NoError(t, err, "admitted series must decode on the writer's side")
		require.Len(t, got, len(kept))
		for i := range kept {
			require.Equal(t, kept[i].Labels.String(), got[i].Labels.String())
			require.Len(t, got[i].Samples, len(kept[i].Samples))
			require.Len(t, got[i].Histograms, len(kept[i].Histograms))
		}
	})
}

// keepingProducer keeps the messages it is given, values and all, and
// fails when told to: a producer that gave up on messages it may still be
// sending.
type keepingProducer struct {
	fail bool
	kept [][]queue.Message
}

func (p *keepingProducer) Produce(_ context.Context, msgs []queue.Message) error {
	p.kept = append(p.kept, msgs)
	if p.fail {
		return queue.ErrUnavailable
	}
	return nil
}

func (p *keepingProducer) Partitions(context.Context, string) (int, error) { return 2, nil }

// TestProduceMetricsBuffers checks that the receiver reuses the memory of
// its messages only after Kafka acknowledged them: the values of a
// produce that failed are never written again.
func TestProduceMetricsBuffers(t *testing.T) {
	p := &keepingProducer{fail: true}
	rc := NewReceiver(testReceiverConfig(), Topics{Metrics: "m"}, p, discard(), metrics.NewSet())
	now := time.Now()
	request := func(job string) []store.Series {
		return []store.Series{{Tenant: "t", Labels: labels.FromStrings("__name__", "up", "job", job), Samples: []store.Sample{{T: now.UnixMilli(), V: 1}}}}
	}
	require.Error(t, rc.produceMetrics(context.Background(), "t", request("failed")))
	failed := p.kept[0]
	want := make([][]byte, len(failed))
	for i, m := range failed {
		want[i] = bytes.Clone(m.Value)
	}
	p.fail = false
	for i := range 20 {
		require.NoError(t, rc.produceMetrics(context.Background(), "t", request(fmt.Sprint("later-", i))))
	}
	for i, m := range failed {
		require.Equal(t, want[i], m.Value, "message %d of the failed produce", i)
	}
}
