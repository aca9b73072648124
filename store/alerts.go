package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

const alertColumns = "service, fingerprint, timestamp, state, rule_group, alert_name, severity, " +
	"active_at, fired_at, resolved_at, value, label_names, label_values"

// WriteAlertStates stores alert state changes. A change equal to a stored
// one in tenant, alert (labels), time and state is the same change and is
// read once. Changes with T outside [MinTime, MaxTime] are dropped and
// logged. token names the batch, as for WriteSeries.
func (c *Client) WriteAlertStates(ctx context.Context, states []AlertState, token string) error {
	chunks := splitByDay(states, maxDaysPerInsert, func(s AlertState) (int64, bool) {
		return DayOf(s.T), storableTime(s.T)
	})
	for i, chunk := range chunks {
		if err := c.writeAlertStates(ctx, chunk, chunkToken(token, i, len(chunks))); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) writeAlertStates(ctx context.Context, states []AlertState, token string) error {
	var r alertRows
	for _, s := range states {
		r.add(s)
	}
	if r.dropped > 0 {
		c.logger.Warn("dropped alert states outside the storable time range",
			"states", r.dropped, "min_time", MinTime, "max_time", MaxTime)
	}
	if len(r.fp) == 0 {
		return nil
	}
	return c.insert(ctx, "alert_states", "tenant, "+alertColumns, token,
		r.tenant, r.service, r.fp, r.ts, r.state, r.group, r.name, r.severity,
		r.activeAt, r.firedAt, r.resolvedAt, r.value, r.names, r.values)
}

// alertRows are the columns of alert_states rows to insert.
type alertRows struct {
	tenant, service, state, group, name, severity []string
	fp                                            []uint64
	ts, activeAt, firedAt, resolvedAt             []int64
	value                                         []float64
	names, values                                 [][]string
	dropped                                       int
}

func (r *alertRows) add(s AlertState) {
	if !storableTime(s.T) {
		r.dropped++
		return
	}
	service, severity := s.Service, s.Severity
	if service == "" {
		service = s.Labels.Get("service")
	}
	if severity == "" {
		severity = s.Labels.Get("severity")
	}
	names, values := labelArrays(s.Labels)
	r.tenant, r.service, r.fp, r.ts = append(r.tenant, s.Tenant), append(r.service, service), append(r.fp, Fingerprint(s.Labels)), append(r.ts, s.T)
	r.state, r.group, r.name, r.severity = append(r.state, s.State), append(r.group, s.RuleGroup), append(r.name, s.AlertName), append(r.severity, severity)
	r.activeAt, r.firedAt, r.resolvedAt = append(r.activeAt, s.ActiveAt), append(r.firedAt, s.FiredAt), append(r.resolvedAt, s.ResolvedAt)
	r.value, r.names, r.values = append(r.value, s.Value), append(r.names, names), append(r.values, values)
}

// AlertQuery selects one tenant's alert state changes with T in [From,
// To] (ms, inclusive). An empty Service or States matches any.
type AlertQuery struct {
	Tenant   string
	Service  string
	From, To int64
	States   []string
	Limit    int // at most this many, the oldest first; 0 for all
}

// ReadAlertStates returns the state changes q selects, by time, then by
// alert fingerprint and state; each once however often it was written.
func (c *Client) ReadAlertStates(ctx context.Context, q AlertQuery) ([]AlertState, error) {
	if q.From > q.To || q.Limit < 0 {
		return nil, nil
	}
	rows, err := c.conn.Query(ctx, c.readAlertStatesSQL(q))
	if err != nil {
		return nil, fmt.Errorf("read alert states: %w", err)
	}
	defer rows.Close()
	var (
		out           []AlertState
		fp            uint64
		names, values []string
		sb            = labels.NewScratchBuilder(0)
	)
	for rows.Next() {
		s := AlertState{Tenant: q.Tenant}
		if err := rows.Scan(&s.Service, &fp, &s.T, &s.State, &s.RuleGroup, &s.AlertName, &s.Severity,
			&s.ActiveAt, &s.FiredAt, &s.ResolvedAt, &s.Value, &names, &values); err != nil {
			return nil, fmt.Errorf("read alert states: scan: %w", err)
		}
		s.Labels = arrayLabels(&sb, names, values)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read alert states: %w", err)
	}
	return out, nil
}

func (c *Client) readAlertStatesSQL(q AlertQuery) string {
	var b strings.Builder
	b.WriteString("SELECT " + alertColumns + " FROM " + c.table("alert_states"))
	b.WriteString(" WHERE tenant = " + quoteString(q.Tenant))
	if q.Service != "" {
		b.WriteString(" AND service = " + quoteString(q.Service))
	}
	b.WriteString(" AND timestamp >= " + strconv.FormatInt(q.From, 10) + " AND timestamp <= " + strconv.FormatInt(q.To, 10))
	if len(q.States) > 0 {
		b.WriteString(" AND state IN (" + quoteStrings(q.States) + ")")
	}
	b.WriteString(" ORDER BY timestamp, fingerprint, state LIMIT 1 BY fingerprint, timestamp, state")
	if q.Limit > 0 {
		b.WriteString(" LIMIT " + strconv.Itoa(q.Limit))
	}
	return b.String()
}
