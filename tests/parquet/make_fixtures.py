#!/usr/bin/env python3
"""Writes the Parquet interoperability fixtures for dkdata's reader (issue 8).

    .venv/bin/python tests/parquet/make_fixtures.py OUT_DIR      # (bash scripts/install-deps.sh --peers)

For every fixture FILE.parquet it writes FILE.expected.jsonl (one JSON object per row, keys in
column order) and, for the whole set, OUT_DIR/manifest.json (what every file covers, as read back
from the file itself by pqwalk.py, not as requested). Deterministic: fixed seeds, no clocks, no
uuid4; the same pyarrow/DuckDB versions give byte-identical files.

Writers: pyarrow (pa_*), DuckDB (duck_*, skipped with a notice when duckdb is missing) and one file
made by hand with pqwalk.py's own Thrift encoder (hand_*: ENUM logical type, ConvertedType-only
annotations, PLAIN_DICTIONARY, deprecated min/max statistics, a BYTE_ARRAY decimal), which neither
tool can write.

Expected-value notation (exact, unambiguous; a C++ test compares value by value):
  null                    null
  BOOLEAN                 true / false
  integers (all widths,   JSON integer (uint64 up to 18446744073709551615, written as the unsigned
  signed and unsigned)    value; the file stores its two's-complement bit pattern in INT64)
  FLOAT / DOUBLE          JSON number written by Python repr (shortest round-trip form of the
                          double; a FLOAT column's value is the float32 widened to double, exactly);
                          non-finite values as {"$float": "nan" | "inf" | "-inf"}; -0.0 as -0.0
  STRING, ENUM, JSON      JSON string (the raw UTF-8 text; for JSON columns the document text)
  BYTE_ARRAY / FLBA       {"$base64": "..."}   (standard alphabet, padded)
  UUID                    {"$uuid": "00112233-4455-6677-8899-aabbccddeeff"}
  DECIMAL                 {"$decimal": "-123.4500"}   (always exactly `scale` fraction digits)
  DATE                    {"$date": days since 1970-01-01}
  TIME                    {"$time": integer, "unit": "ms" | "us" | "ns"}   (since midnight)
  TIMESTAMP               {"$timestamp": integer, "unit": "ms" | "us" | "ns", "utc": bool}
                          (integer = the stored value: units since 1970-01-01T00:00:00, UTC
                          instant when utc is true, local wall-clock when false)
  LIST                    JSON array of the above (null elements as null)

Every file is read back with pyarrow (must equal the expected values: a mismatch aborts) and with
DuckDB (differences are recorded in the manifest as duckdb_check, not fatal: DuckDB reads some
types lossily, e.g. TIMESTAMP(NANOS, UTC) as microsecond TIMESTAMPTZ).
"""
from __future__ import annotations

import base64
import decimal
import json
import math
import os
import random
import struct
import sys
import uuid
from typing import Any, Callable, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pqwalk  # noqa: E402

try:
    import duckdb
except ImportError:  # pragma: no cover
    duckdb = None


# ---------------------------------------------------------------------------------------------
# canonical values

class TS(NamedTuple):
    v: int
    unit: str  # ms | us | ns
    utc: bool


class Date(NamedTuple):
    days: int


class Time(NamedTuple):
    v: int
    unit: str


class Dec(NamedTuple):
    unscaled: int
    scale: int


class UUIDv(NamedTuple):
    b: bytes


def dec_text(d: Dec) -> str:
    digits = str(abs(d.unscaled)).rjust(d.scale + 1, "0")
    sign = "-" if d.unscaled < 0 else ""
    if d.scale == 0:
        return sign + digits
    return f"{sign}{digits[:-d.scale]}.{digits[-d.scale:]}"


