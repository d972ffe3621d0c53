"""A small, independent Parquet inspector and Thrift compact-protocol codec, written from the
format specification (apache/parquet-format parquet.thrift, README.md "File format") and the
Thrift compact protocol spec (apache/thrift doc/specs/thrift-compact-protocol.md).

Used by make_fixtures.py to record what each fixture really contains (page types, page encodings,
codec ids, statistics fields) and to write the one hand-made fixture no tool can produce (the ENUM
logical type and legacy ConvertedType-only annotations). Standard library only.

    python pqwalk.py FILE.parquet      # prints the footer summary and the page list as JSON
"""
from __future__ import annotations

import json
import struct
import sys

# --- enums from parquet.thrift ------------------------------------------------------------------
TYPE = {0: "BOOLEAN", 1: "INT32", 2: "INT64", 3: "INT96", 4: "FLOAT", 5: "DOUBLE",
        6: "BYTE_ARRAY", 7: "FIXED_LEN_BYTE_ARRAY"}
CONVERTED = {0: "UTF8", 1: "MAP", 2: "MAP_KEY_VALUE", 3: "LIST", 4: "ENUM", 5: "DECIMAL", 6: "DATE",
             7: "TIME_MILLIS", 8: "TIME_MICROS", 9: "TIMESTAMP_MILLIS", 10: "TIMESTAMP_MICROS",
             11: "UINT_8", 12: "UINT_16", 13: "UINT_32", 14: "UINT_64", 15: "INT_8", 16: "INT_16",
             17: "INT_32", 18: "INT_64", 19: "JSON", 20: "BSON", 21: "INTERVAL"}
REPETITION = {0: "REQUIRED", 1: "OPTIONAL", 2: "REPEATED"}
ENCODING = {0: "PLAIN", 2: "PLAIN_DICTIONARY", 3: "RLE", 4: "BIT_PACKED", 5: "DELTA_BINARY_PACKED",
            6: "DELTA_LENGTH_BYTE_ARRAY", 7: "DELTA_BYTE_ARRAY", 8: "RLE_DICTIONARY",
            9: "BYTE_STREAM_SPLIT"}
CODEC = {0: "UNCOMPRESSED", 1: "SNAPPY", 2: "GZIP", 3: "LZO", 4: "BROTLI", 5: "LZ4", 6: "ZSTD",
         7: "LZ4_RAW"}
PAGE_TYPE = {0: "DATA_PAGE", 1: "INDEX_PAGE", 2: "DICTIONARY_PAGE", 3: "DATA_PAGE_V2"}
LOGICAL = {1: "STRING", 2: "MAP", 3: "LIST", 4: "ENUM", 5: "DECIMAL", 6: "DATE", 7: "TIME",
           8: "TIMESTAMP", 10: "INTEGER", 11: "UNKNOWN", 12: "JSON", 13: "BSON", 14: "UUID",
           15: "FLOAT16", 16: "VARIANT", 17: "GEOMETRY", 18: "GEOGRAPHY"}
TIME_UNIT = {1: "MILLIS", 2: "MICROS", 3: "NANOS"}

# compact protocol type ids (field headers; list element types use the same numbers, with both
# 1 and 2 accepted for bool elements)
CT_STOP, CT_TRUE, CT_FALSE, CT_I8, CT_I16, CT_I32, CT_I64, CT_DOUBLE, CT_BINARY, CT_LIST, CT_SET, \
    CT_MAP, CT_STRUCT = range(13)


class ThriftError(ValueError):
    pass


