#!/usr/bin/env python3
"""Benchmark of the Python reference (dataknobs-data) memory backend.

Runs the dkdata comparison workload on ``SyncMemoryDatabase`` and prints one line per
operation on stdout:

    reference <op> records=<N> ops=<count> seconds=<s> per_sec=<x>

Sanity details (result sizes, for cross-checking the C++ driver) go to stderr.
The record generator and the read-id sequence are specified in README.md next to this
file; the C++ driver generates the same data.

Usage: .venv/bin/python bench/reference/bench_reference.py [--records N] [--quick]
Install the reference first: scripts/install-deps.sh --peers
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

MASK64 = (1 << 64) - 1
CITIES = ["SF", "NYC", "LA", "Chicago", "Boston", "Seattle", "Austin", "Denver", "Miami", "Portland"]
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)
FIVE_YEARS = 5 * 365 * 86400
READ_OPS = 10_000
READ_SEED = 0xBEEF
# Stop repeating a query once this much time has been spent on it (at least one run).
TIME_BUDGET_S = 8.0


def _import_reference():
    """Import the reference, re-running under the project's .venv if needed."""
    try:
        from dataknobs_data import Query, Record
        from dataknobs_data.backends.memory import SyncMemoryDatabase
    except ImportError:
        venv_python = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python"
        if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
            os.execv(str(venv_python), [str(venv_python), *sys.argv])
        sys.exit(
            "bench_reference: dataknobs_data is not importable; "
            "run scripts/install-deps.sh --peers and use .venv/bin/python"
        )
    return Query, Record, SyncMemoryDatabase


def splitmix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def uuid_v4(hi: int, lo: int) -> str:
    hi = (hi & ~(0xF << 12) & MASK64) | (0x4 << 12)  # version nibble 4
    lo = (lo & ~(0x3 << 62) & MASK64) | (0x2 << 62)  # variant bits 10
    h = f"{hi:016x}{lo:016x}"
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def make_row(i: int) -> tuple[str, dict]:
    """The i-th benchmark record as (id, data)."""

    def r(k: int) -> int:
        return splitmix64((0x5EED + i * 16 + k) & MASK64)

    rid = uuid_v4(r(0), r(1))
    data = {
        "name": f"user_{i:07d}",
        "age": 18 + r(2) % 63,
        "city": CITIES[r(3) % 10],
        "score": (r(4) % 1_000_000) / 10000.0,
        "active": r(5) % 2 == 0,
        "category": f"cat_{r(6) % 1000:03d}",
        "created": EPOCH + timedelta(seconds=r(7) % FIVE_YEARS),
        "tags": [f"t{r(8) % 50}", f"t{r(9) % 50}"],
    }
    return rid, data


def report(op: str, n: int, ops: int, seconds: float) -> None:
    per_sec = ops / seconds if seconds > 0 else float("inf")
    print(f"reference {op} records={n} ops={ops} seconds={seconds:.6f} per_sec={per_sec:.3f}", flush=True)


def note(msg: str) -> None:
    print(f"# {msg}", file=sys.stderr, flush=True)


def repeat(fn, max_reps: int) -> tuple[int, float, object]:
    """Run fn up to max_reps times, stopping early once TIME_BUDGET_S is spent."""
    total = 0.0
    reps = 0
    result = None
    while reps < max_reps:
        result = None  # free the previous result outside the timed section
        t0 = time.perf_counter()
        result = fn()
        total += time.perf_counter() - t0
        reps += 1
        if total >= TIME_BUDGET_S:
            break
    return reps, total, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000, help="number of records (default 100000)")
    ap.add_argument("--quick", action="store_true", help="small run for CI smoke tests (2000 records)")
    args = ap.parse_args()
    n = 2000 if args.quick else args.records
    if n <= 0:
        ap.error("--records must be positive")

    Query, Record, SyncMemoryDatabase = _import_reference()

    rows = [make_row(i) for i in range(n)]
    ids = [rid for rid, _ in rows]
    # Records are built before timing; the id is the record's storage key, not a data field.
    records = [Record(data, storage_id=rid) for rid, data in rows]

    db = SyncMemoryDatabase()

    # 1. create, one by one
    t0 = time.perf_counter()
    for rec in records:
        db.create(rec)
    report("create", n, n, time.perf_counter() - t0)

    # 2. create_batch of all N, into an emptied store
    if hasattr(db, "create_batch"):
        db.clear()
        t0 = time.perf_counter()
        created = db.create_batch(records)
        report("create_batch", n, n, time.perf_counter() - t0)
        assert len(created) == n and db.count() == n

    # 3. point reads by pseudo-random existing ids: index_j = splitmix64(0xBEEF + j) % N
    read_ids = [ids[splitmix64(READ_SEED + j) % n] for j in range(READ_OPS)]
    t0 = time.perf_counter()
    found = 0
    for rid in read_ids:
        if db.read(rid) is not None:
            found += 1
    report("read", n, READ_OPS, time.perf_counter() - t0)
    assert found == READ_OPS

    # 4..8 queries (no index in the reference: every query is a full scan)
    q_eq = Query().filter("category", "=", "cat_042")
    reps, secs, res = repeat(lambda: db.search(q_eq), 20)
    report("search_eq", n, reps, secs)
    note(f"search_eq matches={len(res)}")

    q_range = Query().filter("score", ">=", 50.0).filter("score", "<", 60.0)
    reps, secs, res = repeat(lambda: db.search(q_range), 5)
    report("search_range", n, reps, secs)
    note(f"search_range matches={len(res)}")

    q_sort = Query().sort_by("score", "desc").limit(10)
    reps, secs, res = repeat(lambda: db.search(q_sort), 5)
    report("sort_limit", n, reps, secs)
    note("sort_limit top=" + ",".join(f"{r.get_value('score'):.4f}" for r in res))

    q_count = Query().filter("active", "=", True).filter("age", ">=", 40)
    reps, secs, res = repeat(lambda: db.count(q_count), 5)
    report("count_filter", n, reps, secs)
    note(f"count_filter count={res}")

    q_all = Query()
    reps, secs, res = repeat(lambda: db.search(q_all), 3)
    report("search_all", n, reps, secs)
    note(f"search_all matches={len(res)}")


if __name__ == "__main__":
    main()
