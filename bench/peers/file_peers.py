"""Peers of bench/file_bench.cpp, timed on the very files it wrote.

  file_peers.py duckdb_json PATH THREADS     count(*) of fields.age.value >= 50 with read_json
  file_peers.py duckdb_csv PATH THREADS      load the CSV into a table with read_csv
  file_peers.py reference_create PATH N      dataknobs-data's file backend: creates into a
                                             store of N records (its JSON layout)
Each prints one line: "peer <name> seconds=<s> [per_sec=<r>]".
"""
import json
import sys
import time


def duckdb_json(path, threads):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads={int(threads)}")
    start = time.perf_counter()
    (n,) = con.execute(
        "SELECT count(*) FROM read_json(?, format='newline_delimited') WHERE fields.age.value >= 50",
        [path]).fetchone()
    print(f"peer duckdb_json seconds={time.perf_counter() - start:.4f} matched={n}")


def duckdb_csv(path, threads):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads={int(threads)}")
    start = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [path])
    (n,) = con.execute("SELECT count(*) FROM t").fetchone()
    print(f"peer duckdb_csv seconds={time.perf_counter() - start:.4f} rows={n}")


def reference_create(path, n):
    from dataknobs_data.backends.file import SyncFileDatabase
    from dataknobs_data.records import Record
    n = int(n)
    # The store is written directly in the reference's layout: building it through the reference
    # would take hours, since it rewrites the file on every create.
    data = {}
    for i in range(n):
        rid = f"r{i:08d}"
        data[rid] = {"id": rid, "fields": {
            "name": {"name": "name", "value": f"user_{i:07d}", "type": "string"},
            "age": {"name": "age", "value": 18 + i % 63, "type": "integer"}}, "metadata": {}}
    with open(path, "w") as f:
        json.dump(data, f)
    db = SyncFileDatabase({"path": path})
    creates = 5
    start = time.perf_counter()
    for i in range(creates):
        db.create(Record({"name": f"new_{i}", "age": 30}))
    seconds = time.perf_counter() - start
    print(f"peer reference_create seconds={seconds:.4f} per_sec={creates / seconds:.2f}")


if __name__ == "__main__":
    {"duckdb_json": duckdb_json, "duckdb_csv": duckdb_csv,
     "reference_create": reference_create}[sys.argv[1]](*sys.argv[2:])
