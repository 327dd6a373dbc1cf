"""headerkit: decode, craft and simulate TCP and UDP at the level of their headers."""

from __future__ import annotations

from typing import Any

from headerkit.captures.decoded import decode_capture
from headerkit.errors import (
    BoundsError,
    CaptureFileError,
    DecodeError,
    FramingError,
    HeaderkitError,
    InvalidFieldError,
    OptionError,
    TruncatedError,
)
from headerkit.interop import craft
from headerkit.interop.bridge import from_scapy, to_scapy
from headerkit.packet.build import build
from headerkit.packet.decode import Packet, decode
from headerkit.packet.layers import (
    TCP,
    UDP,
    Encapsulation,
    Ethernet,
    IPv4,
    IPv6,
    IPv6Extension,
    LinuxSLL,
    LinuxSLL2,
    Mpls,
    Null,
    TcpOption,
    UnknownLink,
    Vlan,
)
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.linktypes import LinkType
from headerkit.tables.tshark import tshark_fields

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``read_table`` and ``dask`` are imported on first use: they bring pyarrow (and dask),
    which decoding does not need."""
    if name == "read_table":
        from headerkit.tables.table import read_table

        return read_table
    if name == "dask":
        from headerkit.tables import dask

        return dask
    raise AttributeError(f"module 'headerkit' has no attribute {name!r}")


__all__ = [
    "TCP",
    "UDP",
    "BoundsError",
    "CaptureFileError",
    "ChecksumStatus",
    "DecodeError",
    "Encapsulation",
    "Ethernet",
    "FramingError",
    "HeaderkitError",
    "IPv4",
    "IPv6",
    "IPv6Extension",
    "InvalidFieldError",
    "LinkType",
    "LinuxSLL",
    "LinuxSLL2",
    "Mpls",
    "Null",
    "OptionError",
    "Packet",
    "TcpOption",
    "TruncatedError",
    "UnknownLink",
    "Vlan",
    "build",
    "craft",
    "decode",
    "decode_capture",
    "from_scapy",
    "read_table",
    "to_scapy",
    "tshark_fields",
]