class CompactReader:
    """Generic compact-protocol decoder: structs become {field_id: value}, lists Python lists,
    bools Python bools, binary bytes. Needs no schema (the protocol is self-describing)."""

    MAX_DEPTH = 64

    def __init__(self, buf: bytes, pos: int = 0, end: int | None = None):
        self.buf, self.pos = buf, pos
        self.end = len(buf) if end is None else end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise ThriftError(f"truncated at {self.pos}")
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ThriftError("varint too long")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, t: int, depth: int):
        if t in (CT_TRUE, CT_FALSE):  # only reached for list elements: one byte, 1 = true
            return self.byte() == 1
        if t == CT_I8:
            b = self.byte()
            return b - 256 if b > 127 else b
        if t in (CT_I16, CT_I32, CT_I64):
            return self.zigzag()
        if t == CT_DOUBLE:
            if self.pos + 8 > self.end:
                raise ThriftError("truncated double")
            v = struct.unpack_from("<d", self.buf, self.pos)[0]
            self.pos += 8
            return v
        if t == CT_BINARY:
            n = self.varint()
            if n > self.end - self.pos:
                raise ThriftError(f"binary length {n} past end")
            v = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n
            return v
        if t in (CT_LIST, CT_SET):
            h = self.byte()
            n, et = h >> 4, h & 0x0F
            if n == 15:
                n = self.varint()
            if n > self.end - self.pos:  # every element takes at least one byte... except bools
                if et not in (CT_TRUE, CT_FALSE) or n > 8 * (self.end - self.pos):
                    raise ThriftError(f"list size {n} past end")
            return [self.value(et, depth + 1) for _ in range(n)]
        if t == CT_MAP:
            n = self.varint()
            if n == 0:
                return {}
            kv = self.byte()
            return {self.value(kv >> 4, depth + 1): self.value(kv & 0x0F, depth + 1) for _ in range(n)}
        if t == CT_STRUCT:
            return self.struct(depth + 1)
        raise ThriftError(f"unknown compact type {t} at {self.pos}")

    def struct(self, depth: int = 0) -> dict:
        if depth > self.MAX_DEPTH:
            raise ThriftError("nesting too deep")
        out, last = {}, 0
        while True:
            h = self.byte()
            if h == CT_STOP:
                return out
            t, delta = h & 0x0F, h >> 4
            fid = last + delta if delta else self.zigzag()
            out[fid] = (t == CT_TRUE) if t in (CT_TRUE, CT_FALSE) else self.value(t, depth)
            last = fid


class CompactWriter:
    """Minimal compact-protocol encoder. A struct is a list of (field_id, ctype, value) sorted by
    id; a nested struct value is such a list; a list value is (element_ctype, [values])."""

    def __init__(self):
        self.out = bytearray()

    def varint(self, n: int):
        while True:
            b = n & 0x7F
            n >>= 7
            if n:
                self.out.append(b | 0x80)
            else:
                self.out.append(b)
                return

    def zigzag(self, n: int):
        self.varint((n << 1) ^ (n >> 63))

    def value(self, t: int, v):
        if t == CT_I8:
            self.out += struct.pack("<b", v)
        elif t in (CT_I16, CT_I32, CT_I64):
            self.zigzag(v)
        elif t == CT_DOUBLE:
            self.out += struct.pack("<d", v)
        elif t == CT_BINARY:
            v = v.encode() if isinstance(v, str) else v
            self.varint(len(v))
            self.out += v
        elif t == CT_LIST:
            et, items = v
            if len(items) < 15:
                self.out.append((len(items) << 4) | et)
            else:
                self.out.append(0xF0 | et)
                self.varint(len(items))
            for item in items:
                if et in (CT_TRUE, CT_FALSE):
                    self.out.append(1 if item else 0)
                else:
                    self.value(et, item)
        elif t == CT_STRUCT:
            self.struct(v)
        else:
            raise ValueError(t)

    def struct(self, fields):
        last = 0
        for fid, t, v in fields:
            if t in (CT_TRUE, CT_FALSE):
                t = CT_TRUE if v else CT_FALSE
            if 0 < fid - last <= 15:
                self.out.append(((fid - last) << 4) | t)
            else:
                self.out.append(t)
                self.zigzag(fid)
            if t not in (CT_TRUE, CT_FALSE):
                self.value(t, v)
            last = fid
        self.out.append(CT_STOP)
        return self


def encode_struct(fields) -> bytes:
    return bytes(CompactWriter().struct(fields).out)


# --- footer and pages ------------------------------------------------------------------------

def read_footer(data: bytes) -> dict:
    if len(data) < 12 or data[:4] != b"PAR1" or data[-4:] != b"PAR1":
        raise ThriftError("not a PAR1 file")
    n = struct.unpack_from("<I", data, len(data) - 8)[0]
    if n > len(data) - 12:
        raise ThriftError("footer length past start of file")
    start = len(data) - 8 - n
    r = CompactReader(data, start, len(data) - 8)
    md = r.struct()
    if r.pos != len(data) - 8:
        raise ThriftError(f"footer has {len(data) - 8 - r.pos} trailing bytes")
    return md


