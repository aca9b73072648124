"""Bytes on disk of the modern schema (column codecs), measured in chdb on
the rows TestFootprint wrote to the baseline schema on a real server.

Exports every base table of DATABASE from the server as RowBinary (exact
bytes: no float text round trip), creates the modern DDL (ddl_modern.sql)
in an on-disk chdb session, loads the rows (rollups_1m's as the writer
wrote them), merges each table to one part per
partition (OPTIMIZE ... FINAL) and prints system.parts the way
TestFootprint prints the server's, plus the samples columns one by one.

Run by store's TestFootprint when CAIRN_TEST_CHDB is set:
    python3 footprint.py TESTDATA_DIR HOST PORT DATABASE
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from chdb import session

TESTDATA, HOST, PORT, SRC = sys.argv[1:5]
DB = "footprint"
BASE = ["series", "series_labels", "samples", "rollups_1m", "log_streams", "log_labels", "log_records"]
REPORT = ["samples", "series", "series_labels", "rollups_1m", "log_records", "log_streams", "log_labels"]


def server(sql, out=None):
    r = subprocess.run(["clickhouse-client", "--host", HOST, "--port", PORT, "-q", sql],
                       stdout=out or subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        raise RuntimeError("server: %s\n%s" % (r.stderr.decode().strip()[:500], sql[:300]))
    return r.stdout.decode() if out is None else None


def statements(text):
    for block in text.split(";\n\n"):
        sql = "\n".join(l for l in block.strip().splitlines() if not l.startswith("--")).strip()
        if sql:
            yield sql.replace("cairn.", DB + ".").replace("EXISTS cairn", "EXISTS " + DB)


def main():
    tmp = tempfile.mkdtemp(prefix="cairn-footprint-")
    try:
        chdb = session.Session(os.path.join(tmp, "chdb"))
        q = lambda sql: chdb.query(sql, "TSV").data()
        for sql in statements(open(os.path.join(TESTDATA, "ddl_modern.sql")).read()):
            q(sql)
        # Wide parts, one file per column, as on 18.16 and as a day of
        # production data is stored (small parts default to one file).
        for table in REPORT:
            q("ALTER TABLE %s.%s MODIFY SETTING min_bytes_for_wide_part = 0" % (DB, table))
        start = time.time()
        for table in BASE:
            cols = [l.split("\t") for l in server(
                "SELECT name, type FROM system.columns WHERE database = '%s' AND table = '%s'" % (SRC, table)).splitlines()]
            names = ", ".join(c[0] for c in cols)
            path = os.path.join(tmp, table + ".bin")
            with open(path, "wb") as f:
                server("SELECT %s FROM %s.%s FORMAT RowBinary" % (names, SRC, table), out=f)
            q("INSERT INTO %s.%s (%s) SELECT %s FROM file('%s', 'RowBinary', '%s')" % (
                DB, table, names, names, path, ", ".join(" ".join(c) for c in cols)))
        for table in REPORT:
            q("OPTIMIZE TABLE %s.%s FINAL" % (DB, table))
        parts = {}
        for line in q("SELECT table, count(), sum(rows), sum(bytes_on_disk), sum(data_compressed_bytes), "
                      "sum(data_uncompressed_bytes) FROM system.parts WHERE database = '%s' AND active "
                      "GROUP BY table" % DB).splitlines():
            f = line.split("\t")
            parts[f[0]] = [int(x) for x in f[1:]]
        version = q("SELECT version()").strip()
        lines, text = (int(x) for x in q("SELECT count(), sum(length(line)) FROM %s.log_records" % DB).split())
        print("chdb %s (ClickHouse %s), modern schema, loaded in %.1fs:" % (
            __import__("chdb").__version__, version, time.time() - start))
        print("| table | parts | rows | bytes on disk | bytes/row | compression |\n|---|--:|--:|--:|--:|--:|")
        for t in REPORT:
            n, rows, size, comp, uncomp = parts.get(t, [0] * 5)
            print("| %s | %d | %d | %d | %.2f | %.1f× |" % (t, n, rows, size, size / max(rows, 1), uncomp / max(comp, 1)))
        b = lambda *ts: sum(parts.get(t, [0] * 5)[2] for t in ts)
        samples = parts["samples"][1]
        print("bytes per sample: %.2f (samples), %.2f (with series, series_labels, rollups_1m)" % (
            b("samples") / samples, b("samples", "series", "series_labels", "rollups_1m") / samples))
        print("bytes per log line: %.2f (log_records), %.2f (with log_streams, log_labels); raw text %.1f" % (
            b("log_records") / lines, b("log_records", "log_streams", "log_labels") / lines, text / lines))
        print("samples columns (compressed bytes per sample):")
        for line in q("SELECT name, compression_codec, data_compressed_bytes FROM system.columns "
                      "WHERE database = '%s' AND table = 'samples'" % DB).splitlines():
            name, codec, comp = line.split("\t")
            print("  %-12s %-32s %.3f" % (name, codec or "(default)", int(comp) / samples))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


sys.exit(main())