def to_json(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return {"$float": "nan"}
        if math.isinf(v):
            return {"$float": "inf" if v > 0 else "-inf"}
        return v
    if isinstance(v, bytes):
        return {"$base64": base64.b64encode(v).decode()}
    if isinstance(v, TS):
        return {"$timestamp": v.v, "unit": v.unit, "utc": v.utc}
    if isinstance(v, Date):
        return {"$date": v.days}
    if isinstance(v, Time):
        return {"$time": v.v, "unit": v.unit}
    if isinstance(v, Dec):
        return {"$decimal": dec_text(v)}
    if isinstance(v, UUIDv):
        return {"$uuid": str(uuid.UUID(bytes=v.b))}
    if isinstance(v, list):
        return [to_json(x) for x in v]
    raise TypeError(type(v))


_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def semantic(v: Any) -> Any:
    """Unit-free form for comparing a read-back value with the expected one."""
    if isinstance(v, float) and math.isnan(v):
        return ("nan",)
    if isinstance(v, TS):
        return ("ts", v.v * _NS[v.unit], v.utc)
    if isinstance(v, Time):
        return ("time", v.v * _NS[v.unit])
    if isinstance(v, Date):
        return ("date", v.days)
    if isinstance(v, Dec):
        return ("dec", decimal.Decimal(v.unscaled).scaleb(-v.scale, decimal.Context(prec=80)))
    if isinstance(v, UUIDv):
        return ("uuid", v.b)
    if isinstance(v, list):
        return [semantic(x) for x in v]
    if isinstance(v, float):
        return ("f", v, math.copysign(1.0, v))  # -0.0 != 0.0 here
    return v


# ---------------------------------------------------------------------------------------------
# column kinds: how to generate values, build an Arrow array, and read one back

F32 = struct.Struct("<f")


def f32(x: float) -> float:
    return F32.unpack(F32.pack(x))[0]


WORDS = ["alpha", "beta", "gamma", "delta", "épée", "naïve", "日本語", "данные", "🙂ok", "", "a\"q",
         "back\\slash", "tab\tnl\n", "nul\x00in", "x" * 40, "prefix_common_0", "prefix_common_1"]


def gen_string(r: random.Random) -> str:
    return "".join(r.choice(WORDS) for _ in range(r.randint(0, 3)))


def gen_prefixed(r: random.Random) -> str:  # long shared prefixes for DELTA_BYTE_ARRAY
    return f"customer/{r.randint(0, 30):04d}/order/{r.randint(0, 99999):05d}"


def gen_json(r: random.Random) -> str:
    return json.dumps({"k": r.randint(-5, 5), "tags": [r.choice(WORDS[:4]) for _ in range(r.randint(0, 2))]},
                      ensure_ascii=False, sort_keys=True)


def ints(lo: int, hi: int, specials: list[int]) -> Callable[[random.Random], int]:
    def g(r: random.Random) -> int:
        return r.choice(specials) if r.random() < 0.15 else r.randint(lo, hi)
    return g


def gen_float(r: random.Random) -> float:
    c = r.random()
    if c < 0.1:
        return r.choice([0.0, 1.0, -1.0, 0.5, 1e-30, 3.4e38, -3.4e38, 1.401298464324817e-45])
    return r.uniform(-1e6, 1e6) if c < 0.6 else r.gauss(0, 1)


def gen_double(r: random.Random) -> float:
    c = r.random()
    if c < 0.1:
        return r.choice([0.0, 1.0, -1.0, 0.1, 1e-300, 1.7976931348623157e308, 5e-324, -2.5e-310])
    return r.uniform(-1e12, 1e12) if c < 0.6 else r.gauss(0, 1)


Y1900_MS, Y2200_MS = -2208988800000, 7258118400000
MS_PER_DAY = 86400000


def dec_gen(p: int, s: int) -> Callable[[random.Random], Dec]:
    top = 10**p - 1

    def g(r: random.Random) -> Dec:
        c = r.random()
        if c < 0.1:
            return Dec(r.choice([0, top, -top, 1, -1]), s)
        return Dec(r.randint(-(10 ** r.randint(1, p)) + 1, 10 ** r.randint(1, p) - 1), s)
    return g


class Kind(NamedTuple):
    name: str
    arrow: pa.DataType             # Arrow type the writer is given
    gen: Callable[[random.Random], Any]
    to_arrow: Callable[[Any], Any] = lambda v: v
    duck_sql: str | None = None    # cast applied before DuckDB writes (None: not written by DuckDB)


def _ts_kind(unit: str, utc: bool) -> Kind:
    per_ms = {"ms": 1, "us": 1000, "ns": 1000000}[unit]

    def g(r: random.Random) -> TS:
        if r.random() < 0.1:
            return TS(r.choice([0, -1, 1, 86400000 * per_ms]), unit, utc)
        return TS(r.randint(Y1900_MS, Y2200_MS) * per_ms + r.randint(0, per_ms - 1), unit, utc)
    name = f"ts_{unit}_{'utc' if utc else 'local'}"
    duck = {("us", True): "TIMESTAMPTZ", ("ms", False): "TIMESTAMP_MS", ("us", False): "TIMESTAMP",
            ("ns", False): "TIMESTAMP_NS"}.get((unit, utc))
    return Kind(name, pa.timestamp(unit, tz="UTC" if utc else None), g, lambda v: v.v, duck)


def _time_kind(unit: str) -> Kind:
    per_day = MS_PER_DAY * {"ms": 1, "us": 1000, "ns": 1000000}[unit]
    arrow = pa.time32("ms") if unit == "ms" else pa.time64(unit)
    return Kind(f"time_{unit}", arrow,
                lambda r: Time(r.choice([0, per_day - 1]) if r.random() < 0.1 else r.randrange(per_day), unit),
                lambda v: v.v, "TIME" if unit == "us" else None)


def _dec_kind(p: int, s: int) -> Kind:
    def to_arrow(d: Dec) -> decimal.Decimal:
        sign = 1 if d.unscaled < 0 else 0
        return decimal.Decimal((sign, tuple(int(c) for c in str(abs(d.unscaled))), -s))
    return Kind(f"dec_{p}_{s}", pa.decimal128(p, s), dec_gen(p, s), to_arrow, f"DECIMAL({p},{s})")


def _list_kind(name: str, elem: pa.DataType, gen_elem, duck: str) -> Kind:
    def g(r: random.Random) -> list:
        n = r.choice([0, 1, 2, 3, 5, 8, 16, 40])
        return [gen_elem(r) for _ in range(n)]
    return Kind(name, pa.list_(elem), g, lambda v: v, duck)


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("string", pa.string(), gen_string, duck_sql="VARCHAR"),
    Kind("enum_like", pa.dictionary(pa.int32(), pa.string()),
         lambda r: r.choice(["sad", "ok", "happy"]), duck_sql="mood"),
    Kind("json", pa.json_(), gen_json, duck_sql="JSON"),
    Kind("int8", pa.int8(), ints(-128, 127, [-128, 127, 0, -1]), duck_sql="TINYINT"),
    Kind("int16", pa.int16(), ints(-32768, 32767, [-32768, 32767, 0, -1]), duck_sql="SMALLINT"),
    Kind("int32", pa.int32(), ints(-2**31, 2**31 - 1, [-2**31, 2**31 - 1, 0, -1]), duck_sql="INTEGER"),
    Kind("int64", pa.int64(), ints(-2**63, 2**63 - 1, [-2**63, 2**63 - 1, 0, -1]), duck_sql="BIGINT"),
    Kind("uint8", pa.uint8(), ints(0, 255, [0, 255, 128]), duck_sql="UTINYINT"),
    Kind("uint16", pa.uint16(), ints(0, 65535, [0, 65535, 32768]), duck_sql="USMALLINT"),
    Kind("uint32", pa.uint32(), ints(0, 2**32 - 1, [0, 2**32 - 1, 2**31]), duck_sql="UINTEGER"),
    Kind("uint64", pa.uint64(), ints(0, 2**64 - 1, [0, 2**64 - 1, 2**63]), duck_sql="UBIGINT"),
    Kind("float", pa.float32(), lambda r: f32(gen_float(r)), duck_sql="FLOAT"),
    Kind("double", pa.float64(), gen_double, duck_sql="DOUBLE"),
    Kind("bool", pa.bool_(), lambda r: r.random() < 0.5, duck_sql="BOOLEAN"),
    _ts_kind("ms", True), _ts_kind("us", True), _ts_kind("ns", True),
    _ts_kind("ms", False), _ts_kind("us", False), _ts_kind("ns", False),
    Kind("date", pa.date32(), lambda r: Date(r.choice([0, -1]) if r.random() < 0.1 else r.randint(-25567, 84000)),
         lambda v: v.days, "DATE"),
    _time_kind("ms"), _time_kind("us"), _time_kind("ns"),
    _dec_kind(9, 2), _dec_kind(18, 6), _dec_kind(38, 10),
    Kind("binary", pa.binary(), lambda r: bytes(r.getrandbits(8) for _ in range(r.randint(0, 24))), duck_sql="BLOB"),
    Kind("fixed5", pa.binary(5), lambda r: bytes(r.getrandbits(8) for _ in range(5))),
    Kind("uuid", pa.uuid(), lambda r: UUIDv(r.getrandbits(128).to_bytes(16, "big")), lambda v: v.b, "UUID"),
    _list_kind("list_float", pa.float32(), lambda r: None if r.random() < 0.1 else f32(gen_float(r)), "FLOAT[]"),
    _list_kind("list_double", pa.float64(), lambda r: None if r.random() < 0.1 else gen_double(r), "DOUBLE[]"),
    _list_kind("list_int32", pa.int32(), lambda r: None if r.random() < 0.1 else r.randint(-2**31, 2**31 - 1), "INTEGER[]"),
    _list_kind("list_int64", pa.int64(), lambda r: None if r.random() < 0.1 else r.randint(-2**63, 2**63 - 1), "BIGINT[]"),
    Kind("prefixed", pa.string(), gen_prefixed, duck_sql="VARCHAR"),
]}

