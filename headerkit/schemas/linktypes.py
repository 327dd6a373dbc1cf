"""Link-layer header types (LINKTYPE_* from the tcpdump.org registry)."""

from __future__ import annotations

from enum import IntEnum


class LinkType(IntEnum):
    NULL = 0
    ETHERNET = 1
    PPP = 9
    PPP_HDLC = 50
    DLT_RAW = 12  # DLT_RAW as some systems wrote it into pcap files
    DLT_RAW_OPENBSD = 14
    RAW = 101
    C_HDLC = 104
    LOOP = 108
    LINUX_SLL = 113
    JUNIPER_ETHER = 178
    IPNET = 226
    NFLOG = 239
    IPV4 = 228
    IPV6 = 229
    PKTAP = 258
    LINUX_SLL2 = 276


# The link type proper is the low 16 bits of the pcap header's field; the bits above carry
# the FCS length and reserved flags.
LINKTYPE_MASK = 0xFFFF
# Not LINKTYPE_ values: what a record's link type says when it has none to say.
NO_INTERFACE = -2  # a pcapng packet naming an interface its section does not describe
_NAMES = {NO_INTERFACE: "no interface (unknown link type)"}
RAW_IP = frozenset({LinkType.RAW, LinkType.DLT_RAW, LinkType.DLT_RAW_OPENBSD, LinkType.IPV4})


def linktype_name(value: int) -> str:
    """The registry name of a link type, or ``LINKTYPE_<n>`` for one headerkit does not know."""
    try:
        return LinkType(value).name
    except ValueError:
        return _NAMES.get(value, f"LINKTYPE_{value}")
