"""IP options and extension headers that change which addresses a transport checksum covers."""

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
    data = ext.data
    i = 0
    while i + 1 < len(data):
        kind = data[i]
        if kind == 0:  # Pad1
            i += 1
            continue
        length = data[i + 1]
        if kind == HOME_ADDRESS_OPTION and length == 16 and i + 18 <= len(data):
            return data[i + 2 : i + 18]
        i += 2 + length
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
