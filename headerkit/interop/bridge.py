"""scapy <-> headerkit, through the packet's bytes so that nothing is lost on the way.

scapy packets become bytes with ``bytes(pkt)`` (its own build, checksums included) and come
back from bytes with the layer class of their link type, so options scapy has no name for
(MPTCP, unknown kinds, bytes after EOL) go through both ways unchanged.
"""

from __future__ import annotations

from typing import Any

from headerkit.captures.live import linktype_of
from headerkit.interop.craft import Crafted
from headerkit.packet.decode import Packet, decode
from headerkit.schemas.linktypes import RAW_IP, LinkType

__all__ = ["from_scapy", "to_scapy"]

_NS_PER_S = 1_000_000_000


def from_scapy(pkt: Any, *, linktype: int | None = None, strict: bool = False) -> Packet:
    """Decode a scapy packet with headerkit.

    The link type follows the outermost layer unless given; the capture time and wire length
    scapy read from a file (``pkt.time``, ``pkt.wirelen``) are kept.
    """
    data = bytes(pkt)
    wirelen = getattr(pkt, "wirelen", None)
    decoded = decode(
        data,
        linktype_of(pkt) if linktype is None else linktype,
        wirelen=wirelen if isinstance(wirelen, int) else None,
        strict=strict,
    )
    if getattr(pkt, "time", None) is not None:
        decoded.timestamp_ns = round(float(pkt.time) * _NS_PER_S)
    return decoded


def to_scapy(decoded: Packet | Crafted) -> Any:
    """A scapy packet dissected from the same bytes; ``bytes()`` of it gives them back."""
    from scapy.config import conf
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    from scapy.packet import Raw

    data = decoded.data
    if decoded.linktype in RAW_IP or decoded.linktype == LinkType.IPV6:
        cls: Any = IPv6 if data[:1] and data[0] >> 4 == 6 else IP
    else:
        cls = conf.l2types.num2layer.get(decoded.linktype, Raw)
    pkt = cls(data)
    if isinstance(decoded, Packet):
        if decoded.timestamp_ns is not None:
            pkt.time = decoded.timestamp_ns / _NS_PER_S
        pkt.wirelen = decoded.wirelen
    return pkt
