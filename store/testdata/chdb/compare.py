"""Check that the modern schema and every query shape answer on a current
ClickHouse engine (chdb) as the baseline schema does on a real server.

Creates the baseline DDL (ddl_baseline.sql) in a fresh database on the
server and the modern DDL (ddl_modern.sql) in chdb, inserts the same
generated rows into both, runs every query of queries.sql on both and compares the answers, floats
to 12 significant digits. Entries of several statements run them all and
compare the rollups they leave. Exit status 1 on any difference.

Run by store's TestModernServerAgrees:
    python3 compare.py TESTDATA_DIR HOST PORT
"""
import random
import subprocess
import sys

from chdb import session

TESTDATA, HOST, PORT = sys.argv[1], sys.argv[2], sys.argv[3]
DB = "chdb_compare_%08x" % random.SystemRandom().getrandbits(32)


def server(sql):
    r = subprocess.run(["clickhouse-client", "--host", HOST, "--port", PORT, "--format", "TSV", "-q", sql],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("server: %s\n%s" % (r.stderr.strip()[:500], sql[:300]))
    return r.stdout


chdb = session.Session()


def modern(sql):
    return chdb.query(sql, "TSV").data()


def statements(text):
    """Statements of a golden file, comments dropped, database renamed."""
    for block in text.split(";\n\n"):
        sql = "\n".join(l for l in block.strip().splitlines() if not l.startswith("--")).strip()
        if sql:
            yield sql.replace("cairn.", DB + ".").replace("EXISTS cairn", "EXISTS " + DB)


def q(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def arr(xs):
    return "[" + ",".join(q(x) for x in xs) + "]"


def insert(table, columns, rows):
    rows.append(rows[-1])  # every table gets a duplicate row
    return "INSERT INTO %s.%s (%s) VALUES %s" % (
        DB, table, columns, ",".join("(" + ",".join(r) + ")" for r in rows))


def metrics(rng, day_ms):
    series = [(1, "up", {"job": "api", "instance": "a"}), (18446744073709551615, "up", {"job": "db", "instance": "test-1"}),
              (3, "http_requests_total", {"job": "api", "env": "prod"}), (4, "http_x", {"instance": "b"})]
    srows, lrows, rows = [], [], []
    for fp, name, ls in series:
        keys = sorted(ls)
        for day in ("2023-11-14", "2023-11-15"):
            srows.append(("'t'", "toDate('%s')" % day, str(fp), q(name), arr(keys), arr([ls[k] for k in keys])))
            for k, v in [("__name__", name)] + [(k, ls[k]) for k in keys]:
                lrows.append(("'t'", "toDate('%s')" % day, q(k), q(v), str(fp)))
        for i in range(500):
            rows.append(("'t'", str(fp), str(day_ms + i * 15000 + rng.randint(0, 3)), repr(rng.random() * 100),
                         "1" if i % 97 == 0 else "0"))
    hrows, hsrows = [], []
    for fp in (1, 3):  # series with native histograms on the first day
        hsrows.append(("'t'", "toDate('2023-11-14')", str(fp)))
        for i in range(50):
            # Opaque to the server; ASCII, so that both answers decode as text.
            blob = bytes([1, rng.randint(0, 1), 0] + [rng.randint(0, 127) for _ in range(rng.randint(8, 40))])
            hrows.append(("'t'", str(fp), str(day_ms + i * 60000 + rng.randint(0, 3)), "unhex('%s')" % blob.hex()))
    return [insert("samples", "tenant, fingerprint, timestamp, value, flags", rows),
            insert("series", "tenant, date, fingerprint, metric_name, label_names, label_values", srows),
            insert("series_labels", "tenant, date, name, value, fingerprint", lrows),
            insert("histograms", "tenant, fingerprint, timestamp, histogram", hrows),
            insert("histogram_series", "tenant, date, fingerprint", hsrows)]


def logs(rng, day_ms):
    words = ["error", "timeout", "status=500", "STATUS=503", "health", "GET", "/users", "ok", "took", "2s",
             "50%", "a_b", "multi\nline", "it's", "C:\\tmp"]
    streams = [(1, {"app": "api", "env": "prod"}), (2, {"app": "api", "env": "staging"}), (3, {"app": "api-gw", "env": "prod"})]
    rows, srows, lrows = [], [], []
    for fp, ls in streams:
        keys = sorted(ls)
        srows.append(("'t'", "toDate('2023-11-14')", str(fp), arr(keys), arr([ls[k] for k in keys])))
        lrows += [("'t'", "toDate('2023-11-14')", q(k), q(ls[k]), str(fp)) for k in keys]
        for i in range(400):
            line = " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
            t = day_ms * 1000000 + rng.randint(0, 86400 * 10**9 - 1)
            rows.append(("'t'", str(fp), str(t), q(line), arr(["k"]), arr([str(i)])))
    return [insert("log_records", "tenant, fingerprint, timestamp, line, metadata_names, metadata_values", rows),
            insert("log_streams", "tenant, date, fingerprint, label_names, label_values", srows),
            insert("log_labels", "tenant, date, name, value, fingerprint", lrows)]


def builds_and_alerts(rng, day_ms):
    brows, arows = [], []
    for i in range(60):
        st = day_ms + rng.randint(0, 7 * 86400000)
        for v, status in enumerate(["running", rng.choice(["success", "failure", "cancelled"])]):
            brows.append(("'t'", q("gh/%d/1" % i), str(st + v * 1000), q(rng.choice(["api", "web"])), q("ci"),
                          q(rng.choice(["build", "deploy"])), q(status), q("abc%d" % i), q("main"), q("prod"),
                          str(st), str(st + 60000 if v else 0), "0", q("https://ci/%d" % i), q("push"), arr(["a"]), arr(["b"])))
    for i in range(40):
        st, svc = day_ms + rng.randint(0, 7 * 86400000), rng.choice(["api", "web"])
        for k, state in enumerate(["pending", "firing", "resolved"]):
            arows.append(("'t'", q(svc), str(1000 + i), str(st + k * 60000), q(state), q("g"), q("A%d" % (i % 3)),
                          q("page"), str(st), str(st + 60000 if k else 0), str(st + 120000 if k == 2 else 0),
                          repr(rng.random()), arr(["alertname", "service"]), arr(["A", svc])))
    return [insert("build_events", "tenant, id, version, service, pipeline, kind, status, commit, branch, environment, "
                   "started_at, finished_at, commit_time, url, trigger, label_names, label_values", brows),
            insert("alert_states", "tenant, service, fingerprint, timestamp, state, rule_group, alert_name, severity, "
                   "active_at, fired_at, resolved_at, value, label_names, label_values", arows)]


def norm(text):
    def field(x):
        try:
            return "%.12g" % float(x) if any(c in x for c in ".en") else x
        except ValueError:
            return x
    return [[field(x) for x in line.split("\t")] for line in text.splitlines()]


ROLLUPS = ("SELECT fingerprint, minute, value_min, value_max, value_sum, value_count, value_last, last_timestamp "
           "FROM %s.rollups_1m FINAL ORDER BY fingerprint, minute")


def main():
    for sql in statements(open(TESTDATA + "/ddl_baseline.sql").read()):
        server(sql)
    try:
        for sql in statements(open(TESTDATA + "/ddl_modern.sql").read()):
            modern(sql)
        rng, day_ms = random.Random(7), 1699920000000  # 2023-11-14
        for sql in metrics(rng, day_ms) + logs(rng, day_ms) + builds_and_alerts(rng, day_ms):
            server(sql)
            modern(sql)
        failed = 0
        for block in open(TESTDATA + "/queries.sql").read().split(";\n\n"):
            name = block.strip().splitlines()[0][3:] if block.strip() else ""
            sqls = [s for s in statements(block.replace(";\n", ";\n\n"))]
            if not sqls:
                continue
            if len(sqls) > 1:
                for sql in sqls:
                    server(sql)
                    modern(sql)
                sqls = [ROLLUPS % DB]
            a, b = server(sqls[0]), modern(sqls[0])
            same = norm(a) == norm(b)
            failed += not same
            print("%s %s (%d rows)" % ("ok  " if same else "DIFF", name, a.count("\n")))
            if not same:
                print("  server:", a[:600].replace("\n", "\n    "))
                print("  chdb:  ", b[:600].replace("\n", "\n    "))
        return 1 if failed else 0
    finally:
        server("DROP DATABASE IF EXISTS " + DB)


sys.exit(main())
