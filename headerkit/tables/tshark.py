"""A decoded packet as a flat dict keyed by tshark's field names.

Multi-valued fields (``tcp.option_kind``, ``vlan.id``, SACK edges) are lists in wire order.
Numbers follow tshark's units: ``ip.hdr_len`` and ``tcp.hdr_len`` in bytes, ``ip.flags`` the
three flag bits, ``ip.frag_offset`` in 8-byte units, ``tcp.flags`` the 12 bits after the
data offset, checksum status as :class:`~headerkit.schemas.checksum.ChecksumStatus` numbers it
(tshark's: 0 bad, 1 good, 2 unverified, 3 not present, 4 illegal).
"""

from __future__ import annotations

from typing import Any

from headerkit.packet.decode import Packet
from headerkit.packet.layers import (
    TCP,
    UDP,
    Ethernet,
    IPv4,
    IPv6,
    LinuxSLL,
    LinuxSLL2,
    Null,
    Vlan,
)
from headerkit.packet.options import tshark_option_walk
from headerkit.schemas import tcp as t
from headerkit.schemas.link import ETHERTYPE_VLAN, MAX_802_3_LENGTH


def tshark_fields(pkt: Packet) -> dict[str, Any]:
    """The packet's header fields under tshark's names; absent fields are left out.  Where a
    header occurs more than once (tunnels), its first occurrence, as ``tshark -T fields -E
    occurrence=f`` gives it."""
    out: dict[str, Any] = {}
    if pkt.number is not None:
        out["frame.number"] = pkt.number
    out["frame.len"] = pkt.wirelen
    out["frame.cap_len"] = len(pkt.data)
    seen_ip = False
    for layer in pkt.layers:
        if isinstance(layer, Ethernet):
            if layer.type is not None and layer.type > MAX_802_3_LENGTH:
                out["eth.type"] = layer.type
        elif isinstance(layer, Vlan):
            key = "vlan.id" if layer.tpid == ETHERTYPE_VLAN else "ieee8021ad.id"
            if layer.vid is not None:
                out.setdefault(key, []).append(layer.vid)
        elif isinstance(layer, LinuxSLL | LinuxSLL2):
            _put(out, "sll.etype", layer.protocol)
        elif isinstance(layer, Null):
            _put(out, "null.family", layer.family)
        elif isinstance(layer, IPv4 | IPv6) and not seen_ip:
            seen_ip = True
            _ip(out, layer)
        elif isinstance(layer, TCP) and "tcp.srcport" not in out:
            _tcp(out, layer)  # inside a tunnel's UDP (VXLAN), after that UDP's fields
        elif isinstance(layer, UDP) and "udp.srcport" not in out:
            _udp(out, layer)
    if pkt.malformed:
        out["malformed"] = out["l234.malformed"] = True
    if pkt.problems:
        out["problems"] = [str(p) for p in pkt.problems]
    return out


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _ip(out: dict[str, Any], ip: IPv4 | IPv6) -> None:
    _put(out, "ip.version", ip.version)
    if isinstance(ip, IPv6):
        for key, value in (
            ("ipv6.plen", ip.payload_length),
            ("ipv6.nxt", ip.next_header),
            ("ipv6.hlim", ip.hop_limit),
            ("ipv6.src", ip.src),
            ("ipv6.dst", ip.dst),
        ):
            _put(out, key, value)
        return
    for key, value in (
        ("ip.hdr_len", ip.header_length),
        ("ip.len", ip.tso_length or ip.total_length),  # tshark shows the length it used
        ("ip.id", ip.identification),
        ("ip.flags", ip.flags),
        ("ip.frag_offset", ip.frag_offset),
        ("ip.ttl", ip.ttl),
        ("ip.proto", ip.protocol),
        ("ip.checksum", ip.checksum),
        ("ip.src", ip.src),
        ("ip.dst", ip.dst),
    ):
        _put(out, key, value)
    if ip.checksum is not None:
        out["ip.checksum.status"] = int(ip.checksum_status)


def _tcp(out: dict[str, Any], seg: TCP) -> None:
    for key, value in (
        ("tcp.srcport", seg.srcport),
        ("tcp.dstport", seg.dstport),
        ("tcp.seq_raw", seg.seq),
        ("tcp.ack_raw", seg.ack),
        ("tcp.hdr_len", seg.header_length),
        ("tcp.flags", seg.flags),
        ("tcp.window_size_value", seg.window),
        ("tcp.checksum", seg.checksum),
        ("tcp.urgent_pointer", seg.urgent_pointer),
        ("tcp.len", seg.payload_length),
    ):
        _put(out, key, value)
    if seg.checksum is not None:
        out["tcp.checksum.status"] = int(seg.checksum_status)
    options = tshark_option_walk(seg.options, seg.padding)
    if not options:
        return
    out["tcp.option_kind"] = [o.kind for o in options]
    lengths = [o.length for o in options if o.length is not None]
    if lengths:
        out["tcp.option_len"] = lengths
    for opt in seg.options:
        _option(out, opt.kind, opt.value)


def _option(out: dict[str, Any], kind: int, value: Any) -> None:
    if kind == t.MSS and isinstance(value, int):
        out["tcp.options.mss_val"] = value
    elif kind == t.WINDOW_SCALE and isinstance(value, int):
        out["tcp.options.wscale.shift"] = value
        out["tcp.options.wscale.multiplier"] = 1 << min(value, t.MAX_WINDOW_SHIFT)
    elif kind == t.SACK_PERMITTED:
        out["tcp.options.sack_perm"] = True
    elif kind == t.SACK and isinstance(value, tuple):
        out.setdefault("tcp.options.sack_le", []).extend(le for le, _ in value)
        out.setdefault("tcp.options.sack_re", []).extend(re for _, re in value)
    elif kind == t.TIMESTAMPS and isinstance(value, tuple):
        out["tcp.options.timestamp.tsval"], out["tcp.options.timestamp.tsecr"] = value
    elif kind == t.FAST_OPEN and isinstance(value, bytes) and value:
        out["tcp.options.tfo.cookie"] = value.hex()
    elif kind == t.EXPERIMENTAL and isinstance(value, tuple) and value[0] == t.FAST_OPEN_EXID:
        if value[1]:
            out["tcp.options.tfo.cookie"] = value[1].hex()
    elif kind == t.MPTCP and isinstance(value, tuple) and len(value) == 3:
        out.setdefault("tcp.options.mptcp.subtype", []).append(value[0])


def _udp(out: dict[str, Any], dgram: UDP) -> None:
    for key, value in (
        ("udp.srcport", dgram.srcport),
        ("udp.dstport", dgram.dstport),
        ("udp.length", dgram.length),
        ("udp.checksum", dgram.checksum),
    ):
        _put(out, key, value)
    if dgram.checksum is not None:
        out["udp.checksum.status"] = int(dgram.checksum_status)
