"""The DuckDB side of `cargo bench -p baocao --bench restate`.

Generates the same values as the Rust side (same formula), reads the same
shares (map.csv, written by the Rust side from the registry), and restates
them into the new communes and their provinces with SQL. Prints one JSON
line: seconds, peak memory, and a checksum to compare with the Rust side.
Usage: python3 restate_duckdb.py DIR SOURCES INDICATORS MONTHS THREADS
"""

import json
import resource
import sys
import time

import duckdb

directory, sources, indicators, months, threads = sys.argv[1], *map(int, sys.argv[2:6])
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute(f"CREATE TABLE shares AS SELECT * FROM read_csv('{directory}/map.csv', header = true)")
con.execute(
    f"""CREATE TABLE v AS
        SELECT s.range::INTEGER AS source, i.range::INTEGER AS indicator, m.range::INTEGER AS month,
               ((s.range * 31 + i.range * 17 + m.range * 7) % 1000)::DOUBLE AS value
        FROM range({sources}) s, range({indicators}) i, range({months}) m"""
)
runs = []
for _ in range(3):
    con.execute("DROP TABLE IF EXISTS communes")
    start = time.perf_counter()
    con.execute(
        """CREATE TABLE communes AS
           SELECT target, indicator, month, SUM(value * weight) AS value
           FROM v JOIN shares USING (source) GROUP BY ALL"""
    )
    provinces = con.execute(
        """SELECT province, indicator, month, SUM(value) AS value
           FROM communes JOIN (SELECT DISTINCT target, province FROM shares) USING (target)
           GROUP BY ALL"""
    ).fetchall()
    runs.append(time.perf_counter() - start)
checksum = sum(row[3] for row in provinces)
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": sorted(runs)[1], "peak_mib": peak_kib / 1024, "checksum": checksum, "rows": len(provinces)}))
