#!/usr/bin/env python3
"""The Python reference's postgres backend as a peer of bench/postgres_bench.cpp.

Runs dataknobs-data's ``AsyncPostgresDatabase`` (the ``postgres`` backend's asyncpg class, the one
with a connection pool) on the benchmark records of bench/reference/bench_reference.py, in a fresh
table of its own (created by the reference with its own DDL: primary key plus GIN indexes on
``data`` and ``metadata``), on the server at URL, and prints on stdout, for the C++ driver:

    reference create_batch records=<N> ops=<N> seconds=<s> per_sec=<x>
    reference read records=<N> ops=<reads> seconds=<s> per_sec=<x>

``create_batch`` is the sum of the reference's ``create_batch`` calls over batches of --batch
records (default 1000, which measured 5-10 % faster than 10000; it cannot take more than 10922
at once: its multi-row INSERT has 3 parameters per row and asyncpg allows 32767). Each batch's
records are built just before its call, outside the timed section, so that 1 M records do not
have to be held in Python at once.
``read`` is --reads ``read(id)`` calls one at a time (the reference has no batched read); the
j-th id is ids[splitmix64(0xBEEF + j) % N], as in bench_reference.py. ``# ...`` notes go to stderr.

The reference cannot store a ``datetime`` (``json.dumps`` raises TypeError), so the ``created``
field is given as the ISO-8601 text dkdata writes into ``data`` for a timestamp
("2023-04-05T06:07:08Z"); every other field is as bench_reference.py's ``make_row`` makes it.
The table is dropped before and after the run.

Usage: postgres_reference.py URL [--records N] [--batch N] [--reads N] [--table NAME] [--quick]
Needs asyncpg in the project's .venv (scripts/install-deps.sh --peers); re-executes itself under
.venv/bin/python when run by another interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "reference"))

from bench_reference import READ_SEED, make_row, note, report, splitmix64  # noqa: E402


def _import_reference():
    """Import the reference and asyncpg, re-running under the project's .venv if needed."""
    try:
        import asyncpg
        from dataknobs_data import Record
        from dataknobs_data.backends.postgres import AsyncPostgresDatabase
    except ImportError as e:
        venv_python = ROOT / ".venv" / "bin" / "python"
        if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
            os.execv(str(venv_python), [str(venv_python), *sys.argv])
        sys.exit(
            f"postgres_reference: cannot import the reference's postgres backend ({e}); "
            "run scripts/install-deps.sh --peers and use .venv/bin/python"
        )
    return asyncpg, Record, AsyncPostgresDatabase


def make_record(Record, i: int):
    """Record i of the benchmark, with `created` as ISO-8601 text (see the module docstring)."""
    rid, data = make_row(i)
    data["created"] = data["created"].strftime("%Y-%m-%dT%H:%M:%SZ")
    return Record(data, storage_id=rid)


async def run(args) -> None:
    asyncpg, Record, AsyncPostgresDatabase = _import_reference()
    n = args.records
    quoted = '"' + args.table.replace('"', '""') + '"'

    admin = await asyncpg.connect(args.url)
    await admin.execute(f"DROP TABLE IF EXISTS {quoted}")

    config = {"connection_string": args.url, "table": args.table}
    if urlparse(args.url).password is None:
        # An empty password is what the URL means; saying so keeps the reference from warning
        # that it "synthesized default values for password".
        config["password"] = ""
    db = AsyncPostgresDatabase.from_config(config)
    await db.connect()  # creates the table with the reference's DDL
    try:
        # 1. create_batch, batch by batch; only the reference's calls are timed.
        seconds = 0.0
        for start in range(0, n, args.batch):
            batch = [make_record(Record, i) for i in range(start, min(n, start + args.batch))]
            t0 = time.perf_counter()
            created = await db.create_batch(batch)
            seconds += time.perf_counter() - t0
            assert len(created) == len(batch), (len(created), len(batch))
        report("create_batch", n, n, seconds)
        stored = await db.count()
        note(f"create_batch batch={args.batch} stored={stored}")
        assert stored == n, stored

        # 2. point reads, one round trip each.
        if args.reads > 0:
            read_ids = [make_row(splitmix64(READ_SEED + j) % n)[0] for j in range(args.reads)]
            found = 0
            t0 = time.perf_counter()
            for rid in read_ids:
                if await db.read(rid) is not None:
                    found += 1
            report("read", n, args.reads, time.perf_counter() - t0)
            assert found == args.reads, found
    finally:
        await db.close()
        await admin.execute(f"DROP TABLE IF EXISTS {quoted}")
        await admin.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url", help="postgres://user@host:port/database of the server")
    ap.add_argument("--records", type=int, default=100_000, help="records to create (100000)")
    ap.add_argument("--batch", type=int, default=1000, help="records per create_batch (1000)")
    ap.add_argument("--reads", type=int, default=10_000, help="point reads, 0 for none (10000)")
    ap.add_argument("--table", default="bench_reference", help="its table (bench_reference)")
    ap.add_argument("--quick", action="store_true", help="2000 records, 500 reads")
    args = ap.parse_args()
    if args.quick:
        args.records, args.reads = 2000, min(args.reads, 500)
    if args.records <= 0 or not 0 < args.batch <= 10_922:
        ap.error("--records must be positive and --batch in 1..10922")
    # The reference logs every connect at INFO; keep its warnings.
    logging.basicConfig(level=logging.WARNING, format="# %(name)s: %(message)s")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