ALL_TYPES = [k for k in KINDS if k not in ("prefixed",)]


class Col(NamedTuple):
    name: str
    kind: str
    nullable: bool


def make_values(col: Col, n: int, r: random.Random, null_rate: float = 0.15) -> list:
    k = KINDS[col.kind]
    out: list = []
    for _ in range(n):
        if col.nullable and r.random() < null_rate:
            out.append(None)
            continue
        v = k.gen(r)
        if isinstance(v, list) and not col.nullable:  # required list: required elements
            v = [x if x is not None else _nonnull_elem(col, r) for x in v]
        out.append(v)
    return out


def _nonnull_elem(col: Col, r: random.Random):
    k = KINDS[col.kind]
    while True:
        lst = k.gen(r)
        for x in lst:
            if x is not None:
                return x


def arrow_array(col: Col, values: list) -> pa.Array:
    k = KINDS[col.kind]
    if col.kind == "uuid":
        storage = pa.array([None if v is None else v.b for v in values], pa.binary(16))
        return pa.ExtensionArray.from_storage(pa.uuid(), storage)
    if col.kind == "json":
        return pa.ExtensionArray.from_storage(pa.json_(), pa.array(values, pa.string()))
    if col.kind == "enum_like":
        return pa.array(values, pa.string()).dictionary_encode()
    if col.kind.startswith("list_"):
        elem = k.arrow.value_type
        return pa.array(values, pa.list_(pa.field("element", elem, nullable=col.nullable)))
    return pa.array([None if v is None else k.to_arrow(v) for v in values], k.arrow)


