"""The IPv6 header (RFC 8200) and its extension headers."""

from __future__ import annotations

import construct as cs

from headerkit.schemas.common import SizedBytes
from headerkit.schemas.layout import FixedLayout

# Next Header values of the extension headers headerkit walks (IANA registry)
HOP_BY_HOP = 0
ROUTING = 43
FRAGMENT = 44
ESP = 50
AH = 51
NO_NEXT_HEADER = 59
DESTINATION_OPTIONS = 60
MOBILITY = 135
HIP = 139
SHIM6 = 140
EXTENSION_HEADERS = frozenset(
    {HOP_BY_HOP, ROUTING, FRAGMENT, AH, DESTINATION_OPTIONS, MOBILITY, HIP, SHIM6}
)

IPV6_HEADER = cs.Struct(
    "version_class_label"
    / cs.BitStruct(
        "version" / cs.Default(cs.BitsInteger(4), 6),
        "traffic_class" / cs.Default(cs.BitsInteger(8), 0),
        "flow_label" / cs.Default(cs.BitsInteger(20), 0),
    ),
    "payload_length" / cs.Default(cs.Int16ub, lambda ctx: ctx._params.get("payload_length", 0)),
    "next_header" / cs.Int8ub,
    "hop_limit" / cs.Default(cs.Int8ub, 64),
    "src" / cs.Bytes(16),
    "dst" / cs.Bytes(16),
)

# Hop-by-hop, routing, destination options, mobility, HIP, shim6: length in 8-octet
# units, not counting the first 8 octets.
GENERIC_EXTENSION = cs.Struct(
    "next_header" / cs.Int8ub,
    "hdr_ext_len" / cs.Default(cs.Int8ub, lambda ctx: (len(ctx.data) + 2) // 8 - 1),
    "data" / SizedBytes(lambda ctx: ctx.hdr_ext_len * 8 + 6),
)

FRAGMENT_HEADER = cs.Struct(
    "next_header" / cs.Int8ub,
    "reserved" / cs.Default(cs.Int8ub, 0),
    "offset_flags"
    / cs.BitStruct(
        "frag_offset" / cs.BitsInteger(13),
        "res" / cs.Default(cs.BitsInteger(2), 0),
        "more_fragments" / cs.Flag,
    ),
    "identification" / cs.Int32ub,
)

# The Authentication Header counts its length in 4-octet units, minus 2 (RFC 4302).
AUTHENTICATION_HEADER = cs.Struct(
    "next_header" / cs.Int8ub,
    "payload_len" / cs.Default(cs.Int8ub, lambda ctx: (len(ctx.data) + 2) // 4 - 2),
    "data" / SizedBytes(lambda ctx: (ctx.payload_len + 2) * 4 - 2),
)

IPV6_LAYOUT = FixedLayout(IPV6_HEADER)
GENERIC_EXTENSION_LAYOUT = FixedLayout(GENERIC_EXTENSION)
FRAGMENT_LAYOUT = FixedLayout(FRAGMENT_HEADER)
AUTHENTICATION_LAYOUT = FixedLayout(AUTHENTICATION_HEADER)
