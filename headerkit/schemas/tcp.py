"""The TCP header (RFC 9293) and its options.

The header is 20 bytes plus up to 40 bytes of options, its length given in 32-bit words by
the data offset.  ``flags`` holds the 12 bits after the data offset, as tshark's
``tcp.flags`` does: three reserved bits, AE (formerly NS), CWR, ECE, URG, ACK, PSH, RST,
SYN, FIN.
"""

from __future__ import annotations

from typing import Final

import construct as cs

from headerkit.schemas.common import SizedBytes
from headerkit.schemas.layout import FixedLayout

FIN: Final = 0x001
SYN: Final = 0x002
RST: Final = 0x004
PSH: Final = 0x008
ACK: Final = 0x010
URG: Final = 0x020
ECE: Final = 0x040
CWR: Final = 0x080
AE: Final = 0x100  # accurate ECN; was NS (RFC 3540, historic)
RESERVED: Final = 0xE00

# From the least significant bit up, the order tshark lists them in ("[SYN, ACK]").
FLAG_NAMES: tuple[tuple[int, str], ...] = (
    (FIN, "FIN"),
    (SYN, "SYN"),
    (RST, "RST"),
    (PSH, "PSH"),
    (ACK, "ACK"),
    (URG, "URG"),
    (ECE, "ECE"),
    (CWR, "CWR"),
    (AE, "AE"),
)

# tcpdump's and packetdrill's one-letter names ("S.", "P.", "F."); ACK is ".".
FLAG_LETTERS: tuple[tuple[int, str], ...] = (
    (SYN, "S"),
    (FIN, "F"),
    (RST, "R"),
    (PSH, "P"),
    (URG, "U"),
    (ECE, "E"),
    (CWR, "W"),
    (ACK, "."),
)

# Option kinds (IANA "TCP Option Kind Numbers"); what each means: ``tcp_options.OPTION_KINDS``
EOL: Final = 0
NOP: Final = 1
MSS: Final = 2
WINDOW_SCALE: Final = 3
SACK_PERMITTED: Final = 4
SACK: Final = 5
TIMESTAMPS: Final = 8
MD5_SIGNATURE: Final = 19
USER_TIMEOUT: Final = 28
TCP_AO: Final = 29
MPTCP: Final = 30
FAST_OPEN: Final = 34
EXPERIMENTAL: Final = 254  # RFC 6994: a 16-bit experiment id follows
FAST_OPEN_EXID: Final = 0xF989

MAX_WINDOW_SHIFT: Final = 14  # RFC 7323 section 2.3

TCP_HEADER = cs.Struct(
    "srcport" / cs.Int16ub,
    "dstport" / cs.Int16ub,
    "seq" / cs.Default(cs.Int32ub, 0),
    "ack" / cs.Default(cs.Int32ub, 0),
    "offset_flags"
    / cs.BitStruct(
        "data_offset"
        / cs.Default(cs.BitsInteger(4), lambda ctx: 5 + len(ctx._.options or b"") // 4),
        "flags" / cs.Default(cs.BitsInteger(12), 0),
    ),
    "window" / cs.Default(cs.Int16ub, 65535),
    "checksum" / cs.Default(cs.Int16ub, 0),
    "urgent_pointer" / cs.Default(cs.Int16ub, 0),
    "options" / SizedBytes(lambda ctx: ctx.offset_flags.data_offset * 4 - 20),
)

TCP_LAYOUT = FixedLayout(TCP_HEADER)
