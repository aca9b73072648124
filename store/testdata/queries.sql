-- SelectSeries up{job="api"}: metric name on the sort key
SELECT fingerprint, metric_name, label_names, label_values, toUInt8(fingerprint IN (SELECT fingerprint FROM cairn.histogram_series WHERE tenant = 't' AND date = toDate('2023-11-14'))) AS histograms FROM cairn.series WHERE tenant = 't' AND date = toDate('2023-11-14') AND metric_name = 'up' AND label_values[indexOf(label_names, 'job')] = 'api' LIMIT 1 BY fingerprint;

-- SelectSeries {job=~"api|db", instance!~"test.*"}: no metric name, label index first
SELECT fingerprint, metric_name, label_names, label_values, toUInt8(fingerprint IN (SELECT fingerprint FROM cairn.histogram_series WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20'))) AS histograms FROM cairn.series PREWHERE fingerprint IN (SELECT fingerprint FROM cairn.series_labels WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND name = 'job' AND value IN ('api', 'db')) WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND label_values[indexOf(label_names, 'job')] IN ('api', 'db') AND NOT (match(label_values[indexOf(label_names, 'instance')], '^(?s:test.*)$')) LIMIT 1 BY fingerprint;

-- SelectSeries {__name__=~"http_.*", env=""}: nothing for the index
SELECT fingerprint, metric_name, label_names, label_values, toUInt8(fingerprint IN (SELECT fingerprint FROM cairn.histogram_series WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20'))) AS histograms FROM cairn.series WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND match(metric_name, '^(?s:http_.*)$') AND label_values[indexOf(label_names, 'env')] = '' LIMIT 1 BY fingerprint;

-- ReadSamples
SELECT fingerprint, timestamp, value, flags FROM cairn.samples WHERE tenant = 't' AND fingerprint IN (1, 18446744073709551615) AND timestamp >= 1699920000000 AND timestamp <= 1700006399999;

-- ReadHistograms
SELECT fingerprint, timestamp, histogram FROM cairn.histograms WHERE tenant = 't' AND fingerprint IN (1, 18446744073709551615) AND timestamp >= 1699920000000 AND timestamp <= 1700006399999 ORDER BY fingerprint, timestamp LIMIT 1 BY fingerprint, timestamp;

-- LabelNames
SELECT DISTINCT name FROM cairn.series_labels WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') ORDER BY name;

-- LabelNames with matchers
SELECT DISTINCT arrayJoin(if(metric_name = '', label_names, arrayPushFront(label_names, '__name__'))) AS n FROM cairn.series WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND metric_name = 'up' ORDER BY n;

-- LabelValues
SELECT DISTINCT value FROM cairn.series_labels WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND name = 'job' ORDER BY value;

-- LabelValues of __name__ with matchers
SELECT DISTINCT metric_name AS v FROM cairn.series PREWHERE fingerprint IN (SELECT fingerprint FROM cairn.series_labels WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND name = 'job' AND value = 'api') WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND label_values[indexOf(label_names, 'job')] = 'api' AND metric_name != '' ORDER BY v;

-- LabelValues with matchers
SELECT DISTINCT label_values[indexOf(label_names, 'instance')] AS v FROM cairn.series WHERE tenant = 't' AND date = toDate('2023-11-14') AND metric_name = 'up' AND label_values[indexOf(label_names, 'job')] = 'api' AND label_values[indexOf(label_names, 'instance')] != '' ORDER BY v;

-- ReadRollup
SELECT fingerprint, minute, value_min, value_max, value_sum, value_count, value_last, last_timestamp FROM cairn.rollups_1m FINAL WHERE tenant = 't' AND fingerprint IN (1, 18446744073709551615) AND minute >= 1699920000000 AND minute <= 1700006399999 ORDER BY fingerprint, minute;

-- WriteMetrics: minutes of cold series from samples
SELECT fingerprint, intDiv(timestamp, 60000) * 60000 AS minute, min(value), max(value), sum(value), count(),
    argMax(value, timestamp), max(timestamp), groupBitOr(bitShiftLeft(toUInt64(1), toUInt64(intDiv(timestamp, 1000) - intDiv(timestamp, 60000) * 60))) FROM cairn.samples FINAL WHERE tenant = 't' AND fingerprint IN (1, 2) AND timestamp >= 1699920000000 AND flags = 0 GROUP BY fingerprint, minute ORDER BY fingerprint, minute;

-- RecomputeRollups of 2023-11-14 (drop, then insert)
ALTER TABLE cairn.rollups_1m DROP PARTITION ID '20231114';
INSERT INTO cairn.rollups_1m (tenant, fingerprint, minute, value_min, value_max, value_sum, value_count, value_last, last_timestamp) SELECT tenant, fingerprint, intDiv(timestamp, 60000) * 60000 AS minute, min(value), max(value), sum(value), count(),
    argMax(value, timestamp), max(timestamp) FROM cairn.samples FINAL WHERE timestamp >= 1699920000000 AND timestamp < 1700006400000 AND flags = 0 GROUP BY tenant, fingerprint, minute;

-- SelectStreams {app="api", env=~"prod|staging"}: label index first
SELECT fingerprint, label_names, label_values FROM cairn.log_streams PREWHERE fingerprint IN (SELECT fingerprint FROM cairn.log_labels WHERE tenant = 't' AND date = toDate('2023-11-14') AND name = 'app' AND value = 'api') WHERE tenant = 't' AND date = toDate('2023-11-14') AND label_values[indexOf(label_names, 'app')] = 'api' AND label_values[indexOf(label_names, 'env')] IN ('prod', 'staging') LIMIT 1 BY fingerprint;

-- SelectStreams {app=~"api-.*"}: label index range of one label
SELECT fingerprint, label_names, label_values FROM cairn.log_streams PREWHERE fingerprint IN (SELECT fingerprint FROM cairn.log_labels WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND name = 'app' AND match(value, '^(?s:api-.*)$')) WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND match(label_values[indexOf(label_names, 'app')], '^(?s:api-.*)$') LIMIT 1 BY fingerprint;

-- ReadLogs backward, limit 100, |= "error" != "timeout" |~ "(?i)status=5.." !~ "health"
SELECT fingerprint, timestamp, line, metadata_names, metadata_values FROM cairn.log_records WHERE tenant = 't' AND fingerprint IN (1, 2) AND timestamp >= 1699920000000000000 AND timestamp <= 1700006399999999999 AND line LIKE '%error%' AND NOT (line LIKE '%timeout%') AND match(line, '(?-s:(?i)status=5..)') AND NOT (match(line, '(?-s:health)')) ORDER BY timestamp DESC, fingerprint, line LIMIT 1 BY fingerprint, timestamp, line LIMIT 100;

-- ReadLogs forward, no limit
SELECT fingerprint, timestamp, line, metadata_names, metadata_values FROM cairn.log_records WHERE tenant = 't' AND fingerprint IN (1) AND timestamp >= 1699920000000000000 AND timestamp <= 1700006399999999999 ORDER BY timestamp, fingerprint, line LIMIT 1 BY fingerprint, timestamp, line;

-- CountLogs, step 1m
SELECT fingerprint, t, count(), toUInt64(sum(bytes)) FROM (SELECT fingerprint, toInt64(intDiv(timestamp + 0, 60000000000) * 60000000000 + 59999999999) AS t, any(length(line)) AS bytes FROM cairn.log_records WHERE tenant = 't' AND fingerprint IN (1, 2) AND timestamp >= 1699920000000000000 AND timestamp <= 1700006399999999999 AND line LIKE '%error%' AND NOT (line LIKE '%timeout%') AND match(line, '(?-s:(?i)status=5..)') AND NOT (match(line, '(?-s:health)')) GROUP BY fingerprint, timestamp, cityHash64(line)) GROUP BY fingerprint, t ORDER BY fingerprint, t;

-- LogLabelNames
SELECT DISTINCT name FROM cairn.log_labels WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') ORDER BY name;

-- LogLabelNames with matchers
SELECT DISTINCT arrayJoin(arrayFilter((n, v) -> v != '', label_names, label_values)) AS n FROM cairn.log_streams PREWHERE fingerprint IN (SELECT fingerprint FROM cairn.log_labels WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND name = 'app' AND value = 'api') WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND label_values[indexOf(label_names, 'app')] = 'api' ORDER BY n;

-- LogLabelValues
SELECT DISTINCT value FROM cairn.log_labels WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND name = 'env' ORDER BY value;

-- LogLabelValues with matchers
SELECT DISTINCT label_values[indexOf(label_names, 'env')] AS v FROM cairn.log_streams PREWHERE fingerprint IN (SELECT fingerprint FROM cairn.log_labels WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND name = 'app' AND value = 'api') WHERE tenant = 't' AND date >= toDate('2023-11-14') AND date <= toDate('2023-11-20') AND label_values[indexOf(label_names, 'app')] = 'api' AND label_values[indexOf(label_names, 'env')] != '' ORDER BY v;

-- ReadBuilds all of a week
SELECT id, version, service, pipeline, kind, status, commit, branch, environment, started_at, finished_at, commit_time, url, trigger, label_names, label_values FROM (SELECT id, version, service, pipeline, kind, status, commit, branch, environment, started_at, finished_at, commit_time, url, trigger, label_names, label_values FROM cairn.build_events WHERE tenant = 't' AND id IN (SELECT id FROM cairn.build_events WHERE tenant = 't' AND started_at >= 1699920000000 AND started_at <= 1700524799999) ORDER BY id, version DESC, finished_at DESC LIMIT 1 BY id) WHERE started_at >= 1699920000000 AND started_at <= 1700524799999 ORDER BY started_at DESC, id;

-- ReadAlertStates service=api firing and resolved of a week
SELECT service, fingerprint, timestamp, state, rule_group, alert_name, severity, active_at, fired_at, resolved_at, value, label_names, label_values FROM cairn.alert_states WHERE tenant = 't' AND service = 'api' AND timestamp >= 1699920000000 AND timestamp <= 1700524799999 AND state IN ('firing', 'resolved') ORDER BY timestamp, fingerprint, state LIMIT 1 BY fingerprint, timestamp, state;

-- ReadBuilds service=api kind=deploy status=success, limit 50
SELECT id, version, service, pipeline, kind, status, commit, branch, environment, started_at, finished_at, commit_time, url, trigger, label_names, label_values FROM (SELECT id, version, service, pipeline, kind, status, commit, branch, environment, started_at, finished_at, commit_time, url, trigger, label_names, label_values FROM cairn.build_events WHERE tenant = 't' AND id IN (SELECT id FROM cairn.build_events WHERE tenant = 't' AND started_at >= 1699920000000 AND started_at <= 1700524799999) ORDER BY id, version DESC, finished_at DESC LIMIT 1 BY id) WHERE started_at >= 1699920000000 AND started_at <= 1700524799999 AND service = 'api' AND status = 'success' AND kind = 'deploy' ORDER BY started_at DESC, id LIMIT 50;

