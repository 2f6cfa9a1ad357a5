"""The DuckDB side of `cargo bench -p baocao --bench analytics`.

Usage:
  analytics_duckdb.py import DB VALUES.csv
      loads the DHIS2 CSV file that baocao imports into table `v` of DB.
  analytics_duckdb.py table DB SHARES.csv TARGETS FROM TO INDICATORS OUT.csv
      the figures of the target units (comma-separated, or `all` for every
      target of SHARES: target, source, weight, estimated) for periods
      FROM..TO and the indicators (comma-separated, or `all`), written to
      OUT.csv as baocao writes them.

Each run is a process of its own, timed whole by the benchmark, as
baocao's commands are. The shares file is an input prepared beforehand
(written by the benchmark from baocao's registry), not part of the question.
"""

import sys
import time

import duckdb

mode, path = sys.argv[1], sys.argv[2]
con = duckdb.connect(path)
if mode == "import":
    con.execute(
        """CREATE OR REPLACE TABLE v AS
           SELECT dataelement AS indicator, period, orgunit AS unit, CAST(value AS DOUBLE) AS value
           FROM read_csv(?, header = true, all_varchar = true)""",
        [sys.argv[3]],
    )
elif mode == "table":
    shares, targets, first, last, indicators, out = sys.argv[3:9]
    con.execute(
        """CREATE TEMP TABLE shares AS
           SELECT target, source, CAST(weight AS DOUBLE) AS weight, estimated = 'true' AS estimated
           FROM read_csv(?, header = true, all_varchar = true)""",
        [shares],
    )
    wanted, params = "", [first, last]
    for column, values in (("s.target", targets), ("v.indicator", indicators)):
        if values != "all":
            wanted += f" AND {column} IN (SELECT unnest(string_split(?, ',')))"
            params.append(values)
    started = time.perf_counter()
    con.execute(
        f"""COPY (
              SELECT v.indicator, s.target AS unit, v.period, SUM(v.value * s.weight) AS value,
                     ANY_VALUE(e.estimated) AS estimated
              FROM v JOIN shares s ON s.source = v.unit
              JOIN (SELECT target, bool_or(estimated) AS estimated FROM shares GROUP BY target) e
                ON e.target = s.target
              WHERE v.period BETWEEN ? AND ? {wanted}
              GROUP BY v.indicator, s.target, v.period
            ) TO '{out}' (HEADER, DELIMITER ',')""",
        params,
    )
    print(f"query {time.perf_counter() - started:.4f}", file=sys.stderr)
else:
    sys.exit(f"unknown mode {mode}")
