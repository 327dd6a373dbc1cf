"""The table's columns, derived from the field registry (:mod:`headerkit.tables.registry`),
and one row per packet.

One row per packet (:func:`row`) is the definition the columnar decoder is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from headerkit.packet.decode import Packet
from headerkit.schemas.linktypes import linktype_name
from headerkit.tables.registry import FIELDS
from headerkit.tables.tshark import tshark_fields

_ARROW: dict[str, pa.DataType] = {
    "u8": pa.uint8(),
    "u16": pa.uint16(),
    "u32": pa.uint32(),
    "u64": pa.uint64(),
    "i32": pa.int32(),
    "f64": pa.float64(),
    "bool": pa.bool_(),
    "str": pa.string(),
    "cat": pa.dictionary(pa.int32(), pa.string()),
    "ts": pa.timestamp("ns", tz="UTC"),
}


def arrow_type(spec: str) -> pa.DataType:
    """The Arrow type a registry row names (``u16``, ``list<u32>``, ...)."""
    if spec.startswith("list<"):
        return pa.list_(_ARROW[spec[5:-1]])
    return _ARROW[spec]


# Every column of the table (``read_table``), as the registry lists them, and the columns
# flow tracking adds (``read_table(..., flows=True)``).
COLUMNS: dict[str, pa.DataType] = {
    f.name: arrow_type(f.arrow) for f in FIELDS if f.table and f.source != "flow"
}
FLOW_COLUMNS: dict[str, pa.DataType] = {
    f.name: arrow_type(f.arrow) for f in FIELDS if f.table and f.source == "flow"
}
# Short names for interactive use: ``read_table(path, short_names=True)``.
ALIASES = {f.name: f.alias for f in FIELDS if f.alias is not None}
# tshark's names of the flag bits, as boolean columns
FLAG_COLUMNS = {f.name: f.flag for f in FIELDS if f.flag is not None}

BATCH_ROWS = 65536
_MAX_NS = 2**63


def row(pkt: Packet) -> dict[str, Any]:
    """One table row: the packet's tshark fields plus time, link type and flag columns."""
    out = tshark_fields(pkt)
    if pkt.timestamp_ns is not None:
        # a 64-bit nanosecond timestamp ends in 2262; later capture times stay in seconds
        if pkt.timestamp_ns < _MAX_NS:
            out["frame.time"] = pkt.timestamp_ns
        out["frame.time_epoch"] = pkt.timestamp_ns / 1e9
    out["frame.linktype"] = linktype_name(pkt.linktype)
    flags = out.get("tcp.flags")
    if flags is not None:
        for name, bit in FLAG_COLUMNS.items():
            out[name] = bool(flags & bit)
        tcp = pkt.tcp
        out["tcp.flags.str"] = ",".join(tcp.flag_names) if tcp is not None else ""
    out["malformed"] = out.get("malformed", False)
    return out


def schema(fields: Sequence[str] | None = None) -> pa.Schema:
    names = list(COLUMNS) if fields is None else list(fields)
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise KeyError(f"unknown columns {unknown}; see headerkit.tables.fields.COLUMNS")
    return pa.schema([pa.field(n, COLUMNS[n]) for n in names])
