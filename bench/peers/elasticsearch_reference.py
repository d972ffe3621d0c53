#!/usr/bin/env python3
"""The Python reference's Elasticsearch backends as a peer of bench/es_bench.cpp.

Runs dataknobs-data's two Elasticsearch classes on the benchmark records of
bench/reference/bench_reference.py, on the server at URL, each into a fresh index of its own
(created by the reference with its own mapping: ``data`` a dynamic object, every field indexed;
one shard, no replica), and prints on stdout, for the C++ driver:

    reference create_batch records=<N> ops=<N> seconds=<s> per_sec=<x>
    reference create_batch_async records=<N> ops=<N> seconds=<s> per_sec=<x>

``create_batch`` is ``SyncElasticsearchDatabase`` (the ``elasticsearch`` backend of the sync
factory), one ``create_batch`` call with all N records, as docs/research/reference-elasticsearch.md
§10.6 runs it: ``elasticsearch.helpers.bulk`` sends it as requests of 500 actions, one after
another, each with ``?refresh=true`` (the reference's default ``refresh: true``).
``create_batch_async`` is ``AsyncElasticsearchDatabase`` called with --async-batch records at a
time (default 5000, dkdata's bulk size): it sends each call as one ``_bulk?refresh=true`` request
(one call of 200 k records would be a single ~46 MB request, beyond its 10 s request timeout).
The records of the sync call are all built before the timed call; those of each async call just
before it, outside the timed part. After each run the index is counted (not timed) and must hold
N documents; the indexes are deleted before and after.

The reference stores ``created`` as given; the record's datetime would reach the server as the
client's ISO text with "+00:00", so it is given as the text dkdata writes into ``data`` for a
timestamp ("2023-04-05T06:07:08Z"), as bench/peers/postgres_reference.py does; every other field
is as bench_reference.py's ``make_row`` makes it. ``# ...`` notes go to stderr. The sync class
speaks plain http to one host and port only (no TLS, no credentials), so URL must be
http://host:port.

Usage: elasticsearch_reference.py URL [--records N] [--async-batch N] [--index NAME]
                                      [--no-sync] [--no-async] [--quick]
Needs the elasticsearch client in the project's .venv (scripts/install-deps.sh --peers);
re-executes itself under .venv/bin/python when run by another interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "reference"))

from bench_reference import make_row, note, report  # noqa: E402


def _import_reference():
    """Import the reference and the client, re-running under the project's .venv if needed."""
    try:
        import elasticsearch
        from dataknobs_data import Record
        from dataknobs_data.backends.elasticsearch import SyncElasticsearchDatabase
        from dataknobs_data.backends.elasticsearch_async import AsyncElasticsearchDatabase
    except ImportError as e:
        venv_python = ROOT / ".venv" / "bin" / "python"
        if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
            os.execv(str(venv_python), [str(venv_python), *sys.argv])
        sys.exit(
            f"elasticsearch_reference: cannot import the reference's elasticsearch backends ({e}); "
            "run scripts/install-deps.sh --peers and use .venv/bin/python"
        )
    return elasticsearch, Record, SyncElasticsearchDatabase, AsyncElasticsearchDatabase


def make_record(Record, i: int):
    """Record i of the benchmark, with `created` as ISO-8601 text (see the module docstring)."""
    rid, data = make_row(i)
    data["created"] = data["created"].strftime("%Y-%m-%dT%H:%M:%SZ")
    return Record(data, storage_id=rid)


class Admin:
    """Index housekeeping outside the reference: delete, count (with a refresh first)."""

    def __init__(self, elasticsearch, url: str):
        self.client = elasticsearch.Elasticsearch(url, request_timeout=120)

    def drop(self, index: str) -> None:
        self.client.indices.delete(index=index, ignore_unavailable=True)

    def count(self, index: str) -> int:
        self.client.indices.refresh(index=index)
        return int(self.client.count(index=index)["count"])

    def close(self) -> None:
        self.client.close()


def run_sync(args, Record, SyncElasticsearchDatabase, admin: Admin) -> None:
    n = args.records
    index = args.index
    parts = urlsplit(args.url)
    admin.drop(index)
    db = SyncElasticsearchDatabase.from_config(
        {"host": parts.hostname, "port": parts.port or 9200, "index": index}
    )
    # connect() creates the index, printing every response of its `requests` path to stderr
    # (research notes, defect 16): keep that out of the report.
    with contextlib.redirect_stderr(io.StringIO()):
        db.connect()
    try:
        records = [make_record(Record, i) for i in range(n)]
        t0 = time.perf_counter()
        created = db.create_batch(records)
        seconds = time.perf_counter() - t0
        # create_batch drops failed items from its result without raising.
        assert len(created) == n, (len(created), n)
        report("create_batch", n, n, seconds)
        del records
        stored = admin.count(index)
        note(f"sync create_batch: one call, 500 actions per request, refresh=true; stored={stored}")
        assert stored == n, stored
    finally:
        db.close()
        admin.drop(index)


async def run_async(args, Record, AsyncElasticsearchDatabase, admin: Admin) -> None:
    n = args.records
    index = args.index + "_async"
    admin.drop(index)
    db = AsyncElasticsearchDatabase.from_config({"hosts": [args.url], "index": index})
    await db.connect()  # creates the index with the reference's mapping
    try:
        seconds = 0.0
        for start in range(0, n, args.async_batch):
            batch = [make_record(Record, i) for i in range(start, min(n, start + args.async_batch))]
            t0 = time.perf_counter()
            created = await db.create_batch(batch)
            seconds += time.perf_counter() - t0
            assert len(created) == len(batch), (len(created), len(batch))
        report("create_batch_async", n, n, seconds)
        stored = admin.count(index)
        note(
            f"async create_batch: {args.async_batch} records per call, one request each, "
            f"refresh=true; stored={stored}"
        )
        assert stored == n, stored
    finally:
        await db.close()
        admin.drop(index)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url", help="http://host:port of the Elasticsearch server")
    ap.add_argument("--records", type=int, default=200_000, help="records to create (200000)")
    ap.add_argument(
        "--async-batch", type=int, default=5000, help="records per async create_batch (5000)"
    )
    ap.add_argument("--index", default="ref_bench", help="its index; the async one adds _async")
    ap.add_argument("--no-sync", action="store_true", help="skip SyncElasticsearchDatabase")
    ap.add_argument("--no-async", action="store_true", help="skip AsyncElasticsearchDatabase")
    ap.add_argument("--quick", action="store_true", help="2000 records")
    args = ap.parse_args()
    if args.quick:
        args.records = 2000
    if args.records <= 0 or args.async_batch <= 0:
        ap.error("--records and --async-batch must be positive")
    parts = urlsplit(args.url)
    if parts.scheme != "http" or parts.username or parts.path.strip("/"):
        ap.error("URL must be http://host:port (the sync class has no TLS, credentials or prefix)")
    # The client logs every request at INFO; keep the warnings.
    logging.basicConfig(level=logging.WARNING, format="# %(name)s: %(message)s")

    elasticsearch, Record, SyncDb, AsyncDb = _import_reference()
    admin = Admin(elasticsearch, args.url)
    try:
        if not args.no_sync:
            run_sync(args, Record, SyncDb, admin)
        if not args.no_async:
            asyncio.run(run_async(args, Record, AsyncDb, admin))
    finally:
        admin.close()


if __name__ == "__main__":
    main()
