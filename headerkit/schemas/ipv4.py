"""The IPv4 header (RFC 791): 20 bytes plus up to 40 bytes of options."""

from __future__ import annotations

import construct as cs

from headerkit.schemas.common import SizedBytes
from headerkit.schemas.layout import FixedLayout

# Flags (RFC 791, RFC 3514 for the reserved bit)
FLAG_RESERVED = 0b100
FLAG_DF = 0b010
FLAG_MF = 0b001

IPV4_HEADER = cs.Struct(
    "version_ihl"
    / cs.BitStruct(
        "version" / cs.Default(cs.BitsInteger(4), 4),
        "ihl" / cs.Default(cs.BitsInteger(4), lambda ctx: 5 + len(ctx._.options or b"") // 4),
    ),
    "tos" / cs.Default(cs.Int8ub, 0),
    "total_length"
    / cs.Default(
        cs.Int16ub,
        lambda ctx: 20 + len(ctx.options or b"") + ctx._params.get("payload_length", 0),
    ),
    "identification" / cs.Default(cs.Int16ub, 0),
    "flags_fragment"
    / cs.BitStruct(
        "flags" / cs.Default(cs.BitsInteger(3), FLAG_DF),
        "frag_offset" / cs.Default(cs.BitsInteger(13), 0),
    ),
    "ttl" / cs.Default(cs.Int8ub, 64),
    "protocol" / cs.Int8ub,
    "checksum" / cs.Default(cs.Int16ub, 0),
    "src" / cs.Bytes(4),
    "dst" / cs.Bytes(4),
    "options" / SizedBytes(lambda ctx: ctx.version_ihl.ihl * 4 - 20),
)

IPV4_LAYOUT = FixedLayout(IPV4_HEADER)
