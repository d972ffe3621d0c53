"""Peers of bench/parquet_bench.cpp (DuckDB), timed on the very files it wrote.

  parquet_peers.py duckdb_read PATH THREADS [REPS]
      CREATE TABLE t AS SELECT * FROM read_parquet(PATH), at THREADS threads; the best of REPS
      (default 3), the table dropped between them.
  parquet_peers.py duckdb_copy SOURCE OUT THREADS [REPS] [ROW_GROUP_SIZE]
      Loads SOURCE (a .parquet or .csv file) into a table first, untimed, then times
      COPY t TO OUT (FORMAT parquet, COMPRESSION snappy[, ROW_GROUP_SIZE n]) at THREADS threads;
      the best of REPS (default 3). OUT is left as the last COPY wrote it.
Each prints one line: "peer <name> seconds=<s> rows=<n>" (duckdb_copy adds bytes=<file size>).
"""
import os
import sys
import time


def connect(threads):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads={int(threads)}")
    return con


def duckdb_read(path, threads, reps="3"):
    con = connect(threads)
    best = float("inf")
    rows = 0
    for _ in range(int(reps)):
        con.execute("DROP TABLE IF EXISTS t")
        start = time.perf_counter()
        con.execute("CREATE TABLE t AS SELECT * FROM read_parquet(?)", [path])
        best = min(best, time.perf_counter() - start)
        (rows,) = con.execute("SELECT count(*) FROM t").fetchone()
    print(f"peer duckdb_read seconds={best:.4f} rows={rows}")


def duckdb_copy(source, out, threads, reps="3", row_group_size="0"):
    con = connect(threads)
    reader = "read_csv" if source.endswith(".csv") else "read_parquet"
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}(?)", [source])
    (rows,) = con.execute("SELECT count(*) FROM t").fetchone()
    options = "FORMAT parquet, COMPRESSION snappy"
    if int(row_group_size) > 0:
        options += f", ROW_GROUP_SIZE {int(row_group_size)}"
    quoted = out.replace("'", "''")
    best = float("inf")
    for _ in range(int(reps)):
        if os.path.exists(out):
            os.remove(out)
        start = time.perf_counter()
        con.execute(f"COPY t TO '{quoted}' ({options})")
        best = min(best, time.perf_counter() - start)
    print(f"peer duckdb_copy seconds={best:.4f} rows={rows} bytes={os.path.getsize(out)}")


if __name__ == "__main__":
    {"duckdb_read": duckdb_read, "duckdb_copy": duckdb_copy}[sys.argv[1]](*sys.argv[2:])
