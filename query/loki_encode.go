package query

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/cairn-dev/cairn/query/logql"
)

// appendLokiQueryResponse appends the answer of a query, as Loki writes
// it: {"status":"success","data":{"resultType":…,"result":…,"stats":…}}.
// With categorize, streams carry only stream labels, and each value a
// third element {"structuredMetadata":{…},"parsed":{…}}.
func appendLokiQueryResponse(buf []byte, res *logql.Result, categorize bool, took time.Duration) ([]byte, error) {
	buf = append(buf, `{"status":"success","data":{"resultType":`...)
	switch v := res.Value.(type) {
	case nil:
		buf = append(buf, `"streams",`...)
		if categorize {
			buf = append(buf, `"encodingFlags":["categorize-labels"],`...)
		}
		buf = append(buf, `"result":`...)
		buf = appendStreams(buf, res.Streams, categorize)
	case promql.Matrix:
		buf = append(buf, `"matrix","result":`...)
		buf = appendMatrix(buf, v)
	case promql.Vector:
		buf = append(buf, `"vector","result":`...)
		buf = appendVector(buf, v)
	case promql.Scalar:
		buf = append(buf, `"scalar","result":`...)
		buf = appendPoint(buf, v.T, v.V)
	default:
		return nil, fmt.Errorf("encode query result of type %T", v)
	}
	buf = append(buf, `,"stats":`...)
	buf = appendLokiStats(buf, res, took)
	return append(buf, "}}"...), nil
}

// appendStreams appends [{"stream":{…},"values":[["<ns>","<line>"],…]},…].
func appendStreams(buf []byte, streams []logql.Stream, categorize bool) []byte {
	buf = append(buf, '[')
	for i, s := range streams {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"stream":`...)
		buf = appendLabels(buf, s.Labels)
		buf = append(buf, `,"values":[`...)
		for j, e := range s.Entries {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `["`...)
			buf = strconv.AppendInt(buf, e.T, 10)
			buf = append(buf, `",`...)
			buf = appendString(buf, e.Line)
			if categorize {
				buf = appendCategories(buf, e)
			}
			buf = append(buf, ']')
		}
		buf = append(buf, "]}"...)
	}
	return append(buf, ']')
}

// appendCategories appends ,{"structuredMetadata":{…},"parsed":{…}},
// each present only when not empty.
func appendCategories(buf []byte, e logql.Entry) []byte {
	buf = append(buf, ",{"...)
	sep := ""
	add := func(key string, ls labels.Labels) {
		if ls.IsEmpty() {
			return
		}
		buf = append(buf, sep...)
		buf = append(buf, `"`+key+`":`...)
		buf = appendLabels(buf, ls)
		sep = ","
	}
	add("structuredMetadata", e.Metadata)
	add("parsed", e.Parsed)
	return append(buf, '}')
}

// appendLokiStats appends the summary of Loki's query statistics, which
// Grafana shows in the query inspector.
func appendLokiStats(buf []byte, res *logql.Result, took time.Duration) []byte {
	st := res.Stats
	secs := max(took.Seconds(), 1e-9)
	entries := 0
	for _, s := range res.Streams {
		entries += len(s.Entries)
	}
	buf = append(buf, `{"summary":{"bytesProcessedPerSecond":`...)
	buf = strconv.AppendInt(buf, int64(float64(st.BytesScanned)/secs), 10)
	buf = append(buf, `,"linesProcessedPerSecond":`...)
	buf = strconv.AppendInt(buf, int64(float64(st.LinesScanned)/secs), 10)
	buf = append(buf, `,"totalBytesProcessed":`...)
	buf = strconv.AppendInt(buf, st.BytesScanned, 10)
	buf = append(buf, `,"totalLinesProcessed":`...)
	buf = strconv.AppendInt(buf, st.LinesScanned, 10)
	buf = append(buf, `,"execTime":`...)
	buf = strconv.AppendFloat(buf, took.Seconds(), 'f', -1, 64)
	buf = append(buf, `,"queueTime":0,"subqueries":0,"totalEntriesReturned":`...)
	buf = strconv.AppendInt(buf, int64(entries), 10)
	buf = append(buf, `,"splits":0,"shards":0,"totalPostFilterLines":`...)
	buf = strconv.AppendInt(buf, st.LinesKept, 10)
	buf = append(buf, `,"totalStructuredMetadataBytesProcessed":0},"querier":{"store":{"totalChunksRef":0,"totalChunksDownloaded":0}},"ingester":{"totalReached":0}}`...)
	return buf
}
