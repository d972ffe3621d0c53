"""Writes the fuzz target's seed files (tests/fuzz/seeds/*.parquet) with pyarrow.

Each seed is a few rows, so that mutations reach every part of the reader quickly: physical and
logical types, PLAIN and dictionary encodings, the DELTA encodings and BYTE_STREAM_SPLIT, data
pages v1 and v2 (several per chunk), the codecs, a list column, nulls, several row groups and page
checksums. Run from the repository root, with the peers' venv:

    .venv/bin/python tests/fuzz/make_seeds.py tests/fuzz/seeds
"""

import datetime
import decimal
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def table():
    n = 12
    return pa.table({
        "i32": pa.array([i * 3 - 7 if i % 4 else None for i in range(n)], pa.int32()),
        "i64": pa.array([i * 1000003 for i in range(n)], pa.int64()),
        "f32": pa.array([i / 4 for i in range(n)], pa.float32()),
        "f64": pa.array([None if i % 5 == 0 else i * 1.5 for i in range(n)], pa.float64()),
        "b": pa.array([i % 3 == 0 for i in range(n)], pa.bool_()),
        "s": pa.array([None if i % 6 == 1 else "v%d" % (i % 4) for i in range(n)], pa.string()),
        "ts": pa.array([datetime.datetime(2024, 1, 1, 0, 0, i) for i in range(n)],
                       pa.timestamp("us", tz="UTC")),
        "d": pa.array([datetime.date(2024, 2, 1 + i) for i in range(n)], pa.date32()),
        "dec": pa.array([decimal.Decimal("%d.25" % i) for i in range(n)], pa.decimal128(9, 2)),
        "bin": pa.array([bytes([i, i + 1]) for i in range(n)], pa.binary()),
        "fix": pa.array([bytes([i] * 4) for i in range(n)], pa.binary(4)),
        "u8": pa.array([i for i in range(n)], pa.uint8()),
        "vec": pa.array([None if i == 2 else [float(i), None, 0.5][: i % 4] for i in range(n)],
                        pa.list_(pa.float32())),
    })


def small(name):
    """A few columns of table(), so that each seed stays well under 20 KB."""
    return table().select(name)


def main(out):
    os.makedirs(out, exist_ok=True)
    # No ARROW:schema blob in the footer: mutations then fall on what the reader decodes.
    common = dict(write_batch_size=4, data_page_size=32, write_statistics=True, store_schema=False)
    seeds = {
        "plain_v1_none.parquet": (
            small(["i32", "i64", "f64", "b", "s"]),
            dict(compression="none", use_dictionary=False, data_page_version="1.0")),
        "dict_v2_snappy.parquet": (
            small(["i32", "s", "f32", "bin"]),
            dict(compression="snappy", use_dictionary=True, data_page_version="2.0")),
        "types_v1_gzip.parquet": (
            small(["ts", "d", "dec", "fix", "u8"]),
            dict(compression="gzip", data_page_version="1.0")),
        "list_v2_zstd.parquet": (
            small(["vec", "i64"]),
            dict(compression="zstd", data_page_version="2.0")),
        "lz4_v1.parquet": (
            small(["s", "f64", "vec"]),
            dict(compression="lz4", data_page_version="1.0")),
        "delta_v2_none.parquet": (
            small(["i32", "i64", "s", "bin", "f32", "fix"]),
            dict(compression="none", use_dictionary=False, data_page_version="2.0",
                 column_encoding={"i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED",
                                  "s": "DELTA_BYTE_ARRAY", "bin": "DELTA_LENGTH_BYTE_ARRAY",
                                  "f32": "BYTE_STREAM_SPLIT", "fix": "BYTE_STREAM_SPLIT"})),
        "groups_crc_snappy.parquet": (
            small(["i64", "s", "vec"]),
            dict(compression="snappy", row_group_size=5, write_page_checksum=True)),
    }
    for name, (data, options) in seeds.items():
        pq.write_table(data, os.path.join(out, name), **common, **options)
        check = pq.read_table(os.path.join(out, name))
        assert check.equals(data), name


if __name__ == "__main__":
    main(sys.argv[1])
