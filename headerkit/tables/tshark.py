"""A decoded packet as a flat dict keyed by tshark's field names (see the field registry).

Multi-valued fields (``tcp.option_kind``, ``vlan.id``, SACK edges) are lists in wire order.
Numbers follow tshark's units: ``ip.hdr_len`` and ``tcp.hdr_len`` in bytes, ``ip.flags`` the
three flag bits, ``ip.frag_offset`` in 8-byte units, ``tcp.flags`` the 12 bits after the
data offset, checksum status as :class:`~headerkit.schemas.checksum.ChecksumStatus` numbers it
(tshark's: 0 bad, 1 good, 2 unverified, 3 not present, 4 illegal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headerkit.packet.decode import Packet
from headerkit.packet.layers import TCP
from headerkit.packet.options import tshark_option_walk
from headerkit.schemas.tcp_options import OPTION_KINDS
from headerkit.tables.registry import FIELDS, Field


def _putter(fields: list[Field]) -> Callable[[Any, dict[str, Any]], None]:
    """``put(layer, out)``: each of ``fields`` that the layer has, into ``out`` (generated
    code, each attribute read inline: this runs for every layer of every packet)."""
    namespace: dict[str, Any] = {}
    lines = ["def put(layer, out):"]
    for i, field in enumerate(fields):
        if field.get is not None:
            namespace[f"_get{i}"] = field.get
            lines.append(f"    value = _get{i}(layer)")
        else:
            assert field.attr is not None and field.attr.isidentifier()
            lines.append(f"    value = layer.{field.attr}")
        store = ".setdefault({!r}, []).append(value)" if field.repeated else "[{!r}] = value"
        lines.append("    if value is not None:")
        lines.append("        out" + store.format(field.name))
    exec("\n".join(lines) + "\n", namespace)
    put: Callable[[Any, dict[str, Any]], None] = namespace["put"]
    return put


# how to put each layer's fields, and the layers whose first occurrence alone counts
# (``tshark -T fields -E occurrence=f``); IPv4 and IPv6 count as one, the outermost IP header
_PUT = {
    name: _putter([field for field in FIELDS if name in field.layers])
    for name in {name for field in FIELDS for name in field.layers}
}
_FIRST_ONLY = {"ip": "ip", "ipv6": "ip", "tcp": "tcp", "udp": "udp"}


def tshark_fields(pkt: Packet) -> dict[str, Any]:
    """The packet's header fields under tshark's names; absent fields are left out.  Where a
    header occurs more than once (tunnels), its first occurrence."""
    problems = pkt.problems  # first: all the deferred work at once, every field is read
    out: dict[str, Any] = {}
    if pkt.number is not None:
        out["frame.number"] = pkt.number
    out["frame.len"] = pkt.wirelen
    out["frame.cap_len"] = len(pkt.data)
    seen: set[str] = set()
    for layer in pkt.layers:
        name = layer.name
        first = _FIRST_ONLY.get(name)
        if first is not None:
            if first in seen:
                continue
            seen.add(first)
        put = _PUT.get(name)
        if put is not None:
            put(layer, out)
        if isinstance(layer, TCP):
            _options(layer, out)
    if any(p.malformed for p in problems):
        out["malformed"] = out["l234.malformed"] = True
    if problems:
        out["problems"] = [str(p) for p in problems]
    return out


def _options(seg: TCP, out: dict[str, Any]) -> None:
    """The option walk's fields: kinds and lengths as tshark lists them, and each option's
    values (its kind's row says which)."""
    walked = tshark_option_walk(seg.options, seg.padding)
    if walked:
        out["tcp.option_kind"] = [o.kind for o in walked]
        lengths = [o.length for o in walked if o.length is not None]
        if lengths:
            out["tcp.option_len"] = lengths
    for opt in seg.options:
        row = OPTION_KINDS.get(opt.kind)
        if row is not None and row.accepts(opt.value):
            row.fields(opt.value, out)
