package query

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// apiDocExample is a GET request of docs/api.md and the response shown
// after it.
type apiDocExample struct {
	path     string   // path and query
	headers  []string // name, value, …
	response string
}

var (
	docURL    = regexp.MustCompile(`'https?://[^/']+(/api/v1/(?:builds|dora)[^']*)'`)
	docHeader = regexp.MustCompile(`-H '([^:']+): ([^']*)'`)
)

// apiDocExamples returns the GET examples of /api/v1/builds and
// /api/v1/dora in doc: each ```sh block with such a curl request,
// paired with the next ```json block.
func apiDocExamples(t *testing.T, doc string) []apiDocExample {
	t.Helper()
	var (
		out     []apiDocExample
		pending *apiDocExample
	)
	blocks := strings.Split(doc, "```")
	for i := 1; i < len(blocks); i += 2 { // odd pieces are inside fences
		lang, body, _ := strings.Cut(blocks[i], "\n")
		switch lang {
		case "sh":
			m := docURL.FindStringSubmatch(body)
			if m == nil || strings.Contains(body, "-X POST") {
				continue
			}
			require.Nil(t, pending, "example %s has no response", body)
			pending = &apiDocExample{path: m[1]}
			for _, h := range docHeader.FindAllStringSubmatch(body, -1) {
				pending.headers = append(pending.headers, h[1], h[2])
			}
		case "json":
			if pending != nil {
				pending.response = body
				out = append(out, *pending)
				pending = nil
			}
		}
	}
	require.Nil(t, pending, "last example has no response")
	return out
}

// requireFields checks that got has every object key of want, at every
// depth (an array's elements against want's first).
func requireFields(t *testing.T, want, got any, path string) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		require.True(t, ok, "%s: want an object, got %v", path, got)
		for k, v := range w {
			gv, ok := g[k]
			require.True(t, ok, "%s.%s documented but not in the response", path, k)
			requireFields(t, v, gv, path+"."+k)
		}
	case []any:
		g, ok := got.([]any)
		require.True(t, ok, "%s: want an array, got %v", path, got)
		if len(w) > 0 {
			require.NotEmpty(t, g, "%s: documented non-empty", path)
			for _, e := range g {
				requireFields(t, w[0], e, path+"[]")
			}
		}
	}
}

// TestAPIDocExamples runs docs/api.md's GET examples against the builds
// fixture: each response must have every documented field, and, the
// fixture being the documented data, the documented values.
func TestAPIDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/api.md")
	require.NoError(t, err)
	examples := apiDocExamples(t, string(doc))
	require.GreaterOrEqual(t, len(examples), 4)
	var sawBuilds, sawDora bool
	srv := buildsServer(t, buildsFixture())
	for _, ex := range examples {
		t.Run(ex.path, func(t *testing.T) {
			sawBuilds = sawBuilds || strings.HasPrefix(ex.path, "/api/v1/builds")
			sawDora = sawDora || strings.HasPrefix(ex.path, "/api/v1/dora")
			var want map[string]any
			require.NoError(t, json.Unmarshal([]byte(ex.response), &want), "documented response")
			code, got := getJSON(t, srv, ex.path, ex.headers...)
			wantCode := 200
			if want["status"] == "error" {
				wantCode = 400
			}
			require.Equal(t, wantCode, code, got)
			requireFields(t, want, got, "")
			require.Equal(t, want, got)
		})
	}
	require.True(t, sawBuilds && sawDora, "docs/api.md lost its builds or DORA example")
}
