#!/usr/bin/env python3
"""The Python reference's S3 backend as a peer of bench/s3_bench.cpp.

Runs dataknobs-data's ``SyncS3Database`` (the ``s3`` backend's boto3 class) on the benchmark
records of bench/reference/bench_reference.py, on the S3 server given by the environment
(``DKDATA_S3_ENDPOINT``, ``DKDATA_S3_ACCESS_KEY``, ``DKDATA_S3_SECRET_KEY``, optionally
``DKDATA_S3_REGION``; the credentials are not passed on the command line), and prints on stdout,
for the C++ driver:

    reference_objects dkdata|own
    reference create_batch records=<N> ops=<N> seconds=<s> per_sec=<x>     (own objects only)
    reference read_batch records=<N> ops=<N> seconds=<s> per_sec=<x>
    reference search records=<N> ops=1 seconds=<s> per_sec=<x>
    reference_search_hits <hits>

Which objects: first the ones dkdata stored under --prefix in --bucket ({prefix}{id}.json, the
same layout as the reference's). The reference reads them with ``read_batch`` of the N ids, and
every record it returns is compared with the generator's (every field's value; ``created``, a
timestamp in dkdata, may come back as a datetime or as its ISO-8601 text). When they all match,
its reader accepts dkdata's bodies and it is timed on those very objects ("dkdata"). Otherwise it
stores its own objects of the same records under --own-prefix with its own ``create_batch``
(serial PUTs; timed and reported), is timed on those ("own"), and removes them at the end. In
that case the ``created`` field is given as the ISO-8601 text dkdata stores for a timestamp: the
reference cannot store a datetime (``TypeError: Object of type datetime is not JSON
serializable``), as in bench/peers/postgres_reference.py.

``read_batch`` is one call with all N ids (the reference's ``read_batch`` is a serial loop of
``read``: one GET after another); ``search`` is ``db.search(Query().filter("age", ">=",
MIN_AGE))``: LIST, then a thread pool of --workers GETs per page of 1000 keys, then a Python
filter (docs/research/reference-s3.md §3, §6). The client is opened with
``max_pool_connections`` = --workers (its thread pool's size too), 16 like dkdata's. Each is run
--runs times and the fastest counts. Every read must find its record and the search must return
as many records as the generator says match (``reference_search_hits``; the driver compares it
with its own). ``# ...`` notes go to stderr.

Usage: s3_reference.py --bucket B [--prefix P] [--own-prefix P] [--records N] [--runs N]
                       [--workers N] [--min-age N] [--own] [--quick]
Needs boto3 in the project's .venv (scripts/install-deps.sh --peers); re-executes itself under
.venv/bin/python when run by another interpreter.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "reference"))

from bench_reference import make_row, note, report  # noqa: E402


def _import_reference():
    """Import the reference and boto3, re-running under the project's .venv if needed."""
    try:
        import boto3  # noqa: F401
        from dataknobs_data import Query, Record
        from dataknobs_data.backends.s3 import SyncS3Database
    except ImportError as e:
        venv_python = ROOT / ".venv" / "bin" / "python"
        if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
            os.execv(str(venv_python), [str(venv_python), *sys.argv])
        sys.exit(
            f"s3_reference: cannot import the reference's s3 backend ({e}); "
            "run scripts/install-deps.sh --peers and use .venv/bin/python"
        )
    return Query, Record, SyncS3Database


