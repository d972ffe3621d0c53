"""Reads a Parquet file with pyarrow or DuckDB and prints it in a plain text form that the writer's
unit tests (tests/unit/parquet_writer_test.cpp) compare with what they wrote.

Usage: read_back.py FILE [pyarrow|duckdb]

Output, one line each:
    rows=N
    col <name>=<JSON list of the column's values>
    stats <path> <row group>=<JSON [min, max, null_count] as pyarrow reads them>   (pyarrow only)

Value notation: null, booleans, ints and strings as JSON; floats as JSON numbers, "nan", "inf",
"-inf" (-0.0 stays "-0.0"); bytes "hex:<hex>"; timestamps "ts:<integer in the column's unit>";
dates "date:<days since 1970-01-01>"; decimals "dec:<str>"; UUIDs "hex:<16 bytes>"; lists as JSON
lists.
"""
import datetime
import decimal
import json
import math
import sys
import uuid

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def norm(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "hex:" + bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return "hex:" + v.bytes.hex()
    if isinstance(v, decimal.Decimal):
        return "dec:" + str(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return "ts:%d" % ((v - EPOCH) // datetime.timedelta(microseconds=1))
    if isinstance(v, datetime.date):
        return "date:%d" % (v - datetime.date(1970, 1, 1)).days
    if isinstance(v, (list, tuple)):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    return "?" + repr(v)


def arrow_column(arr):
    import pyarrow as pa

    if pa.types.is_timestamp(arr.type):
        return [None if x is None else "ts:%d" % x for x in arr.cast(pa.int64()).to_pylist()]
    if pa.types.is_date32(arr.type):
        return [None if x is None else "date:%d" % x for x in arr.cast(pa.int32()).to_pylist()]
    return norm(arr.to_pylist())


def bound(stats, which):
    """A statistics bound as pyarrow reads it, or "raw:<hex>" where pyarrow cannot convert it
    (pyarrow 21 cannot for DECIMAL stored in FIXED_LEN_BYTE_ARRAY)."""
    try:
        return norm(getattr(stats, which))
    except Exception:
        raw = getattr(stats, which + "_raw")
        return "raw:" + (raw.hex() if isinstance(raw, bytes) else repr(raw))


def dump(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def with_pyarrow(path):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    print("rows=%d" % table.num_rows)
    for name in table.column_names:
        print("col %s=%s" % (name, dump(arrow_column(table.column(name).combine_chunks()))))
    meta = pq.ParquetFile(path).metadata
    for g in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            column = meta.row_group(g).column(c)
            s = column.statistics
            if s is None:
                continue
            bounds = [bound(s, "min"), bound(s, "max")] if s.has_min_max else [None, None]
            print("stats %s %d=%s" % (column.path_in_schema, g, dump(bounds + [s.null_count])))


def with_duckdb(path):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rel = con.execute("SELECT * FROM read_parquet(?)", [path])
    names = [d[0] for d in rel.description]
    rows = rel.fetchall()
    print("rows=%d" % len(rows))
    for i, name in enumerate(names):
        print("col %s=%s" % (name, dump(norm([row[i] for row in rows]))))


if __name__ == "__main__":
    reader = sys.argv[2] if len(sys.argv) > 2 else "pyarrow"
    (with_duckdb if reader == "duckdb" else with_pyarrow)(sys.argv[1])
