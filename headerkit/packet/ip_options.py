"""IP options and extension headers the transport layer depends on: those that change which
addresses its checksum covers, and the jumbo payload length (RFC 2675)."""

from __future__ import annotations

from headerkit.packet.layers import IPv6Extension
from headerkit.schemas import ipv6 as ipv6_schema

# IPv4 option types (IANA "IP Option Numbers") with a route whose last hop is the destination
LOOSE_SOURCE_ROUTE = 131
STRICT_SOURCE_ROUTE = 137
IPV4_EOL = 0
IPV4_NOP = 1

# IPv6 routing types (IANA): type 0 (deprecated) lists addresses; type 2 carries a home
# address; type 4 is the segment routing header, whose segment list starts with the last.
ROUTING_TYPE_0 = 0
ROUTING_TYPE_2 = 2
ROUTING_SRH = 4
HOME_ADDRESS_OPTION = 0xC9
JUMBO_PAYLOAD_OPTION = 0xC2


def source_route_destination(options: bytes) -> bytes | None:
    """The final destination named by a loose or strict source route option, if any."""
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == IPV4_EOL:
            return None
        if kind == IPV4_NOP:
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2:
            return None
        length = options[i + 1]
        if kind in (LOOSE_SOURCE_ROUTE, STRICT_SOURCE_ROUTE) and length >= 7:
            route = options[i + 3 : i + length]
            if len(route) >= 4:
                return route[len(route) - len(route) % 4 - 4 : len(route) - len(route) % 4]
        i += length
    return None


def routing_final_destination(ext: IPv6Extension) -> bytes | None:
    """The final destination a routing header names (``data`` starts at the routing type)."""
    if ext.header != ipv6_schema.ROUTING or len(ext.data) < 6:
        return None
    routing_type, segments_left = ext.data[0], ext.data[1]
    addresses = ext.data[6:]
    if segments_left == 0 or len(addresses) < 16:
        return None
    if routing_type in (ROUTING_TYPE_0, ROUTING_TYPE_2):
        last = len(addresses) // 16 * 16
        return addresses[last - 16 : last]
    if routing_type == ROUTING_SRH:
        return addresses[:16]
    return None


def home_address(ext: IPv6Extension) -> bytes | None:
    """The Home Address option's address in a destination options header, if any."""
    if ext.header != ipv6_schema.DESTINATION_OPTIONS:
        return None
    return _option(ext.data, HOME_ADDRESS_OPTION, 16)


def jumbo_payload_length(ext: IPv6Extension) -> int | None:
    """A hop-by-hop header's Jumbo Payload length (RFC 2675): the packet's length past the
    IPv6 header, when its payload length field says 0."""
    if ext.header != ipv6_schema.HOP_BY_HOP:
        return None
    value = _option(ext.data, JUMBO_PAYLOAD_OPTION, 4)
    return int.from_bytes(value, "big") if value is not None else None


def _option(data: bytes, kind: int, length: int) -> bytes | None:
    """The value of the first ``kind`` option of ``length`` bytes in an IPv6 options header."""
    i = 0
    while i + 1 < len(data):
        if data[i] == 0:  # Pad1
            i += 1
            continue
        if data[i] == kind and data[i + 1] == length and i + 2 + length <= len(data):
            return data[i + 2 : i + 2 + length]
        i += 2 + data[i + 1]
    return None


def tlv_overrun(data: bytes) -> int | None:
    """Where an IPv6 option in a hop-by-hop or destination options header runs past it.

    ``data`` is the header after its next-header and length bytes; the result is the
    option's offset in ``data``, or None when every option fits.
    """
    i = 0
    while i < len(data):
        if data[i] == 0:  # Pad1
            i += 1
            continue
        if i + 1 >= len(data) or i + 2 + data[i + 1] > len(data):
            return i
        i += 2 + data[i + 1]
    return None
