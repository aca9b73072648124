package queue

import (
	"bytes"
	"io"
	"testing"

	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/compress/snappy"
	"github.com/stretchr/testify/require"
)

// TestSnappyFastMode: loading this package puts kafka-go's snappy codec,
// the one producers use for -kafka.compression=snappy, in its fast mode,
// and what it writes reads back.
func TestSnappyFastMode(t *testing.T) {
	codec := compress.Snappy.Codec()
	require.Equal(t, &compress.SnappyCodec, codec)
	require.Equal(t, snappy.FasterCompression, compress.SnappyCodec.Compression)

	msg := bytes.Repeat([]byte("cairn series 0123456789abcdef "), 500)
	var buf bytes.Buffer
	w := codec.NewWriter(&buf)
	_, err := w.Write(msg)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	r := codec.NewReader(&buf)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.Equal(t, msg, got)
}
