"""The field registry: one row per output field, and everything else derived from it.

A row gives tshark's field name, where the value comes from (a layer's attribute or a
function of the layer, an option kind's row in :mod:`headerkit.schemas.tcp_options`, the
frame, flow analysis, or the table itself), its Arrow type, a short alias, whether JSONL
and CSV records carry it, and a one-line meaning.  The table's columns, aliases and flag
columns (:mod:`headerkit.tables.fields`), the JSONL/CSV keys, :func:`tshark_fields`, the
columnar decoder's name maps and the ``-V`` labels are derived from :data:`FIELDS`.

This module imports no pyarrow: Arrow types are named here and made in ``fields``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from headerkit.flows.flags import ANALYSIS_FIELDS, Analysis
from headerkit.schemas import tcp as t
from headerkit.schemas.link import ETHERTYPE_VLAN, MAX_802_3_LENGTH

# where a value comes from: a header layer, the option walk (its kinds and lengths, and each
# option's row in ``schemas/tcp_options``), the frame, flow analysis, or
# the table (a column computed from others); "packet": the decoder's verdict on the frame
Source = Literal["header", "option", "frame", "flow", "table", "packet"]


@dataclass(frozen=True)
class Field:
    """One output field."""

    name: str  # tshark's field name
    arrow: str  # its Arrow type: u8 ... u64, i32, f64, bool, str, cat, ts, list<...>
    meaning: str
    alias: str | None = None  # the short name, ``read_table(short_names=True)``
    source: Source = "header"
    layers: tuple[str, ...] = ()  # the layers (``Layer.name``) it is read from ...
    attr: str | None = None  # ... as that layer's attribute (its ``-V`` line),
    get: Callable[[Any], Any] | None = None  # ... or as a function of the layer (None: absent)
    repeated: bool = False  # a list: a value from each occurrence of the layer
    export: bool = True  # in JSONL and CSV records
    table: bool = True  # a column of the table
    flag: int | None = None  # a TCP flag's bit: the column is that bit of ``tcp.flags``


def _status(layer: Any) -> int | None:
    return None if layer.checksum is None else int(layer.checksum_status)


def _header(name: str, arrow: str, layer: str, attr: str, meaning: str, **kw: Any) -> Field:
    return Field(name, arrow, meaning, layers=tuple(layer.split()), attr=attr, **kw)


def _flow(name: str, arrow: str, meaning: str, alias: str | None = None) -> Field:
    return Field(name, arrow, meaning, alias, source="flow")


def _option(name: str, arrow: str, meaning: str, **kw: Any) -> Field:
    return Field(name, arrow, meaning, source="option", **kw)


_FLAG_MEANINGS = {
    t.FIN: "no more data from the sender",
    t.SYN: "synchronize sequence numbers (opens a connection)",
    t.RST: "reset the connection",
    t.PSH: "push: deliver the data to the application now",
    t.ACK: "the acknowledgment number is significant",
    t.URG: "the urgent pointer is significant",
    t.ECE: "ECN echo",
    t.CWR: "congestion window reduced",
    t.AE: "accurate ECN (formerly NS, the ECN nonce sum)",
}
_FLAG_FIELDS = {
    t.FIN: "fin",
    t.SYN: "syn",
    t.RST: "reset",
    t.PSH: "push",
    t.ACK: "ack",
    t.URG: "urg",
    t.ECE: "ece",
    t.CWR: "cwr",
    t.AE: "ae",
}
_ANALYSIS_MEANINGS = {
    Analysis.RETRANSMISSION: "data sent again (fast and spurious ones included)",
    Analysis.FAST_RETRANSMISSION: "a retransmission after duplicate ACKs",
    Analysis.SPURIOUS_RETRANSMISSION: "a retransmission of data already acknowledged",
    Analysis.OUT_OF_ORDER: "data that arrived before data sent earlier",
    Analysis.LOST_SEGMENT: "a gap: the capture missed data before this segment",
    Analysis.ACK_LOST_SEGMENT: "an ACK for data the capture never saw",
    Analysis.DUPLICATE_ACK: "the same ACK again, with nothing new",
    Analysis.ZERO_WINDOW: "the sender advertises no room at all",
    Analysis.ZERO_WINDOW_PROBE: "one byte sent into a zero window to probe it",
    Analysis.ZERO_WINDOW_PROBE_ACK: "the answer to a zero-window probe",
    Analysis.WINDOW_FULL: "this segment fills the peer's advertised window",
    Analysis.WINDOW_UPDATE: "only the window changed: room opened up",
    Analysis.KEEP_ALIVE: "a keep-alive: one byte below the next sequence number",
    Analysis.KEEP_ALIVE_ACK: "the answer to a keep-alive",
    Analysis.REUSED_PORTS: "a new SYN on the ports of an earlier connection",
}

FIELDS: tuple[Field, ...] = (
    Field("frame.number", "u64", "the frame's number, from 1, in file order", "no", "frame"),
    Field(
        "frame.time",
        "ts",
        "the capture time",
        "time",
        "frame",
        export=False,  # records carry the exact ``frame.time_epoch``
    ),
    Field("frame.time_epoch", "f64", "the capture time, seconds since 1970", source="frame"),
    Field("frame.len", "u32", "the frame's length on the wire", "length", "frame"),
    Field("frame.cap_len", "u32", "the bytes of it the capture holds", source="frame"),
    Field("frame.linktype", "cat", "the link type", source="frame", export=False),
    Field(
        "eth.type",
        "u16",
        "the EtherType: what the frame carries (Ethernet II only)",
        layers=("eth",),
        get=lambda e: e.type if e.type is not None and e.type > MAX_802_3_LENGTH else None,
    ),
    Field(
        "vlan.id",
        "list<u16>",
        "802.1Q VLAN ids, outermost first",
        layers=("vlan",),
        get=lambda v: v.vid if v.tpid == ETHERTYPE_VLAN else None,
        repeated=True,
    ),
    Field(
        "ieee8021ad.id",
        "list<u16>",
        "802.1ad (QinQ) service VLAN ids",
        layers=("vlan",),
        get=lambda v: v.vid if v.tpid != ETHERTYPE_VLAN else None,
        repeated=True,
    ),
    _header("sll.etype", "u16", "sll", "protocol", "Linux cooked capture's protocol"),
    _header("null.family", "u32", "null", "family", "BSD loopback's address family"),
    _header("ip.version", "u8", "ip ipv6", "version", "IP version (4 or 6) of the outer header"),
    _header("ip.hdr_len", "u8", "ip", "header_length", "IPv4 header length in bytes"),
    Field(
        "ip.len",
        "u32",
        "IPv4 total length (from the frame when the header says 0: TSO)",
        layers=("ip",),
        attr="total_length",
        get=lambda ip: ip.tso_length or ip.total_length,
    ),
    _header("ip.id", "u16", "ip", "identification", "IPv4 identification"),
    _header("ip.flags", "u8", "ip", "flags", "IPv4 flags: reserved, DF, MF"),
    _header("ip.frag_offset", "u16", "ip", "frag_offset", "fragment offset, 8-byte units"),
    _header("ip.ttl", "u8", "ip", "ttl", "time to live", alias="ttl"),
    _header("ip.proto", "u8", "ip", "protocol", "the protocol carried (6 TCP, 17 UDP)"),
    _header("ip.checksum", "u16", "ip", "checksum", "IPv4 header checksum"),
    Field(
        "ip.checksum.status",
        "u8",
        "0 bad, 1 good, 2 unverified",
        layers=("ip",),
        get=_status,
    ),
    _header("ip.src", "str", "ip", "src", "IPv4 source address", alias="src"),
    _header("ip.dst", "str", "ip", "dst", "IPv4 destination address", alias="dst"),
    _header("ipv6.plen", "u16", "ipv6", "payload_length", "IPv6 payload length"),
    _header("ipv6.nxt", "u8", "ipv6", "next_header", "IPv6 next header"),
    _header("ipv6.hlim", "u8", "ipv6", "hop_limit", "IPv6 hop limit"),
    _header("ipv6.src", "str", "ipv6", "src", "IPv6 source address", alias="src6"),
    _header("ipv6.dst", "str", "ipv6", "dst", "IPv6 destination address", alias="dst6"),
    _header("tcp.srcport", "u16", "tcp", "srcport", "TCP source port", alias="sport"),
    _header("tcp.dstport", "u16", "tcp", "dstport", "TCP destination port", alias="dport"),
    _flow("tcp.stream", "u32", "the TCP conversation's index, as tshark numbers them", "stream"),
    _flow("tcp.seq", "u32", "sequence number relative to the sender's ISN", "rseq"),
    _header("tcp.seq_raw", "u32", "tcp", "seq", "sequence number as on the wire", alias="seq"),
    _flow("tcp.ack", "u32", "acknowledgment number relative to the peer's ISN", "rack"),
    _header("tcp.ack_raw", "u32", "tcp", "ack", "acknowledgment number as sent", alias="ack"),
    _header(
        "tcp.hdr_len", "u8", "tcp", "header_length", "TCP header length in bytes", alias="hdr_len"
    ),
    _header("tcp.flags", "u16", "tcp", "flags", "the 12 flag bits after the data offset"),
    Field(
        "tcp.flags.str",
        "cat",
        "the flags set, by name",
        "flags",
        "table",
        export=False,
    ),
    *(
        Field(
            f"tcp.flags.{_FLAG_FIELDS[bit]}",
            "bool",
            _FLAG_MEANINGS[bit],
            source="table",
            export=False,
            flag=bit,
        )
        for bit, _ in t.FLAG_NAMES
    ),
    _header(
        "tcp.window_size_value", "u16", "tcp", "window", "window as sent (unscaled)", alias="win"
    ),
    _flow("tcp.window_size", "u32", "window scaled by the shift the handshake agreed", "window"),
    _flow("tcp.window_size_scalefactor", "i32", "the window's multiplier (-1 unknown)", "scale"),
    _header("tcp.checksum", "u16", "tcp", "checksum", "TCP checksum"),
    Field("tcp.checksum.status", "u8", "0 bad, 1 good, 2 unverified", layers=("tcp",), get=_status),
    _header("tcp.urgent_pointer", "u16", "tcp", "urgent_pointer", "urgent pointer"),
    _header("tcp.len", "u32", "tcp", "payload_length", "TCP payload bytes", alias="len"),
    _option(
        "tcp.option_kind",
        "list<u8>",
        "option kinds in wire order (past EOL too, as tshark lists them)",
        alias="options",
    ),
    _option("tcp.option_len", "list<u8>", "their length bytes"),
    _option("tcp.options.mss_val", "u16", "maximum segment size (MSS option)", alias="mss"),
    _option("tcp.options.wscale.shift", "u8", "window scale shift (WS option)", alias="wscale"),
    _option("tcp.options.wscale.multiplier", "u32", "2 ** shift"),
    _option("tcp.options.sack_perm", "bool", "SACK permitted", alias="sack_perm"),
    _option("tcp.options.sack_le", "list<u32>", "SACK blocks' left edges", alias="sack_le"),
    _option("tcp.options.sack_re", "list<u32>", "SACK blocks' right edges", alias="sack_re"),
    _option("tcp.options.timestamp.tsval", "u32", "timestamp value (TS option)", alias="tsval"),
    _option("tcp.options.timestamp.tsecr", "u32", "timestamp echo reply", alias="tsecr"),
    _option("tcp.options.tfo.cookie", "str", "TCP Fast Open cookie, hex"),
    _option("tcp.options.mptcp.subtype", "list<u8>", "MPTCP option subtypes"),
    _header("udp.srcport", "u16", "udp", "srcport", "UDP source port", alias="usport"),
    _header("udp.dstport", "u16", "udp", "dstport", "UDP destination port", alias="udport"),
    _header("udp.length", "u16", "udp", "length", "UDP length, header included", alias="ulen"),
    _header("udp.checksum", "u16", "udp", "checksum", "UDP checksum (0: none sent)"),
    Field(
        "udp.checksum.status",
        "u8",
        "0 bad, 1 good, 2 unverified, 3 not present, 4 illegal",
        layers=("udp",),
        get=_status,
    ),
    _flow("udp.stream", "u32", "the UDP conversation's index"),
    _flow("tcp.analysis.flags", "bool", "some analysis flag is set"),
    *(
        _flow(name, "bool", _ANALYSIS_MEANINGS[flag])
        for name, flag in zip(ANALYSIS_FIELDS, (f for f in Analysis if f.name), strict=True)
    ),
    _flow("tcp.analysis.duplicate_ack_num", "u32", "which duplicate of the ACK this is"),
    _flow("tcp.analysis.duplicate_ack_frame", "u64", "the frame this ACK duplicates"),
    _flow("tcp.analysis.bytes_in_flight", "u32", "bytes sent and not yet acknowledged"),
    _flow("tcp.analysis.push_bytes_sent", "u32", "bytes sent since the last PSH"),
    _flow("tcp.analysis.acks_frame", "u64", "the frame whose data this ACK acknowledges"),
    _flow("tcp.analysis.ack_rtt", "f64", "seconds from that frame to this ACK"),
    _flow("tcp.analysis.initial_rtt", "f64", "seconds from SYN to the handshake's ACK"),
    _flow("tcp.analysis.rto", "f64", "seconds since the segment this one retransmits"),
    _flow("tcp.analysis.rto_frame", "u64", "the frame this one retransmits"),
    _flow("tcp.time_relative", "f64", "seconds since the conversation's first frame"),
    _flow("tcp.time_delta", "f64", "seconds since the conversation's previous frame"),
    _flow("tcp.completeness", "u8", "which parts of a connection were seen (bit mask)"),
    Field("malformed", "bool", "a header runs past its reported length", source="packet"),
    Field(
        "l234.malformed",
        "bool",
        "tshark's name for the same, in records",
        source="packet",
        table=False,
    ),
    Field("problems", "list<str>", "what is wrong with the frame, each in a line", source="packet"),
)

BY_NAME = {f.name: f for f in FIELDS}
EXPORTED = tuple(f.name for f in FIELDS if f.export)  # the JSONL and CSV keys, in order


def header_fields(layer: str) -> Iterator[Field]:
    """The fields read from the layer named ``layer``, in registry order."""
    return (f for f in FIELDS if layer in f.layers)


def label(layer: str, attr: str) -> str | None:
    """The tshark name of a layer's attribute, for the ``-V`` tree."""
    return _LABELS.get((layer, attr))


_LABELS = {(layer, f.attr): f.name for f in FIELDS if f.attr for layer in f.layers}
