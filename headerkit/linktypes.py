"""Link-layer header types (LINKTYPE_* from the tcpdump.org registry)."""

from __future__ import annotations

from enum import IntEnum


class LinkType(IntEnum):
    NULL = 0
    ETHERNET = 1
    RAW = 101
    LOOP = 108
    LINUX_SLL = 113
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276


def linktype_name(value: int) -> str:
    """The registry name of a link type, or ``LINKTYPE_<n>`` for one headerkit does not know."""
    try:
        return LinkType(value).name
    except ValueError:
        return f"LINKTYPE_{value}"