def logical_str(lt: dict | None) -> str | None:
    if not lt:
        return None
    (fid, v), = lt.items()
    name = LOGICAL.get(fid, f"?{fid}")
    if fid == 5:
        return f"DECIMAL({v.get(2)},{v.get(1)})"
    if fid in (7, 8):
        unit = TIME_UNIT.get(next(iter(v.get(2, {})), None), "?")
        return f"{name}(utc={v.get(1)},{unit})"
    if fid == 10:
        return f"INTEGER({v.get(1)},{'signed' if v.get(2) else 'unsigned'})"
    return name


def schema_summary(md: dict) -> list[dict]:
    out = []
    for el in md.get(2, []):
        e = {"name": el.get(4, b"").decode()}
        if 1 in el:
            e["type"] = TYPE.get(el[1], el[1])
        if 2 in el:
            e["type_length"] = el[2]
        if 3 in el:
            e["repetition"] = REPETITION.get(el[3], el[3])
        if 5 in el:
            e["num_children"] = el[5]
        if 6 in el:
            e["converted_type"] = CONVERTED.get(el[6], el[6])
        if 7 in el:
            e["scale"] = el[7]
        if 8 in el:
            e["precision"] = el[8]
        if 10 in el:
            e["logical_type"] = logical_str(el[10])
        out.append(e)
    return out


def stats_summary(st: dict | None) -> dict | None:
    if st is None:
        return None
    names = {1: "max", 2: "min", 3: "null_count", 4: "distinct_count", 5: "max_value",
             6: "min_value", 7: "is_max_value_exact", 8: "is_min_value_exact", 9: "nan_count"}
    out = {}
    for fid, v in sorted(st.items()):
        out[names.get(fid, str(fid))] = v.hex() if isinstance(v, bytes) else v
    return out


def walk(data: bytes) -> dict:
    """Footer summary plus, for every column chunk, the list of its pages."""
    md = read_footer(data)
    res = {"version": md.get(1), "num_rows": md.get(3),
           "created_by": md.get(6, b"").decode(errors="replace"),
           "schema": schema_summary(md), "column_orders": [list(o)[0] for o in md.get(7, [])],
           "row_groups": []}
    for rg in md.get(4, []):
        g = {"num_rows": rg.get(3), "columns": []}
        for cc in rg.get(1, []):
            cm = cc.get(3, {})
            c = {"path": ".".join(p.decode() for p in cm.get(3, [])),
                 "type": TYPE.get(cm.get(1)), "codec": CODEC.get(cm.get(4), cm.get(4)),
                 "num_values": cm.get(5),
                 "encodings": [ENCODING.get(e, e) for e in cm.get(2, [])],
                 "statistics": stats_summary(cm.get(12)), "pages": []}
            # The chunk starts at the dictionary page when there is one. pyarrow writes
            # data_page_offset = 0 for a zero-row chunk that holds only an empty dictionary page.
            start = cm.get(9, 0)
            dict_off = cm.get(11)
            if dict_off is not None and dict_off >= 4 and (dict_off < start or start < 4):
                start = dict_off
            pos, end = start, start + cm.get(7, 0)
            while pos < end:
                r = CompactReader(data, pos, len(data))
                ph = r.struct()
                p = {"type": PAGE_TYPE.get(ph.get(1), ph.get(1)), "uncompressed": ph.get(2),
                     "compressed": ph.get(3)}
                if 5 in ph:
                    h = ph[5]
                    p.update(num_values=h.get(1), encoding=ENCODING.get(h.get(2)),
                             def_enc=ENCODING.get(h.get(3)), rep_enc=ENCODING.get(h.get(4)),
                             has_stats=5 in h)
                if 7 in ph:
                    h = ph[7]
                    p.update(num_values=h.get(1), encoding=ENCODING.get(h.get(2)))
                if 8 in ph:
                    h = ph[8]
                    p.update(num_values=h.get(1), num_nulls=h.get(2), num_rows=h.get(3),
                             encoding=ENCODING.get(h.get(4)), def_len=h.get(5), rep_len=h.get(6),
                             is_compressed=h.get(7, True), has_stats=8 in h)
                c["pages"].append(p)
                pos = r.pos + ph.get(3, 0)
            g["columns"].append(c)
        res["row_groups"].append(g)
    return res


def page_encodings(summary: dict, path: str) -> set[str]:
    """Encodings of the data pages (not dictionary pages) of one column over all row groups."""
    out = set()
    for g in summary["row_groups"]:
        for c in g["columns"]:
            if c["path"] == path:
                out |= {p["encoding"] for p in c["pages"] if p["type"].startswith("DATA_PAGE")}
    return out


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        print(json.dumps(walk(f.read()), indent=1))
