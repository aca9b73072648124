package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

const buildColumns = "id, version, service, pipeline, kind, status, commit, branch, environment, " +
	"started_at, finished_at, commit_time, url, trigger, label_names, label_values"

// WriteBuilds stores build and deploy events. An event whose ID is stored
// already is a new version of that run: readers see the highest Version
// only, and an event written twice is read once. An event without
// StartedAt takes FinishedAt; one with neither, or outside [MinTime,
// MaxTime], is dropped and logged. token names the batch, as for
// WriteSeries.
func (c *Client) WriteBuilds(ctx context.Context, events []BuildEvent, token string) error {
	chunks := splitByDay(events, maxDaysPerInsert, func(e BuildEvent) (int64, bool) {
		t := buildTime(e)
		return DayOf(t), t > 0 && t <= MaxTime
	})
	for i, chunk := range chunks {
		if err := c.writeBuilds(ctx, chunk, chunkToken(token, i, len(chunks))); err != nil {
			return err
		}
	}
	return nil
}

// buildTime is the start of a run as stored, its partition's time.
func buildTime(e BuildEvent) int64 {
	if e.StartedAt == 0 {
		return e.FinishedAt
	}
	return e.StartedAt
}

func (c *Client) writeBuilds(ctx context.Context, events []BuildEvent, token string) error {
	var r buildRows
	for _, e := range events {
		r.add(e)
	}
	if r.dropped > 0 {
		c.logger.Warn("dropped build events without a storable start time",
			"events", r.dropped, "min_time", MinTime, "max_time", MaxTime)
	}
	if len(r.id) == 0 {
		return nil
	}
	return c.insert(ctx, "build_events", "tenant, "+buildColumns, token,
		r.tenant, r.id, r.version, r.service, r.pipeline, r.kind, r.status, r.commit, r.branch, r.env,
		r.started, r.finished, r.commitTime, r.url, r.trigger, r.names, r.values)
}

// buildRows are the columns of build_events rows to insert.
type buildRows struct {
	tenant, id, service, pipeline, kind, status []string
	commit, branch, env, url, trigger           []string
	version                                     []uint64
	started, finished, commitTime               []int64
	names, values                               [][]string
	dropped                                     int
}

func (r *buildRows) add(e BuildEvent) {
	start := buildTime(e)
	if start <= 0 || start > MaxTime {
		r.dropped++
		return
	}
	v := e.Version
	if v == 0 {
		v = uint64(max(start, e.FinishedAt))
	}
	names, values := labelArrays(e.Labels)
	r.tenant, r.id, r.version = append(r.tenant, e.Tenant), append(r.id, e.ID), append(r.version, v)
	r.service, r.pipeline = append(r.service, e.Service), append(r.pipeline, e.Pipeline)
	r.kind, r.status = append(r.kind, e.Kind), append(r.status, e.Status)
	r.commit, r.branch, r.env = append(r.commit, e.Commit), append(r.branch, e.Branch), append(r.env, e.Environment)
	r.started, r.finished, r.commitTime = append(r.started, start), append(r.finished, e.FinishedAt), append(r.commitTime, e.CommitTime)
	r.url, r.trigger = append(r.url, e.URL), append(r.trigger, e.Trigger)
	r.names, r.values = append(r.names, names), append(r.values, values)
}

// BuildQuery selects the latest version of one tenant's runs that started
// in [From, To] (ms, inclusive). Empty strings match anything.
type BuildQuery struct {
	Tenant      string
	Service     string
	Pipeline    string
	Branch      string
	Status      string
	Kind        string
	Environment string
	From, To    int64
	Limit       int // at most this many, the latest started first; 0 for all
}

// ReadBuilds returns the runs q selects, newest start first, each in its
// latest version: filters apply to that version, so a run that was
// "running" and is now "failure" is found by Status "failure" only.
func (c *Client) ReadBuilds(ctx context.Context, q BuildQuery) ([]BuildEvent, error) {
	if q.From > q.To || q.Limit < 0 {
		return nil, nil
	}
	rows, err := c.conn.Query(ctx, c.readBuildsSQL(q))
	if err != nil {
		return nil, fmt.Errorf("read builds: %w", err)
	}
	defer rows.Close()
	var (
		out           []BuildEvent
		names, values []string
		sb            = labels.NewScratchBuilder(0)
	)
	for rows.Next() {
		e := BuildEvent{Tenant: q.Tenant}
		if err := rows.Scan(&e.ID, &e.Version, &e.Service, &e.Pipeline, &e.Kind, &e.Status, &e.Commit, &e.Branch,
			&e.Environment, &e.StartedAt, &e.FinishedAt, &e.CommitTime, &e.URL, &e.Trigger, &names, &values); err != nil {
			return nil, fmt.Errorf("read builds: scan: %w", err)
		}
		e.Labels = arrayLabels(&sb, names, values)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read builds: %w", err)
	}
	return out, nil
}

// readBuildsSQL picks the latest version of every run that has a version
// starting in the range, and filters those. Picking first and filtering
// second is what makes filters see only latest versions; looking runs up
// by id (the sort key) rather than by time finds their versions in every
// partition, should a later version have moved the start.
func (c *Client) readBuildsSQL(q BuildQuery) string {
	tenant := "tenant = " + quoteString(q.Tenant)
	between := "started_at >= " + strconv.FormatInt(q.From, 10) + " AND started_at <= " + strconv.FormatInt(q.To, 10)
	var b strings.Builder
	b.WriteString("SELECT " + buildColumns + " FROM (SELECT " + buildColumns + " FROM " + c.table("build_events"))
	b.WriteString(" WHERE " + tenant + " AND id IN (SELECT id FROM " + c.localTable("build_events"))
	b.WriteString(" WHERE " + tenant + " AND " + between + ")")
	b.WriteString(" ORDER BY id, version DESC, finished_at DESC LIMIT 1 BY id) WHERE " + between)
	for _, f := range []struct{ col, value string }{
		{"service", q.Service}, {"pipeline", q.Pipeline}, {"branch", q.Branch}, {"status", q.Status},
		{"kind", q.Kind}, {"environment", q.Environment},
	} {
		if f.value != "" {
			b.WriteString(" AND " + f.col + " = " + quoteString(f.value))
		}
	}
	b.WriteString(" ORDER BY started_at DESC, id")
	if q.Limit > 0 {
		b.WriteString(" LIMIT " + strconv.Itoa(q.Limit))
	}
	return b.String()
}
