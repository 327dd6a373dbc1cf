"""The table's columns: tshark's field names, their Arrow types, short aliases and a row.

One row per packet (:func:`row`) is the definition the columnar decoder is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from headerkit.flows.analysis import Analysis
from headerkit.packet.decode import Packet
from headerkit.schemas import tcp as t
from headerkit.schemas.linktypes import linktype_name
from headerkit.tables.tshark import tshark_fields

_u8, _u16, _u32, _u64 = pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()
_str = pa.string()
_cat = pa.dictionary(pa.int32(), pa.string())

# Every column: tshark's field name and its Arrow type.
COLUMNS: dict[str, pa.DataType] = {
    "frame.number": _u64,
    "frame.time": pa.timestamp("ns", tz="UTC"),
    "frame.time_epoch": pa.float64(),
    "frame.len": _u32,
    "frame.cap_len": _u32,
    "frame.linktype": _cat,
    "eth.type": _u16,
    "vlan.id": pa.list_(_u16),
    "ieee8021ad.id": pa.list_(_u16),
    "sll.etype": _u16,
    "null.family": _u32,
    "ip.version": _u8,
    "ip.hdr_len": _u8,
    "ip.len": _u32,
    "ip.id": _u16,
    "ip.flags": _u8,
    "ip.frag_offset": _u16,
    "ip.ttl": _u8,
    "ip.proto": _u8,
    "ip.checksum": _u16,
    "ip.checksum.status": _u8,
    "ip.src": _str,
    "ip.dst": _str,
    "ipv6.plen": _u16,
    "ipv6.nxt": _u8,
    "ipv6.hlim": _u8,
    "ipv6.src": _str,
    "ipv6.dst": _str,
    "tcp.srcport": _u16,
    "tcp.dstport": _u16,
    "tcp.seq_raw": _u32,
    "tcp.ack_raw": _u32,
    "tcp.hdr_len": _u8,
    "tcp.flags": _u16,
    "tcp.flags.str": _cat,
    "tcp.flags.fin": pa.bool_(),
    "tcp.flags.syn": pa.bool_(),
    "tcp.flags.reset": pa.bool_(),
    "tcp.flags.push": pa.bool_(),
    "tcp.flags.ack": pa.bool_(),
    "tcp.flags.urg": pa.bool_(),
    "tcp.flags.ece": pa.bool_(),
    "tcp.flags.cwr": pa.bool_(),
    "tcp.flags.ae": pa.bool_(),
    "tcp.window_size_value": _u16,
    "tcp.checksum": _u16,
    "tcp.checksum.status": _u8,
    "tcp.urgent_pointer": _u16,
    "tcp.len": _u32,
    "tcp.option_kind": pa.list_(_u8),
    "tcp.option_len": pa.list_(_u8),
    "tcp.options.mss_val": _u16,
    "tcp.options.wscale.shift": _u8,
    "tcp.options.wscale.multiplier": _u32,
    "tcp.options.sack_perm": pa.bool_(),
    "tcp.options.sack_le": pa.list_(_u32),
    "tcp.options.sack_re": pa.list_(_u32),
    "tcp.options.timestamp.tsval": _u32,
    "tcp.options.timestamp.tsecr": _u32,
    "tcp.options.tfo.cookie": _str,
    "tcp.options.mptcp.subtype": pa.list_(_u8),
    "udp.srcport": _u16,
    "udp.dstport": _u16,
    "udp.length": _u16,
    "udp.checksum": _u16,
    "udp.checksum.status": _u8,
    "malformed": pa.bool_(),
    "problems": pa.list_(_str),
}

ANALYSIS_FLAGS = tuple(str(flag.name).lower() for flag in Analysis)

# The columns flow tracking adds (``read_table(..., flows=True)``), as tshark names them.
FLOW_COLUMNS: dict[str, pa.DataType] = {
    "tcp.stream": _u32,
    "udp.stream": _u32,
    "tcp.seq": _u32,
    "tcp.ack": _u32,
    "tcp.window_size": _u32,
    "tcp.window_size_scalefactor": pa.int32(),
    "tcp.analysis.flags": pa.bool_(),
    **{f"tcp.analysis.{flag}": pa.bool_() for flag in ANALYSIS_FLAGS},
    "tcp.analysis.duplicate_ack_num": _u32,
    "tcp.analysis.duplicate_ack_frame": _u64,
    "tcp.analysis.bytes_in_flight": _u32,
    "tcp.analysis.push_bytes_sent": _u32,
    "tcp.analysis.acks_frame": _u64,
    "tcp.analysis.ack_rtt": pa.float64(),
    "tcp.analysis.initial_rtt": pa.float64(),
    "tcp.analysis.rto": pa.float64(),
    "tcp.analysis.rto_frame": _u64,
    "tcp.time_relative": pa.float64(),
    "tcp.time_delta": pa.float64(),
    "tcp.completeness": _u8,
}

# Short names for interactive use: ``read_table(path, short_names=True)``.
ALIASES = {
    "frame.number": "no",
    "frame.time": "time",
    "frame.len": "length",
    "ip.src": "src",
    "ip.dst": "dst",
    "ipv6.src": "src6",
    "ipv6.dst": "dst6",
    "ip.ttl": "ttl",
    "tcp.srcport": "sport",
    "tcp.dstport": "dport",
    "tcp.seq_raw": "seq",
    "tcp.ack_raw": "ack",
    "tcp.hdr_len": "hdr_len",
    "tcp.flags.str": "flags",
    "tcp.window_size_value": "win",
    "tcp.len": "len",
    "tcp.option_kind": "options",
    "tcp.options.mss_val": "mss",
    "tcp.options.wscale.shift": "wscale",
    "tcp.options.sack_perm": "sack_perm",
    "tcp.options.sack_le": "sack_le",
    "tcp.options.sack_re": "sack_re",
    "tcp.options.timestamp.tsval": "tsval",
    "tcp.options.timestamp.tsecr": "tsecr",
    "udp.srcport": "usport",
    "udp.dstport": "udport",
    "udp.length": "ulen",
    "tcp.stream": "stream",
    "tcp.seq": "rseq",
    "tcp.ack": "rack",
    "tcp.window_size": "window",
    "tcp.window_size_scalefactor": "scale",
}

# tshark's names of the flag bits, as boolean columns
FLAG_COLUMNS = {
    "tcp.flags.fin": t.FIN,
    "tcp.flags.syn": t.SYN,
    "tcp.flags.reset": t.RST,
    "tcp.flags.push": t.PSH,
    "tcp.flags.ack": t.ACK,
    "tcp.flags.urg": t.URG,
    "tcp.flags.ece": t.ECE,
    "tcp.flags.cwr": t.CWR,
    "tcp.flags.ae": t.AE,
}

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
    out["malformed"] = pkt.malformed
    if "tcp.options.tfo.cookie" in out:
        out["tcp.options.tfo.cookie"] = str(out["tcp.options.tfo.cookie"])
    return out


def schema(fields: Sequence[str] | None = None) -> pa.Schema:
    names = list(COLUMNS) if fields is None else list(fields)
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise KeyError(f"unknown columns {unknown}; see headerkit.tables.fields.COLUMNS")
    return pa.schema([pa.field(n, COLUMNS[n]) for n in names])
