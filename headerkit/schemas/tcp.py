"""The TCP header (RFC 9293) and its options.

The header is 20 bytes plus up to 40 bytes of options, its length given in 32-bit words by
the data offset.  ``flags`` holds the 12 bits after the data offset, as tshark's
``tcp.flags`` does: three reserved bits, AE (formerly NS), CWR, ECE, URG, ACK, PSH, RST,
SYN, FIN.
"""

from __future__ import annotations

import construct as cs

from headerkit.schemas.common import SizedBytes
from headerkit.schemas.layout import FixedLayout

FIN = 0x001
SYN = 0x002
RST = 0x004
PSH = 0x008
ACK = 0x010
URG = 0x020
ECE = 0x040
CWR = 0x080
AE = 0x100  # accurate ECN; was NS (RFC 3540, historic)
RESERVED = 0xE00

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

# Option kinds (IANA "TCP Option Kind Numbers")
EOL = 0
NOP = 1
MSS = 2
WINDOW_SCALE = 3
SACK_PERMITTED = 4
SACK = 5
TIMESTAMPS = 8
MD5_SIGNATURE = 19
USER_TIMEOUT = 28
TCP_AO = 29
MPTCP = 30
FAST_OPEN = 34
EXPERIMENTAL = 254  # RFC 6994: a 16-bit experiment id follows
FAST_OPEN_EXID = 0xF989

OPTION_NAMES = {
    EOL: "EOL",
    NOP: "NOP",
    MSS: "MSS",
    WINDOW_SCALE: "WS",
    SACK_PERMITTED: "SACK_PERM",
    SACK: "SACK",
    TIMESTAMPS: "TS",
    MD5_SIGNATURE: "MD5",
    USER_TIMEOUT: "UTO",
    TCP_AO: "AO",
    MPTCP: "MPTCP",
    FAST_OPEN: "TFO",
    EXPERIMENTAL: "EXP",
}

# Length every option of a fixed size must have (kind -> total length, kind and length bytes
# included).
FIXED_OPTION_LENGTH = {
    MSS: 4,
    WINDOW_SCALE: 3,
    SACK_PERMITTED: 2,
    TIMESTAMPS: 10,
    MD5_SIGNATURE: 18,
    USER_TIMEOUT: 4,
}
MAX_WINDOW_SHIFT = 14  # RFC 7323 section 2.3

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

SACK_BLOCK = cs.Struct("left" / cs.Int32ub, "right" / cs.Int32ub)

# The value of each option kind, after its kind and length bytes.
OPTION_VALUE = cs.Switch(
    cs.this.kind,
    {
        MSS: cs.Int16ub,
        WINDOW_SCALE: cs.Int8ub,
        SACK_PERMITTED: cs.Pass,
        SACK: cs.GreedyRange(SACK_BLOCK),
        TIMESTAMPS: cs.Struct("tsval" / cs.Int32ub, "tsecr" / cs.Int32ub),
        MD5_SIGNATURE: cs.Bytes(16),
        USER_TIMEOUT: cs.BitStruct("granularity" / cs.Flag, "timeout" / cs.BitsInteger(15)),
        TCP_AO: cs.Struct("keyid" / cs.Int8ub, "rnextkeyid" / cs.Int8ub, "mac" / cs.GreedyBytes),
        MPTCP: cs.Struct(
            "subtype_bits"
            / cs.BitStruct("subtype" / cs.BitsInteger(4), "bits" / cs.BitsInteger(4)),
            "data" / cs.GreedyBytes,
        ),
        FAST_OPEN: cs.GreedyBytes,
        EXPERIMENTAL: cs.Struct("exid" / cs.Int16ub, "data" / cs.GreedyBytes),
    },
    default=cs.GreedyBytes,
)


def _value_length(ctx: cs.Container) -> int:
    return 2 + len(OPTION_VALUE.build(ctx.value, kind=ctx.kind))


# One option: EOL and NOP are a single byte; every other kind is kind, length, value.
TCP_OPTION = cs.Struct(
    "kind" / cs.Int8ub,
    "length" / cs.If(cs.this.kind > NOP, cs.Default(cs.Int8ub, _value_length)),
    "value" / cs.If(cs.this.kind > NOP, cs.FixedSized(cs.this.length - 2, OPTION_VALUE)),
)

# Any option as bytes, for values its kind's schema cannot hold (a length the kind forbids).
TCP_OPTION_RAW = cs.Struct(
    "kind" / cs.Int8ub,
    "length" / cs.Default(cs.Int8ub, lambda ctx: 2 + len(ctx.data)),
    "data" / cs.GreedyBytes,
)

# The option space of a header: options up to and including EOL; what follows EOL is padding.
TCP_OPTIONS = cs.RepeatUntil(lambda opt, lst, ctx: opt.kind == EOL, TCP_OPTION)

TCP_LAYOUT = FixedLayout(TCP_HEADER)
