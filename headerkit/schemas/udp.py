"""The UDP header (RFC 768): source port, destination port, length, checksum."""

from __future__ import annotations

import construct as cs

from headerkit.schemas.layout import FixedLayout

UDP_HEADER = cs.Struct(
    "srcport" / cs.Int16ub,
    "dstport" / cs.Int16ub,
    "length" / cs.Default(cs.Int16ub, lambda ctx: 8 + ctx._params.get("payload_length", 0)),
    "checksum" / cs.Default(cs.Int16ub, 0),
)

UDP_LAYOUT = FixedLayout(UDP_HEADER)
