"""Decoded layers: plain typed values, one class per header.

Every layer holds the header's fields as the wire has them (raw window, absolute sequence
numbers).  ``fields()`` gives them as a dict a person can read; ``repr`` shows the same.
Fields a truncated header did not reach are ``None``.
"""

from __future__ import annotations

import dataclasses
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from headerkit.schemas import tcp as tcp_schema
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.tcp_options import OPTION_KINDS


def mac(raw: bytes) -> str:
    """``aa:bb:cc:dd:ee:ff`` from six bytes."""
    return raw.hex(":")


class Deferred(Protocol):
    """Work the decoder left undone until a field that needs it is first read: an option
    walk, a checksum.  The decoder leaves those fields unset and the layer's ``_fill`` set."""

    def fill(self, layer: Any, name: str) -> None:
        """Set ``name`` (and what the same work gives) on ``layer``."""


class Layer:
    """Common behaviour of decoded layers."""

    __slots__ = ()
    name: ClassVar[str] = ""

    if not TYPE_CHECKING:  # typed attribute access stays checked

        def __getattr__(self, name: str) -> Any:
            # reached only for a slot left unset: a field whose work was deferred
            try:
                deferred = object.__getattribute__(self, "_fill")
            except AttributeError:
                deferred = None
            if deferred is None or name.startswith("__"):
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            deferred.fill(self, name)
            return object.__getattribute__(self, name)

    def fields(self) -> dict[str, Any]:
        """The header fields, in wire order, with readable values."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.init
        }

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={_show(v)}" for k, v in self.fields().items() if v is not None)
        return f"{type(self).__name__}({inner})"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return value.hex() if value else "b''"
    if isinstance(value, ChecksumStatus):
        return value.name
    return repr(value)


@dataclass(slots=True, repr=False)
class Ethernet(Layer):
    name: ClassVar[str] = "eth"
    dst: str | None = None
    src: str | None = None
    type: int | None = None


@dataclass(slots=True, repr=False)
class Vlan(Layer):
    """An 802.1Q (TPID 0x8100) or 802.1ad (0x88a8) tag."""

    name: ClassVar[str] = "vlan"
    tpid: int = 0
    pcp: int | None = None
    dei: bool | None = None
    vid: int | None = None
    type: int | None = None


@dataclass(slots=True, repr=False)
class Mpls(Layer):
    """One MPLS label stack entry (RFC 3032)."""

    name: ClassVar[str] = "mpls"
    label: int = 0
    traffic_class: int = 0
    bottom_of_stack: bool = False
    ttl: int = 0


@dataclass(slots=True, repr=False)
class LinuxSLL(Layer):
    name: ClassVar[str] = "sll"
    packet_type: int | None = None
    arphrd_type: int | None = None
    addr_len: int | None = None
    addr: bytes | None = None
    protocol: int | None = None


@dataclass(slots=True, repr=False)
class LinuxSLL2(Layer):
    name: ClassVar[str] = "sll"
    protocol: int | None = None
    reserved: int | None = None
    ifindex: int | None = None
    arphrd_type: int | None = None
    packet_type: int | None = None
    addr_len: int | None = None
    addr: bytes | None = None


@dataclass(slots=True, repr=False)
class Null(Layer):
    """BSD null/loopback: the address family in the capturing host's byte order."""

    name: ClassVar[str] = "null"
    family: int | None = None
    byteorder: str = "little"


@dataclass(slots=True, repr=False)
class Encapsulation(Layer):
    """A header headerkit steps over to reach IP: PPP, PPPoE, LLC/SNAP, NFLOG, PKTAP, Juniper.

    ``protocol`` is the number it gives for what follows (EtherType, PPP protocol, family).
    """

    name: ClassVar[str] = "encap"
    kind: str = ""
    length: int = 0
    protocol: int | None = None


@dataclass(slots=True, repr=False)
class Tunnel(Layer):
    """A tunnel header stepped over to reach the packet inside: GRE, VXLAN, Geneve, GTP-U.

    ``key`` is what tells tunnels apart (GRE key, VXLAN or Geneve VNI, GTP-U TEID),
    ``sequence`` GRE's sequence number, ``protocol`` the EtherType of what follows.
    """

    name: ClassVar[str] = "tunnel"
    kind: str = ""
    length: int = 0
    protocol: int | None = None
    key: int | None = None
    sequence: int | None = None


@dataclass(slots=True, repr=False)
class UnknownLink(Layer):
    """A link layer headerkit does not decode, kept as bytes with its link type named."""

    name: ClassVar[str] = "link"
    linktype: int = 0
    linktype_name: str = ""
    data: bytes = b""


