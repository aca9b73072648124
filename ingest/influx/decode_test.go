package influx

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var now = time.Unix(1_700_000_123, 456_789_000)

func render(res *Result) string {
	var lines []string
	for i, s := range res.Series {
		lines = append(lines, fmt.Sprintf("%s %d %s (line %d)", s.Labels, s.Samples[0].T, strconv.FormatFloat(s.Samples[0].V, 'g', -1, 64), res.Line[i]))
	}
	slices.Sort(lines)
	lines = append(lines, fmt.Sprintf("lines %d bad %d strings %d", res.Lines, res.Bad, res.Strings))
	return strings.Join(lines, "\n") + "\n"
}

// TestDecodeTelegraf decodes a flush of Telegraf's default inputs and
// compares with testdata/telegraf.golden.
func TestDecodeTelegraf(t *testing.T) {
	body, err := os.ReadFile("testdata/telegraf.lp")
	require.NoError(t, err)
	res, err := Decode(body, "t1", 1, now)
	require.NoError(t, err)
	got := render(res)
	if *update {
		require.NoError(t, os.WriteFile("testdata/telegraf.golden", []byte(got), 0o644))
	}
	want, err := os.ReadFile("testdata/telegraf.golden")
	require.NoError(t, err)
	require.Equal(t, string(want), got)
	for _, s := range res.Series {
		require.Equal(t, "t1", s.Tenant)
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		prec string
		want []string // "labels t v"
		err  string
		bad  int
	}{
		{name: "types", body: "m f=1.5,i=-2i,u=3u,b=true,B=F,s=\"x\" 1000000000",
			want: []string{`{__name__="m_B"} 1000 0`, `{__name__="m_b"} 1000 1`, `{__name__="m_f"} 1000 1.5`, `{__name__="m_i"} 1000 -2`, `{__name__="m_u"} 1000 3`}},
		{name: "no timestamp is now, truncated to precision", body: "m v=1", prec: "s",
			want: []string{`{__name__="m_v"} 1700000123000 1`}},
		{name: "no timestamp at ns", body: "m v=1",
			want: []string{`{__name__="m_v"} 1700000123456 1`}},
		{name: "precision s", body: "m v=1 1700000000", prec: "s", want: []string{`{__name__="m_v"} 1700000000000 1`}},
		{name: "precision ms", body: "m v=1 1700000000001", prec: "ms", want: []string{`{__name__="m_v"} 1700000000001 1`}},
		{name: "precision us", body: "m v=1 1700000000001999", prec: "us", want: []string{`{__name__="m_v"} 1700000000001 1`}},
		{name: "precision u", body: "m v=1 1700000000001999", prec: "u", want: []string{`{__name__="m_v"} 1700000000001 1`}},
		{name: "precision n", body: "m v=1 1700000000001999999", prec: "n", want: []string{`{__name__="m_v"} 1700000000001 1`}},
		{name: "precision h", body: "m v=1 472222", prec: "h", want: []string{`{__name__="m_v"} 1699999200000 1`}},
		{name: "sanitized names", body: "my.meas,tag.key=a,0k=b,k-2=c field-1=1 1", want: []string{`{_0k="b", __name__="my_meas_field_1", k_2="c", tag_key="a"} 0 1`}},
		{name: "leading digit", body: "1m v=1 1", want: []string{`{__name__="_1m_v"} 0 1`}},
		{name: "escapes", body: `we\ ird\,m,t\ k=v\,1 f\=x=2 1`, want: []string{`{__name__="we_ird_m_f_x", t_k="v,1"} 0 2`}},
		{name: "duplicate tags keep the last", body: "m,h=a,h=b v=1 1", want: []string{`{__name__="m_v", h="b"} 0 1`}},
		{name: "colliding tags keep the last", body: "m,a.b=1,a_b=2 v=1 1", want: []string{`{__name__="m_v", a_b="2"} 0 1`}},
		{name: "duplicate fields keep the last", body: "m v=1,v=2 1", want: []string{`{__name__="m_v"} 0 2`}},
		{name: "only strings", body: `m s="a"`},
		{name: "bad line kept out, others kept", body: "m v=1 1\nm v= 2\n\nm w=3 3", bad: 1,
			want: []string{`{__name__="m_v"} 0 1`, `{__name__="m_w"} 0 3`},
			err:  "cannot decode line protocol: line 2, column 5: "},
		{name: "reserved tag", body: "m v=1 1\n# c\nm,__name__=x v=1 1", bad: 1, want: []string{`{__name__="m_v"} 0 1`},
			err: `cannot decode line protocol: line 3: tag key "__name__" is reserved`},
		{name: "timestamp out of range", body: "m v=1 9223372036854775", prec: "s", bad: 1,
			err: "cannot decode line protocol: line 1: timestamp 9223372036854775 is out of range for precision 1s"},
		{name: "no fields", body: "m,t=1", bad: 1, err: "line 1, column 6: "},
		{name: "garbage", body: "\x00\x01", bad: 1, err: "cannot decode line protocol: line 1, column 1: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prec, err := ParsePrecision(tc.prec)
			require.NoError(t, err)
			res, err := Decode([]byte(tc.body), "t", prec, now)
			if tc.err != "" {
				require.ErrorIs(t, err, ErrDecode)
				require.ErrorContains(t, err, tc.err)
			} else {
				require.NoError(t, err)
			}
			var got []string
			for _, s := range res.Series {
				got = append(got, fmt.Sprintf("%s %d %s", s.Labels, s.Samples[0].T, strconv.FormatFloat(s.Samples[0].V, 'g', -1, 64)))
			}
			slices.Sort(got)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.bad, res.Bad)
		})
	}
}

func TestParsePrecision(t *testing.T) {
	for s, want := range map[string]time.Duration{"": 1, "n": 1, "ns": 1, "u": time.Microsecond, "us": time.Microsecond, "µ": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour} {
		got, err := ParsePrecision(s)
		require.NoError(t, err, s)
		require.Equal(t, Precision(want), got, s)
	}
	_, err := ParsePrecision("d")
	require.EqualError(t, err, `precision "d" is not supported: use ns, us, ms or s`)
}

func FuzzDecode(f *testing.F) {
	body, err := os.ReadFile("testdata/telegraf.lp")
	require.NoError(f, err)
	f.Add(body, uint8(0))
	f.Add([]byte("m,t=a v=1i,s=\"x\\\"\ny\" 1\nm v=1 1"), uint8(1))
	f.Add([]byte(`a\ b,c\,d=e\=f g=1u 1`), uint8(2))
	f.Add([]byte{}, uint8(3))
	precs := []string{"ns", "us", "ms", "s", "h"}
	f.Fuzz(func(t *testing.T, b []byte, p uint8) {
		prec, err := ParsePrecision(precs[int(p)%len(precs)])
		require.NoError(t, err)
		res, err := Decode(b, "t", prec, now)
		if err != nil {
			require.ErrorIs(t, err, ErrDecode)
			require.Positive(t, res.Bad)
		}
		require.Len(t, res.Line, len(res.Series))
		for i, s := range res.Series {
			require.True(t, isValidName(s.Labels.Get(labels.MetricName)), s.Labels.String())
			require.Positive(t, res.Line[i])
		}
	})
}

func isValidName(s string) bool {
	return s != "" && metricName(s) == s
}

func BenchmarkDecode(b *testing.B) {
	one, err := os.ReadFile("testdata/telegraf.lp")
	require.NoError(b, err)
	body := []byte(strings.Repeat(string(one), 50))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Decode(body, "t", 1, now); err != nil {
			b.Fatal(err)
		}
	}
}
