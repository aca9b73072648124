package store

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a ClickHouse server version, such as 23.8.2.
type Version struct {
	Major, Minor, Patch int
}

// ParseVersion parses "X.Y" or "X.Y.Z", ignoring anything after a fourth
// dot (ClickHouse reports builds as 23.8.2.7).
func ParseVersion(s string) (Version, error) {
	parts := strings.SplitN(strings.TrimSpace(s), ".", 4)
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("parse ClickHouse version %q: want X.Y or X.Y.Z", s)
	}
	var nums [3]int
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("parse ClickHouse version %q: part %q is not a number", s, parts[i])
		}
		nums[i] = n
	}
	return Version{Major: nums[0], Minor: nums[1], Patch: nums[2]}, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v is major.minor or later.
func (v Version) AtLeast(major, minor int) bool {
	if v.Major != major {
		return v.Major > major
	}
	return v.Minor >= minor
}

// The oldest server that gets the modern schema flavour and insert
// deduplication tokens is the 23.8 LTS release, the oldest ClickHouse that
// production users run; everything the modern flavour uses (column codecs,
// non-experimental LowCardinality, non_replicated_deduplication_window,
// insert_deduplication_token) is older than it. Servers between 18.16 and
// 23.8 get the baseline, which is correct everywhere, just larger on disk.
const (
	modernMajor = 23
	modernMinor = 8
)

// features are the version-dependent parts of the schema and the writer,
// decided in one place.
type features struct {
	modern bool // codecs, LowCardinality, deduplication window and tokens
}

func featuresOf(v Version) features {
	return features{modern: v.AtLeast(modernMajor, modernMinor)}
}

// flavour names the schema flavour, as recorded in schema_migrations.
func (f features) flavour() string {
	if f.modern {
		return "modern"
	}
	return "baseline"
}