@dataclass(slots=True, repr=False)
class IPv4(Layer):
    name: ClassVar[str] = "ip"
    version: int | None = None
    ihl: int | None = None
    tos: int | None = None
    total_length: int | None = None
    identification: int | None = None
    flags: int | None = None
    frag_offset: int | None = None
    ttl: int | None = None
    protocol: int | None = None
    checksum: int | None = None
    src: str | None = None
    dst: str | None = None
    options: bytes = b""
    checksum_status: ChecksumStatus = ChecksumStatus.UNVERIFIED
    tso_length: int | None = None  # total length 0 (TSO): the length the frame gives
    _fill: Deferred | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def header_length(self) -> int | None:
        """IHL in bytes."""
        return None if self.ihl is None else self.ihl * 4

    @property
    def is_fragment(self) -> bool:
        return bool((self.flags or 0) & 1 or self.frag_offset)


@dataclass(slots=True, repr=False)
class IPv6Extension(Layer):
    """One extension header; ``header`` is its own protocol number (0, 43, 44, 51, 60, ...)."""

    name: ClassVar[str] = "ipv6.ext"
    header: int = 0
    next_header: int = 0
    length: int = 0
    data: bytes = b""
    frag_offset: int | None = None
    more_fragments: bool | None = None
    identification: int | None = None


@dataclass(slots=True, repr=False)
class IPv6(Layer):
    name: ClassVar[str] = "ipv6"
    version: int | None = None
    traffic_class: int | None = None
    flow_label: int | None = None
    payload_length: int | None = None
    next_header: int | None = None
    hop_limit: int | None = None
    src: str | None = None
    dst: str | None = None
    extensions: list[IPv6Extension] = field(default_factory=list)

    @property
    def is_fragment(self) -> bool:
        return any(e.header == 44 and (e.frag_offset or e.more_fragments) for e in self.extensions)


@dataclass(slots=True, repr=False)
class TcpOption(Layer):
    """One TCP option: its kind, its length byte (None for EOL and NOP) and its value.

    Values by kind: MSS, WS -> int; SACK_PERM -> None; SACK -> tuple of (left, right) edges;
    TS -> (tsval, tsecr); UTO -> (granularity, timeout); AO -> (keyid, rnextkeyid, mac);
    MPTCP -> (subtype, the low four bits after it, the rest); TFO and MD5 -> bytes;
    EXP -> (exid, data); any other kind -> bytes.
    """

    name: ClassVar[str] = "tcp.option"
    kind: int = 0
    length: int | None = None
    value: Any = None

    @property
    def label(self) -> str:
        row = OPTION_KINDS.get(self.kind)
        return row.name if row is not None else f"kind{self.kind}"

    def __repr__(self) -> str:
        if self.length is None:
            return self.label
        return f"{self.label}={_show(self.value)}" if self.value is not None else self.label


@dataclass(slots=True, repr=False)
class TCP(Layer):
    name: ClassVar[str] = "tcp"
    srcport: int | None = None
    dstport: int | None = None
    seq: int | None = None
    ack: int | None = None
    data_offset: int | None = None
    flags: int | None = None
    window: int | None = None
    checksum: int | None = None
    urgent_pointer: int | None = None
    options: list[TcpOption] = field(default_factory=list)
    padding: bytes = b""
    checksum_status: ChecksumStatus = ChecksumStatus.UNVERIFIED
    payload_length: int | None = None
    _fill: Deferred | None = field(default=None, init=False, repr=False, compare=False)

    # ``padding`` holds the option space's bytes that are not options: what follows EOL, or
    # everything from an option the walk could not read.

    @property
    def header_length(self) -> int | None:
        """Data offset in bytes."""
        return None if self.data_offset is None else self.data_offset * 4

    def has(self, flag: int) -> bool:
        return bool((self.flags or 0) & flag)

    @property
    def flag_names(self) -> list[str]:
        """Set flags in tshark's order, e.g. ``["SYN", "ACK"]``."""
        return [n for bit, n in tcp_schema.FLAG_NAMES if (self.flags or 0) & bit]

    def option(self, kind: int) -> TcpOption | None:
        """The first option of ``kind``, if present."""
        return next((o for o in self.options if o.kind == kind), None)


@dataclass(slots=True, repr=False)
class UDP(Layer):
    name: ClassVar[str] = "udp"
    srcport: int | None = None
    dstport: int | None = None
    length: int | None = None
    checksum: int | None = None
    checksum_status: ChecksumStatus = ChecksumStatus.UNVERIFIED
    payload_length: int | None = None
    _fill: Deferred | None = field(default=None, init=False, repr=False, compare=False)


def ntop(raw: bytes) -> str:
    """Text form of a 4- or 16-byte address."""
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)