def arrow_table(cols: list[Col], data: dict[str, list]) -> pa.Table:
    arrays = [arrow_array(c, data[c.name]) for c in cols]
    fields = [pa.field(c.name, a.type, nullable=c.nullable) for c, a in zip(cols, arrays)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


# --- reading back (Arrow -> canonical) ----------------------------------------------------------

def from_arrow(arr: pa.ChunkedArray) -> list:
    t = arr.type
    if isinstance(t, pa.BaseExtensionType):
        arr = pa.chunked_array([c.storage for c in arr.chunks], t.storage_type)
        t = t.storage_type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = t.value_type
    if pa.types.is_timestamp(t):
        return [None if v is None else TS(v, t.unit, t.tz is not None) for v in arr.cast(pa.int64()).to_pylist()]
    if pa.types.is_date32(t):
        return [None if v is None else Date(v) for v in arr.cast(pa.int32()).to_pylist()]
    if pa.types.is_time32(t) or pa.types.is_time64(t):
        it = pa.int32() if pa.types.is_time32(t) else pa.int64()
        return [None if v is None else Time(v, t.unit) for v in arr.cast(it).to_pylist()]
    if pa.types.is_decimal(t):
        out = []
        for v in arr.to_pylist():
            out.append(None if v is None else Dec(int(v.scaleb(t.scale, decimal.Context(prec=80))), t.scale))
        return out
    return arr.to_pylist()


def compare(expected: list, actual: list, kind: str) -> str | None:
    """None when equal, else a description of the first difference."""
    if len(expected) != len(actual):
        return f"{len(actual)} values, expected {len(expected)}"
    for i, (e, a) in enumerate(zip(expected, actual)):
        if isinstance(e, UUIDv) and isinstance(a, uuid.UUID):
            a = UUIDv(a.bytes)
        if isinstance(e, UUIDv) and isinstance(a, str):
            a = UUIDv(uuid.UUID(a).bytes)
        if isinstance(e, UUIDv) and isinstance(a, bytes):
            a = UUIDv(a)
        if isinstance(e, str) and isinstance(a, bytes):  # ENUM read as binary
            a = a.decode("utf-8", "replace")
        if semantic(e) != semantic(a):
            return f"row {i}: got {a!r}, expected {e!r}"
    return None


# ---------------------------------------------------------------------------------------------
# fixtures

class Fixture(NamedTuple):
    name: str
    writer: str                   # pyarrow | duckdb | hand
    cols: list[Col]
    data: dict[str, list]
    options: dict                 # writer options, recorded in the manifest
    expect_pages: dict[str, set]  # column -> data page encodings that must appear


OUT = ""
MANIFEST: list[dict] = []


def gen_data(cols: list[Col], n: int, seed: int, null_rate: float = 0.15) -> dict[str, list]:
    r = random.Random(seed)
    return {c.name: make_values(c, n, r, null_rate) for c in cols}


def write_expected(path: str, cols: list[Col], data: dict[str, list]):
    n = len(data[cols[0].name]) if cols else 0
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            row = {c.name: to_json(data[c.name][i]) for c in cols}
            f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n")


def _duckdb_read(path: str, cols: list[Col], data: dict[str, list]) -> Any:
    if duckdb is None:
        return "not installed"
    try:
        dt = duckdb.connect().sql(f"SELECT * FROM read_parquet('{path}')").to_arrow_table()
    except Exception as e:  # noqa: BLE001
        return f"error: {e}"
    diffs = {}
    for c in cols:
        diff = compare(data[c.name], from_arrow(dt.column(c.name)), c.kind)
        if diff:
            diffs[c.name] = f"{dt.schema.field(c.name).type}: {diff}"[:300]
    return diffs or "equal"


def check_readers(path: str, cols: list[Col], data: dict[str, list], writer: str) -> dict:
    """pyarrow must read the expected values. The one exception: a DuckDB-written file that
    pyarrow refuses to open (see the DELTA_BINARY_PACKED note in docs/research/parquet.md); DuckDB
    must then read it exactly."""
    result: dict[str, Any] = {}
    try:
        t = pq.read_table(path)
    except Exception as e:  # noqa: BLE001
        if writer != "duckdb":
            raise
        result["pyarrow"] = f"refuses: {e}"
        result["duckdb"] = _duckdb_read(path, cols, data)
        if result["duckdb"] != "equal":
            raise SystemExit(f"{path}: pyarrow refuses it and DuckDB reads {result['duckdb']}")
        return result
    if t.num_rows != len(data[cols[0].name]):
        raise SystemExit(f"{path}: pyarrow reads {t.num_rows} rows")
    for c in cols:
        diff = compare(data[c.name], from_arrow(t.column(c.name)), c.kind)
        if diff:
            raise SystemExit(f"{path}: pyarrow reads column {c.name} differently: {diff}")
    result["pyarrow"] = "equal"
    result["duckdb"] = _duckdb_read(path, cols, data)
    return result


def record(fx: Fixture, path: str, checks: dict):
    with open(path, "rb") as f:
        raw = f.read()
    s = pqwalk.walk(raw)
    leaves = [e for e in s["schema"] if "type" in e]
    page_types, codecs, col_enc, stats = set(), set(), {}, {}
    for g in s["row_groups"]:
        for c in g["columns"]:
            codecs.add(c["codec"])
            for p in c["pages"]:
                page_types.add(p["type"])
                if p["type"].startswith("DATA_PAGE"):
                    col_enc.setdefault(c["path"], set()).add(p["encoding"])
                elif p["type"] == "DICTIONARY_PAGE":
                    col_enc.setdefault(c["path"], set()).add("dictionary page:" + p["encoding"])
            st = c["statistics"] or {}
            stats.setdefault(c["path"], set()).update(st)
    for col, want in fx.expect_pages.items():
        got = pqwalk.page_encodings(s, col)
        if not want <= got:
            raise SystemExit(f"{path}: column {col} has data pages {sorted(got)}, wanted {sorted(want)}")
    covers = sorted({f"type:{c.kind}" for c in fx.cols}
                    | {f"codec:{x}" for x in codecs} | {f"page:{x}" for x in page_types}
                    | {f"encoding:{e}" for v in col_enc.values() for e in v if ":" not in e}
                    | ({"nullable"} if any(c.nullable for c in fx.cols) else set())
                    | ({"required"} if any(not c.nullable for c in fx.cols) else set())
                    | ({"row_groups:several"} if len(s["row_groups"]) > 1 else set()))
    MANIFEST.append({
        "file": os.path.basename(path),
        "expected": os.path.basename(path)[:-len(".parquet")] + ".expected.jsonl",
        "writer": fx.writer, "created_by": s["created_by"], "rows": s["num_rows"],
        "bytes": len(raw), "options": fx.options,
        "columns": [{"name": c.name, "kind": c.kind, "nullable": c.nullable} for c in fx.cols],
        "leaf_schema": leaves,
        "row_groups": [g["num_rows"] for g in s["row_groups"]],
        "codecs": sorted(codecs), "page_types": sorted(page_types),
        "page_encodings": {k: sorted(v) for k, v in col_enc.items()},
        "statistics_fields": {k: sorted(v) for k, v in stats.items()},
        "covers": covers, "read_back": checks,
    })


def emit(fx: Fixture, write: Callable[[str], None]):
    path = os.path.join(OUT, fx.name + ".parquet")
    write(path)
    write_expected(path[:-len(".parquet")] + ".expected.jsonl", fx.cols, fx.data)
    record(fx, path, check_readers(path, fx.cols, fx.data, fx.writer))


def pa_fixture(name: str, cols: list[Col], n: int, seed: int, expect_pages=None, null_rate=0.15,
               data=None, **opts):
    data = data if data is not None else gen_data(cols, n, seed, null_rate)
    table = arrow_table(cols, data)
    opts.setdefault("compression", "none")
    fx = Fixture(name, "pyarrow", cols, data, {k: sorted(v) if isinstance(v, set) else v for k, v in opts.items()},
                 expect_pages or {})
    emit(fx, lambda path: pq.write_table(table, path, **opts))


def duck_fixture(name: str, cols: list[Col], n: int, seed: int, copy_opts: str, narrow_int32: bool = False):
    """narrow_int32: keep INT32-stored integers within +-1e9 so that DuckDB's DELTA_BINARY_PACKED
    stays within 32-bit miniblocks (full-range INT32 makes DuckDB 2.0 write 33-bit miniblocks,
    which pyarrow refuses)."""
    if duckdb is None:
        print(f"  skip {name}: duckdb not installed")
        return
    data = gen_data(cols, n, seed)
    if narrow_int32:
        for c in cols:
            if c.kind in ("int32", "uint32"):
                data[c.name] = [None if v is None else v // 5 for v in data[c.name]]
            elif c.kind == "list_int32":
                data[c.name] = [None if v is None else [None if x is None else x // 5 for x in v]
                                for v in data[c.name]]
    con = duckdb.connect()
    con.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    src_cols = []
    for c in cols:  # DuckDB gets strings for uuid/json/enum, Arrow types for the rest
        if c.kind == "uuid":
            src_cols.append(pa.array([None if v is None else str(uuid.UUID(bytes=v.b)) for v in data[c.name]], pa.string()))
        elif c.kind in ("json", "enum_like"):
            src_cols.append(pa.array(data[c.name], pa.string()))
        else:
            src_cols.append(arrow_array(c, data[c.name]))
    src = pa.Table.from_arrays(src_cols, names=[c.name for c in cols])  # noqa: F841 (read by DuckDB)
    con.register("src", src)
    select = ", ".join(f'CAST("{c.name}" AS {KINDS[c.kind].duck_sql}) AS "{c.name}"' for c in cols)
    fx = Fixture(name, "duckdb", cols, data, {"copy": copy_opts, "narrow_int32": narrow_int32}, {})

    def write(path: str):
        # NOT NULL columns are what makes DuckDB write REQUIRED (it writes OPTIONAL otherwise)
        con.execute(f"CREATE TABLE t AS SELECT {select} FROM src")
        for c in cols:
            if not c.nullable:
                con.execute(f'ALTER TABLE t ALTER COLUMN "{c.name}" SET NOT NULL')
        con.execute(f"COPY t TO '{path}' (FORMAT parquet, {copy_opts})")
    emit(fx, write)


# --- the hand-made file (pqwalk's Thrift encoder) -----------------------------------------------

def rle_hybrid(values: list[int], width: int) -> bytes:
    """RLE/bit-packed hybrid (Encodings.md): RLE runs for >= 8 repeats, else one bit-packed group
    of 8 values (zero-padded at the end)."""
    out, i, vbytes = bytearray(), 0, (width + 7) // 8

    def varint(n: int):
        while True:
            b, n = n & 0x7F, n >> 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return
    while i < len(values):
        run = 1
        while i + run < len(values) and values[i + run] == values[i]:
            run += 1
        if run >= 8:
            varint(run << 1)
            out += values[i].to_bytes(vbytes, "little") if vbytes else b""
            i += run
            continue
        group = values[i:i + 8] + [0] * (8 - len(values[i:i + 8]))
        varint((1 << 1) | 1)
        acc = 0
        for j, v in enumerate(group):
            acc |= v << (j * width)
        out += acc.to_bytes(width, "little")  # 8 values * width bits = width bytes
        i += 8
    return bytes(out)


def plain_byte_array(vals: list[bytes]) -> bytes:
    return b"".join(struct.pack("<I", len(v)) + v for v in vals)


def minimal_twos_complement(n: int) -> bytes:
    length = 1
    while not -(1 << (8 * length - 1)) <= n < (1 << (8 * length - 1)):
        length += 1
    return n.to_bytes(length, "big", signed=True)


def hand_fixture(name: str, n: int, seed: int):
    T = pqwalk
    r = random.Random(seed)
    moods = [b"sad", b"ok", b"happy"]
    mood = [None if r.random() < 0.2 else r.choice(["sad", "ok", "happy"]) for _ in range(n)]
    small = [r.randint(-32768, 32767) for _ in range(n)]
    tsl = [None if i % 11 in (3, 4) else r.randint(Y1900_MS, Y2200_MS) for i in range(n)]
    names = [None if r.random() < 0.1 else gen_string(r) for _ in range(n)]
    decs = [None if r.random() < 0.1 else r.randint(-10**20 + 1, 10**20 - 1) for _ in range(n)]

    body = bytearray(b"PAR1")
    chunks = []

    def page(header: list, payload: bytes) -> int:
        off = len(body)
        body.extend(T.encode_struct(header))
        body.extend(payload)
        return off

    def data_page(values_n: int, encoding: int, payload: bytes) -> list:
        return [(1, T.CT_I32, 0), (2, T.CT_I32, len(payload)), (3, T.CT_I32, len(payload)),
                (5, T.CT_STRUCT, [(1, T.CT_I32, values_n), (2, T.CT_I32, encoding),
                                  (3, T.CT_I32, 3), (4, T.CT_I32, 3)])]

    def def_levels(vals: list) -> bytes:
        enc = rle_hybrid([0 if v is None else 1 for v in vals], 1)
        return struct.pack("<I", len(enc)) + enc  # v1 page: 4-byte length prefix

    def chunk(path: str, ptype: int, encodings: list[int], start: int, data_off: int,
              dict_off: int | None, stats: list, nvals: int):
        size = len(body) - start
        md = [(1, T.CT_I32, ptype), (2, T.CT_LIST, (T.CT_I32, encodings)),
              (3, T.CT_LIST, (T.CT_BINARY, [path])), (4, T.CT_I32, 0), (5, T.CT_I64, nvals),
              (6, T.CT_I64, size), (7, T.CT_I64, size), (9, T.CT_I64, data_off)]
        if dict_off is not None:
            md.append((11, T.CT_I64, dict_off))
        md.append((12, T.CT_STRUCT, stats))
        chunks.append([(2, T.CT_I64, 0), (3, T.CT_STRUCT, md)])

    # mood: optional BYTE_ARRAY, LogicalType ENUM + ConvertedType ENUM, dictionary page with
    # PLAIN_DICTIONARY (the legacy spelling), data page PLAIN_DICTIONARY, def levels RLE
    start = len(body)
    dpayload = plain_byte_array(moods)
    dict_off = page([(1, T.CT_I32, 2), (2, T.CT_I32, len(dpayload)), (3, T.CT_I32, len(dpayload)),
                     (7, T.CT_STRUCT, [(1, T.CT_I32, 3), (2, T.CT_I32, 2), (3, T.CT_TRUE, False)])], dpayload)
    idx = [moods.index(m.encode()) for m in mood if m is not None]
    payload = def_levels(mood) + bytes([2]) + rle_hybrid(idx, 2)
    data_off = page(data_page(n, 2, payload), payload)
    present = sorted(m.encode() for m in mood if m is not None)
    chunk("mood", 6, [2, 3], start, data_off, dict_off,
          [(3, T.CT_I64, mood.count(None)), (5, T.CT_BINARY, present[-1]), (6, T.CT_BINARY, present[0])], n)

    # small: required INT32, ConvertedType INT_16 only (no LogicalType), PLAIN, no def levels
    start = len(body)
    payload = b"".join(struct.pack("<i", v) for v in small)
    data_off = page(data_page(n, 0, payload), payload)
    chunk("small", 1, [0], start, data_off, None,
          [(3, T.CT_I64, 0), (5, T.CT_BINARY, struct.pack("<i", max(small))),
           (6, T.CT_BINARY, struct.pack("<i", min(small)))], n)

    # ts_legacy: optional INT64, ConvertedType TIMESTAMP_MILLIS only (=> UTC millis), PLAIN
    start = len(body)
    payload = def_levels(tsl) + b"".join(struct.pack("<q", v) for v in tsl if v is not None)
    data_off = page(data_page(n, 0, payload), payload)
    nn = [v for v in tsl if v is not None]
    chunk("ts_legacy", 2, [0, 3], start, data_off, None,
          [(3, T.CT_I64, tsl.count(None)), (5, T.CT_BINARY, struct.pack("<q", max(nn))),
           (6, T.CT_BINARY, struct.pack("<q", min(nn)))], n)

    # name_legacy: optional BYTE_ARRAY, ConvertedType UTF8 only, deprecated min/max statistics only
    start = len(body)
    nn = [v.encode() for v in names if v is not None]
    payload = def_levels(names) + plain_byte_array(nn)
    data_off = page(data_page(n, 0, payload), payload)
    chunk("name_legacy", 6, [0, 3], start, data_off, None,
          [(1, T.CT_BINARY, max(nn)), (2, T.CT_BINARY, min(nn)), (3, T.CT_I64, names.count(None))], n)

    # dec_ba: optional BYTE_ARRAY DECIMAL(21,3), minimal big-endian two's complement, PLAIN
    start = len(body)
    nn = [minimal_twos_complement(v) for v in decs if v is not None]
    payload = def_levels(decs) + plain_byte_array(nn)
    data_off = page(data_page(n, 0, payload), payload)
    chunk("dec_ba", 6, [0, 3], start, data_off, None, [(3, T.CT_I64, decs.count(None))], n)

    schema = [
        [(4, T.CT_BINARY, "schema"), (5, T.CT_I32, 5)],
        [(1, T.CT_I32, 6), (3, T.CT_I32, 1), (4, T.CT_BINARY, "mood"), (6, T.CT_I32, 4),
         (10, T.CT_STRUCT, [(4, T.CT_STRUCT, [])])],
        [(1, T.CT_I32, 1), (3, T.CT_I32, 0), (4, T.CT_BINARY, "small"), (6, T.CT_I32, 16)],
        [(1, T.CT_I32, 2), (3, T.CT_I32, 1), (4, T.CT_BINARY, "ts_legacy"), (6, T.CT_I32, 9)],
        [(1, T.CT_I32, 6), (3, T.CT_I32, 1), (4, T.CT_BINARY, "name_legacy"), (6, T.CT_I32, 0)],
        [(1, T.CT_I32, 6), (3, T.CT_I32, 1), (4, T.CT_BINARY, "dec_ba"), (6, T.CT_I32, 5),
         (7, T.CT_I32, 3), (8, T.CT_I32, 21),
         (10, T.CT_STRUCT, [(5, T.CT_STRUCT, [(1, T.CT_I32, 3), (2, T.CT_I32, 21)])])],
    ]
    total = len(body) - 4
    row_group = [(1, T.CT_LIST, (T.CT_STRUCT, chunks)), (2, T.CT_I64, total), (3, T.CT_I64, n)]
    type_order = [(1, T.CT_STRUCT, [])]
    fmd = [(1, T.CT_I32, 1), (2, T.CT_LIST, (T.CT_STRUCT, schema)), (3, T.CT_I64, n),
           (4, T.CT_LIST, (T.CT_STRUCT, [row_group])),
           (6, T.CT_BINARY, "dkdata tests/parquet/make_fixtures.py (hand-made)"),
           (7, T.CT_LIST, (T.CT_STRUCT, [type_order] * 5))]
    footer = T.encode_struct(fmd)
    body.extend(footer)
    body.extend(struct.pack("<I", len(footer)))
    body.extend(b"PAR1")

    cols = [Col("mood", "enum_like", True), Col("small", "int16", False),
            Col("ts_legacy", "ts_ms_utc", True), Col("name_legacy", "string", True),
            Col("dec_ba", "dec_21_3", True)]
    data = {"mood": mood, "small": small, "ts_legacy": [None if v is None else TS(v, "ms", True) for v in tsl],
            "name_legacy": names, "dec_ba": [None if v is None else Dec(v, 3) for v in decs]}
    fx = Fixture(name, "hand", cols, data, {"note": "ENUM, ConvertedType-only annotations, PLAIN_DICTIONARY, "
                                                    "deprecated min/max, BYTE_ARRAY decimal"},
                 {"mood": {"PLAIN_DICTIONARY"}})

    def write(path: str):
        with open(path, "wb") as f:
            f.write(body)
    emit(fx, write)


# ---------------------------------------------------------------------------------------------

def cols_of(kinds: list[str], nullable: bool, suffix: str = "") -> list[Col]:
    return [Col(k + suffix, k, nullable) for k in kinds]


KINDS["dec_21_3"] = Kind("dec_21_3", pa.decimal128(21, 3), dec_gen(21, 3))  # hand-made file only

INT_KINDS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "date",
             "time_ms", "time_us", "time_ns", "ts_ms_utc", "ts_us_utc", "ts_ns_utc", "ts_ms_local",
             "ts_us_local", "ts_ns_local"]
MIXED = [Col("id", "int64", False), Col("name", "string", True), Col("category", "enum_like", True),
         Col("score", "double", True), Col("flag", "bool", True), Col("at", "ts_us_utc", True),
         Col("vec", "list_float", True), Col("amount", "dec_18_6", True)]
DUCK_KINDS = [k for k, v in KINDS.items() if v.duck_sql]


def all_fixtures():
    everything_n = [c for c in cols_of(ALL_TYPES, True)]
    everything_r = [c for c in cols_of(ALL_TYPES, False)]

    # every type, nullable and required, PLAIN / dictionary, page v1 / v2, each codec
    pa_fixture("pa_types_nullable_plain_v1", everything_n, 400, 1, use_dictionary=False,
               column_encoding="PLAIN", data_page_version="1.0",
               expect_pages={"bool": {"PLAIN"}, "int32": {"PLAIN"}, "string": {"PLAIN"}})
    pa_fixture("pa_types_required_plain_v1", everything_r, 400, 2, use_dictionary=False,
               column_encoding="PLAIN", data_page_version="1.0", expect_pages={"uuid": {"PLAIN"}})
    pa_fixture("pa_types_nullable_plain_v2_gzip", everything_n, 400, 3, use_dictionary=False,
               column_encoding="PLAIN", data_page_version="2.0", compression="gzip")
    pa_fixture("pa_types_nullable_dict_v1_snappy", everything_n, 400, 4, data_page_version="1.0",
               compression="snappy", expect_pages={"string": {"RLE_DICTIONARY"}})
    pa_fixture("pa_types_nullable_dict_v2_zstd", everything_n, 400, 5, data_page_version="2.0",
               compression="zstd", expect_pages={"int64": {"RLE_DICTIONARY"}})
    pa_fixture("pa_types_required_dict_v2_none", everything_r, 400, 6, data_page_version="2.0")
    pa_fixture("pa_types_nullable_dict_v1_lz4", everything_n, 400, 7, compression="lz4")
    pa_fixture("pa_types_decimal_as_int", cols_of(["dec_9_2", "dec_18_6", "dec_38_10"], True), 300, 8,
               store_decimal_as_integer=True, compression="snappy")
    pa_fixture("pa_legacy_format_1_0", cols_of(["string", "int32", "int64", "double", "bool", "uint32",
                                                "ts_ms_local", "date"], True), 300, 9, version="1.0",
               expect_pages={"string": {"PLAIN_DICTIONARY"}})

    # the mixed 8-column table under every codec x page version, several row groups
    mixed = gen_data(MIXED, 1000, 10)
    mixed["id"] = list(range(1, 1001))
    for codec in ["none", "snappy", "gzip", "zstd", "lz4"]:
        for ver in ["1.0", "2.0"]:
            pa_fixture(f"pa_mixed_{codec}_v{ver[0]}", MIXED, 1000, 10, data=mixed, compression=codec,
                       data_page_version=ver, row_group_size=400)

    # encodings (use_dictionary=False so the requested encoding is what the data pages use)
    dbp_cols = cols_of(INT_KINDS, True) + [Col("dec_9_2", "dec_9_2", True), Col("dec_18_6", "dec_18_6", True),
                                           Col("seq", "int64", False)]
    seq = list(range(-500, 1500, 1))
    for ver in ["1.0", "2.0"]:
        data = gen_data(dbp_cols, 2000, 11)
        data["seq"] = seq
        pa_fixture(f"pa_enc_delta_binary_packed_v{ver[0]}", dbp_cols, 2000, 11, data=data,
                   use_dictionary=False, column_encoding="DELTA_BINARY_PACKED", data_page_version=ver,
                   store_decimal_as_integer=True, data_page_size=4096,
                   compression="snappy" if ver == "2.0" else "none",
                   expect_pages={c.name: {"DELTA_BINARY_PACKED"} for c in dbp_cols})
    dlba = cols_of(["string", "binary", "json"], True) + [Col("required_string", "string", False)]
    pa_fixture("pa_enc_delta_length_byte_array", dlba, 1000, 12, use_dictionary=False,
               column_encoding="DELTA_LENGTH_BYTE_ARRAY", data_page_size=2048,
               expect_pages={c.name: {"DELTA_LENGTH_BYTE_ARRAY"} for c in dlba})
    dba = cols_of(["prefixed", "string", "binary", "fixed5", "uuid", "dec_38_10"], True)
    pa_fixture("pa_enc_delta_byte_array", dba, 1000, 13, use_dictionary=False,
               column_encoding="DELTA_BYTE_ARRAY", data_page_size=2048, data_page_version="2.0",
               expect_pages={c.name: {"DELTA_BYTE_ARRAY"} for c in dba})
    bss = cols_of(["float", "double", "int32", "int64", "fixed5", "uuid", "dec_18_6"], True)
    for ver in ["1.0", "2.0"]:
        pa_fixture(f"pa_enc_byte_stream_split_v{ver[0]}", bss, 1000, 14, use_dictionary=False,
                   column_encoding="BYTE_STREAM_SPLIT", data_page_version=ver,
                   compression="zstd" if ver == "2.0" else "none",
                   expect_pages={c.name: {"BYTE_STREAM_SPLIT"} for c in bss})
    pa_fixture("pa_enc_boolean_rle_v2", [Col("b", "bool", True), Col("b_req", "bool", False)], 1000, 15,
               use_dictionary=False, data_page_version="2.0", expect_pages={"b": {"RLE"}, "b_req": {"RLE"}})

    # dictionary overflow: dictionary page, RLE_DICTIONARY pages, then PLAIN pages in one chunk
    pa_fixture("pa_dict_fallback", [Col("key", "prefixed", True), Col("v", "int64", True)], 2000, 16,
               dictionary_pagesize_limit=1024, data_page_size=1024, compression="snappy",
               expect_pages={"key": {"RLE_DICTIONARY", "PLAIN"}})

    # row groups with sorted columns (row-group skipping by statistics), many pages per chunk
    rg_cols = [Col("id", "int64", False), Col("at", "ts_us_utc", False), Col("key", "string", False),
               Col("sparse", "double", True)]
    rg = {"id": list(range(2000)), "at": [TS(1600000000000000 + i * 1000000, "us", True) for i in range(2000)],
          "key": [f"k{i:05d}" for i in range(2000)],
          "sparse": [None if (i // 250) % 2 else float(i) for i in range(2000)]}  # whole row groups null
    pa_fixture("pa_row_groups_sorted", rg_cols, 2000, 17, data=rg, row_group_size=250,
               data_page_size=512, compression="snappy")

    # lists of primitives (3-level LIST), nullable and required, lists spanning many pages
    lst_n = cols_of(["list_float", "list_double", "list_int32", "list_int64"], True)
    lst_r = [Col("list_float_req", "list_float", False), Col("list_int64_req", "list_int64", False)]
    for ver in ["1.0", "2.0"]:
        pa_fixture(f"pa_lists_v{ver[0]}", lst_n + lst_r, 1000, 18, data_page_version=ver,
                   data_page_size=1024, compression="snappy" if ver == "1.0" else "zstd")
    pa_fixture("pa_lists_plain", lst_n, 500, 19, use_dictionary=False, column_encoding="PLAIN")

    # float specials, all-null columns, an empty file
    special = [0.0, -0.0, float("nan"), float("inf"), float("-inf"), 5e-324, -5e-324,
               1.7976931348623157e308, -1.7976931348623157e308, 1.0, None]
    spec_f = [f32(x) if x is not None and math.isfinite(x) else x for x in
              [0.0, -0.0, float("nan"), float("inf"), float("-inf"), 1.401298464324817e-45, -1.401298464324817e-45,
               3.4028234663852886e38, -3.4028234663852886e38, 1.0, None]]
    pa_fixture("pa_float_specials", [Col("f", "float", True), Col("d", "double", True)], 11, 0,
               data={"f": spec_f, "d": special})
    pa_fixture("pa_float_specials_dict_v2", [Col("f", "float", True), Col("d", "double", True)], 11, 0,
               data={"f": spec_f * 3, "d": special * 3}, data_page_version="2.0", compression="snappy")
    all_null = cols_of(["string", "int64", "double", "bool", "ts_us_utc", "list_float"], True)
    pa_fixture("pa_all_null", all_null, 100, 20, null_rate=1.0)
    pa_fixture("pa_empty", cols_of(["string", "int64", "list_float"], True), 0, 21)

    # DuckDB writer: its own encodings (PARQUET_VERSION V2 => DELTA_*/BYTE_STREAM_SPLIT), codecs
    duck_n = cols_of(DUCK_KINDS, True)
    duck_r = cols_of(["int32", "string", "double", "ts_us_utc", "list_float"], False, "_req")
    duck_fixture("duck_types_v1_uncompressed", duck_n + duck_r, 600, 30, "COMPRESSION uncompressed")
    duck_fixture("duck_types_v1_snappy", duck_n + duck_r, 600, 31, "COMPRESSION snappy")
    duck_fixture("duck_types_v1_gzip", duck_n, 600, 32, "COMPRESSION gzip")
    duck_fixture("duck_types_v1_lz4", duck_n, 600, 33, "COMPRESSION lz4")
    duck_fixture("duck_types_v2_zstd", duck_n + duck_r, 600, 34, "COMPRESSION zstd, PARQUET_VERSION V2")
    duck_fixture("duck_types_v2_snappy", duck_n, 1500, 35, "COMPRESSION snappy, PARQUET_VERSION V2",
                 narrow_int32=True)

    # made by hand from the spec: what neither tool writes
    hand_fixture("hand_enum_legacy", 200, 40)


REQUIRED_COVERAGE = (
    [f"type:{k}" for k in ["string", "enum_like", "json", "int8", "int16", "int32", "int64", "uint8", "uint16",
                           "uint32", "uint64", "float", "double", "bool", "ts_ms_utc", "ts_us_utc", "ts_ns_utc",
                           "ts_ms_local", "ts_us_local", "ts_ns_local", "date", "time_ms", "time_us", "time_ns",
                           "dec_9_2", "dec_18_6", "dec_38_10", "binary", "uuid", "list_float", "list_int32"]]
    + [f"encoding:{e}" for e in ["PLAIN", "PLAIN_DICTIONARY", "RLE_DICTIONARY", "RLE", "DELTA_BINARY_PACKED",
                                 "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "BYTE_STREAM_SPLIT"]]
    + [f"codec:{c}" for c in ["UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD", "LZ4_RAW"]]
    + ["page:DATA_PAGE", "page:DATA_PAGE_V2", "page:DICTIONARY_PAGE", "nullable", "required",
       "row_groups:several"])


def main():
    global OUT
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.split("\n\n")[1])
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith((".parquet", ".expected.jsonl")) or f == "manifest.json":
            os.remove(os.path.join(OUT, f))
    all_fixtures()
    covered = set().union(*(set(m["covers"]) for m in MANIFEST))
    missing = [c for c in REQUIRED_COVERAGE if c not in covered]
    manifest = {
        "generator": "tests/parquet/make_fixtures.py",
        "pyarrow": pa.__version__, "duckdb": duckdb.__version__ if duckdb else None,
        "notation": "see the docstring of make_fixtures.py",
        "coverage_missing": missing,
        "files": MANIFEST,
    }
    with open(os.path.join(OUT, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    total = sum(m["bytes"] for m in MANIFEST)
    print(f"{len(MANIFEST)} Parquet files in {OUT} ({total} bytes; pyarrow {pa.__version__}, "
          f"duckdb {duckdb.__version__ if duckdb else 'absent'})")
    for m in MANIFEST:
        dd = m["read_back"].get("duckdb")
        dd = dd if isinstance(dd, str) else f"differs in {sorted(dd)}"
        print(f"  {m['file']:<42} {m['rows']:>5} rows {len(m['row_groups']):>2} rg {m['bytes']:>8} B "
              f"{','.join(m['codecs']):<13} {','.join(p.replace('DATA_PAGE', 'DP') for p in m['page_types']):<28} duckdb: {dd}")
    if missing:
        raise SystemExit(f"coverage missing: {missing}")
    print("coverage: every type, encoding, codec and page kind of issue 8 is present")


if __name__ == "__main__":
    main()