def iso(value: datetime) -> str:
    """The ISO-8601 text dkdata writes for a timestamp of whole seconds."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def open_db(SyncS3Database, args, prefix: str):
    config = {
        "bucket": args.bucket,
        "prefix": prefix,
        "endpoint_url": os.environ["DKDATA_S3_ENDPOINT"],
        "region": os.environ.get("DKDATA_S3_REGION") or "us-east-1",
        "access_key_id": os.environ["DKDATA_S3_ACCESS_KEY"],
        "secret_access_key": os.environ["DKDATA_S3_SECRET_KEY"],
        "max_pool_connections": args.workers,
    }
    db = SyncS3Database(config)
    db.connect()  # head_bucket (it would create a missing bucket)
    return db


def mismatch(record, i: int) -> str | None:
    """Why the record read for row i is not that row, or None when it is."""
    rid, data = make_row(i)
    if record is None:
        return f"record {i} ({rid}) not found"
    if record.id != rid:
        return f"record {i}: id {record.id!r}, expected {rid!r}"
    for name, want in data.items():
        got = record.get_value(name)
        if isinstance(want, datetime):
            ok = got == want or got == iso(want)
            if isinstance(got, datetime):
                ok = ok or iso(got) == iso(want)
        elif isinstance(want, float):
            ok = isinstance(got, (int, float)) and not isinstance(got, bool) and got == want
        else:
            ok = got == want and type(got) is type(want)
        if not ok:
            return f"record {i}: field {name} is {got!r}, expected {want!r}"
    return None


def best_of(runs: int, fn):
    best, result = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bucket", required=True, help="the bucket (it must exist)")
    ap.add_argument("--prefix", default="bench/", help="dkdata's objects (bench/)")
    ap.add_argument("--own-prefix", default="ref_bench/", help="its own objects (ref_bench/)")
    ap.add_argument("--records", type=int, default=2000, help="records 0..N-1 (2000)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each timing; the best counts (3)")
    ap.add_argument("--workers", type=int, default=16, help="max_pool_connections (16)")
    ap.add_argument("--min-age", type=int, default=40, help="the search: age >= N (40)")
    ap.add_argument("--own", action="store_true", help="always store and read its own objects")
    ap.add_argument("--quick", action="store_true", help="200 records, 1 run")
    args = ap.parse_args()
    if args.quick:
        args.records, args.runs = 200, 1
    if args.records <= 0 or args.runs <= 0 or args.workers <= 0:
        ap.error("--records, --runs and --workers must be positive")
    for name in ("DKDATA_S3_ENDPOINT", "DKDATA_S3_ACCESS_KEY", "DKDATA_S3_SECRET_KEY"):
        if not os.environ.get(name):
            ap.error(f"{name} must be set")
    # search logs a warning per object it could not fetch or parse; those are counted below.
    logging.basicConfig(level=logging.ERROR, format="# %(name)s: %(message)s")

    Query, Record, SyncS3Database = _import_reference()
    n = args.records
    ids = [make_row(i)[0] for i in range(n)]
    expected_hits = sum(1 for i in range(n) if make_row(i)[1]["age"] >= args.min_age)

    objects, db = "own", None
    if not args.own:
        db = open_db(SyncS3Database, args, args.prefix)
        got = db.read_batch(ids)
        problems = [p for p in (mismatch(r, i) for i, r in enumerate(got)) if p]
        if problems:
            note(f"it cannot read dkdata's objects as the same records ({len(problems)} of {n}): "
                 f"{problems[0]}; storing its own")
            db.close()
            db = None
        else:
            objects = "dkdata"
            note(f"its read_batch returned all {n} records dkdata stored, every field as generated")
    print(f"reference_objects {objects}", flush=True)

    own = db is None
    if own:
        db = open_db(SyncS3Database, args, args.own_prefix)
        db.clear()
        records = []
        for i in range(n):
            rid, data = make_row(i)
            data["created"] = iso(data["created"])
            records.append(Record(data, storage_id=rid))
        t0 = time.perf_counter()
        created = db.create_batch(records)
        report("create_batch", n, n, time.perf_counter() - t0)
        assert created == ids, "create_batch keeps the ids"
        del records
    try:
        seconds, got = best_of(args.runs, lambda: db.read_batch(ids))
        report("read_batch", n, n, seconds)
        problems = [p for p in (mismatch(r, i) for i, r in enumerate(got)) if p]
        assert not problems, problems[:3]

        query = Query().filter("age", ">=", args.min_age)
        seconds, hits = best_of(args.runs, lambda: db.search(query))
        report("search", n, 1, seconds)
        print(f"reference_search_hits {len(hits)}", flush=True)
        note(f"search age >= {args.min_age}: {len(hits)} of {n} (expected {expected_hits}), "
             f"{args.workers} GETs in flight")
        assert len(hits) == expected_hits, (len(hits), expected_hits)
    finally:
        if own:
            db.clear()
        db.close()


if __name__ == "__main__":
    main()
