"""What a display filter may name, and how each kind of field reads a value.

Every table column (:data:`COLUMNS`, :data:`FLOW_COLUMNS`) is a field; besides them, tshark's
either-direction fields (``ip.addr`` is ``ip.src`` or ``ip.dst``), the protocols as
presence tests (``tcp``, ``udp``, ``ip``, ``ipv6``) and the bytes of the frame and of the
transport payload (``frame``, ``tcp.payload``, ``udp.payload``, ``data``), for
``contains`` and ``matches``.
"""

from __future__ import annotations

import ipaddress
from enum import Enum
from typing import Any

import pyarrow as pa

from headerkit.tables.fields import COLUMNS, FLAG_COLUMNS, FLOW_COLUMNS

EITHER: dict[str, tuple[str, str]] = {
    "ip.addr": ("ip.src", "ip.dst"),
    "ipv6.addr": ("ipv6.src", "ipv6.dst"),
    "tcp.port": ("tcp.srcport", "tcp.dstport"),
    "udp.port": ("udp.srcport", "udp.dstport"),
}
PROTOCOLS: dict[str, str] = {
    "frame": "frame.number",
    "eth": "eth.type",
    "ip": "ip.ttl",  # ip.version is there for IPv6 too
    "ipv6": "ipv6.nxt",
    "tcp": "tcp.srcport",
    "udp": "udp.srcport",
}
"""A protocol's name tests for a field every packet with that header has."""

PAYLOADS = ("frame", "tcp.payload", "udp.payload", "data")
ADDRESSES = frozenset({"ip.src", "ip.dst", "ipv6.src", "ipv6.dst"})
UNFILTERABLE = frozenset({"frame.time"})  # tshark compares it with dates, headerkit does not


class Kind(Enum):
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ADDRESS = "address"
    TEXT = "text"
    BYTES = "bytes"


def _kind_of(name: str, arrow: pa.DataType) -> Kind:
    if name in ADDRESSES:
        return Kind.ADDRESS
    if pa.types.is_list(arrow):
        arrow = arrow.value_type
    if pa.types.is_boolean(arrow):
        return Kind.BOOLEAN
    if pa.types.is_integer(arrow):
        return Kind.INTEGER
    if pa.types.is_floating(arrow):
        return Kind.NUMBER
    return Kind.TEXT


KINDS: dict[str, Kind] = {
    **{
        name: _kind_of(name, arrow)
        for name, arrow in {**COLUMNS, **FLOW_COLUMNS}.items()
        if name not in UNFILTERABLE
    },
    **{name: Kind.ADDRESS if "addr" in name else Kind.INTEGER for name in EITHER},
    **dict.fromkeys(PAYLOADS, Kind.BYTES),
}
"""Every field a filter may compare, with its kind."""

FLOW_FIELDS = frozenset(FLOW_COLUMNS)
SET_OR_UNSET = frozenset(FLAG_COLUMNS)
"""Boolean fields present on every packet of their protocol, true or false (tshark's flag
bits); every other boolean field is present only when true (``tcp.analysis.*``)."""


def known(name: str) -> bool:
    return name in KINDS or name in PROTOCOLS


def value(kind: Kind, text: str, quoted: bool) -> Any:
    """A literal read as ``kind`` reads it; ValueError says why not."""
    if kind is Kind.BYTES:
        return text.encode() if quoted else _hex_bytes(text)
    if kind is Kind.TEXT:
        return text
    if quoted:
        raise ValueError(f"a {kind.value} field is not compared with a quoted string")
    if kind is Kind.ADDRESS:
        return ipaddress.ip_network(text, strict=False)
    if kind is Kind.BOOLEAN:
        truth = {"1": True, "0": False, "true": True, "false": False}.get(text.lower())
        if truth is None:
            raise ValueError(f"{text!r} is not 1, 0, true or false")
        return truth
    if kind is Kind.NUMBER:
        return float(text)
    return _integer(text)


def _integer(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        if text.isdigit():  # leading zeros: decimal, as tshark reads them
            return int(text, 10)
        raise ValueError(f"{text!r} is not a number") from None


def _hex_bytes(text: str) -> bytes:
    """``47:45:54``, ``47-45-54``, ``47.45.54`` or ``474554``."""
    digits = text.replace(":", "").replace("-", "").replace(".", "")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise ValueError(f"{text!r} is not bytes (write them as 47:45:54)") from None
