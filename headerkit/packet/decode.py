"""Bytes and a link type in, decoded layers out.

Decoding walks link -> network -> transport with the fast readers derived from the schemas.
Lenient (the default) records each problem and returns what it could decode; strict raises
the first :class:`~headerkit.errors.DecodeError`.  Two lengths bound every layer, as in
tshark: the *captured* end (what the file holds) and the *reported* end (what the frame's
wire length and then the IP length fields say).  A header past the captured end is short; a
header past the reported end is malformed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headerkit.errors import (
    BoundsError,
    DecodeError,
    InvalidFieldError,
    TruncatedError,
)
from headerkit.packet.ip_options import (
    home_address,
    jumbo_payload_length,
    routing_final_destination,
    source_route_destination,
    tlv_overrun,
)
from headerkit.packet.layers import (
    TCP,
    UDP,
    Encapsulation,
    Ethernet,
    IPv4,
    IPv6,
    IPv6Extension,
    Layer,
    LinuxSLL,
    LinuxSLL2,
    Mpls,
    Null,
    Tunnel,
    UnknownLink,
    Vlan,
    mac,
    ntop,
)
from headerkit.packet.options import ignore_problem, parse_options
from headerkit.schemas import ipproto, tunnels
from headerkit.schemas import ipv6 as ipv6_schema
from headerkit.schemas import link as link_schema
from headerkit.schemas.checksum import ChecksumStatus, internet_checksum, pseudo_header_sum
from headerkit.schemas.ipv4 import FLAG_MF, IPV4_LAYOUT
from headerkit.schemas.ipv6 import (
    AUTHENTICATION_LAYOUT,
    FRAGMENT_LAYOUT,
    GENERIC_EXTENSION_LAYOUT,
    IPV6_LAYOUT,
)
from headerkit.schemas.layout import FixedLayout
from headerkit.schemas.link import (
    CHDLC_LAYOUT,
    ETHERNET_LAYOUT,
    IPNET_LAYOUT,
    JUNIPER_HEADER_LAYOUT,
    LINUX_SLL2_LAYOUT,
    LINUX_SLL_LAYOUT,
    LLC_SNAP_LAYOUT,
    MPLS_LAYOUT,
    NFLOG_HEADER_LAYOUT,
    NFLOG_TLV_LAYOUT,
    NULL_BE_LAYOUT,
    NULL_LE_LAYOUT,
    PKTAP_HEADER_LAYOUT,
    PPP_LAYOUT,
    PPPOE_LAYOUT,
    VLAN_TAG_LAYOUT,
)
from headerkit.schemas.linktypes import LINKTYPE_MASK, RAW_IP, LinkType, linktype_name
from headerkit.schemas.tcp import TCP_LAYOUT
from headerkit.schemas.tunnels import GENEVE_LAYOUT, GRE_LAYOUT, GTPU_LAYOUT, VXLAN_LAYOUT
from headerkit.schemas.udp import UDP_LAYOUT

_PPP_ETHERTYPES = {
    link_schema.PPP_IPV4: link_schema.ETHERTYPE_IPV4,
    link_schema.PPP_IPV6: link_schema.ETHERTYPE_IPV6,
}

OFFLOAD = "checksum offload, filled in later by the NIC (never, on loopback)"

# Where fields sit in their headers, from the layouts (not written out here again)
_V4, _V6 = IPV4_LAYOUT.offsets, IPV6_LAYOUT.offsets
_TCP, _UDP = TCP_LAYOUT.offsets, UDP_LAYOUT.offsets
NON_FIRST_FRAGMENT = "non-first IPv{} fragment: carries no transport header"
MAX_NESTING = 16  # network layers one frame may nest (tunnels in tunnels): bounds the work

# tshark reads the TCP header's first 16 bytes before it shows anything past the ports.
_TCP_PARTIAL_MIN = {"seq": 16, "ack": 16, "data_offset": 16, "flags": 16, "window": 16}


@dataclass(frozen=True, slots=True)
class Fragment:
    """Where one IP fragment sits: which datagram (``key``), at which byte of it, whether
    more follow, and the frame's bytes of its header and of its fragment of the payload."""

    key: tuple[object, ...]
    offset: int  # in bytes
    more: bool
    header: tuple[int, int]  # the IP header (and IPv6's unfragmentable part) in the frame
    payload: tuple[int, int]  # this fragment's bytes in the frame
    next_header_at: int  # IPv4: -1; IPv6: the byte that names the fragment header


# What the decoder sets on first read, and the fields a copy or a comparison takes
_DECODED = frozenset(
    (
        "layers",
        "ip",
        "tcp",
        "udp",
        "fragment",
        "payload_offset",
        "payload_end",
        "_notes",
        "_pending",
    )
)
_FIELDS = (
    *("layers", "ip", "tcp", "udp", "fragment", "payload_offset", "payload_end"),
    *("number", "timestamp_ns", "datagram"),
)
_COMPARED = ("data", "linktype", "wirelen", "problems", "notes", *_FIELDS)
_LAYER, _PROBLEMS_AT, _NOTES_AT, _SPAN, _CHECK = range(5)


class Packet:
    """One frame: its bytes, and, decoded on first read, its layers (outermost first) and
    the problems found in them.

    Nothing is parsed until a layer, field or problem is read; an option walk or a checksum
    waits until the field that needs it is read (``problems`` and ``notes`` do all that is
    left, so that they are complete).
    """

    __slots__ = (
        "_decoded",
        "_notes",
        "_pending",
        "_problems",
        "_strict",
        "data",
        "datagram",
        "fragment",
        "ip",
        "layers",
        "linktype",
        "number",
        "payload_end",
        "payload_offset",
        "tcp",
        "timestamp_ns",
        "udp",
        "wirelen",
    )

    layers: list[Layer]
    ip: IPv4 | IPv6 | None  # the outermost IP header
    tcp: TCP | None
    udp: UDP | None
    fragment: Fragment | None  # an IP fragment's place in its datagram
    payload_offset: int | None
    payload_end: int | None
    _problems: list[DecodeError]
    _notes: list[str]
    _pending: list[list[Any]]  # deferred work, one entry per layer (see ``fill``)

    def __init__(
        self,
        data: bytes,
        linktype: int = LinkType.ETHERNET,
        wirelen: int = 0,
        *,
        number: int | None = None,
        timestamp_ns: int | None = None,
        problems: list[DecodeError] | None = None,
        strict: bool = False,
    ) -> None:
        self.data = data
        self.linktype = linktype
        self.wirelen = wirelen
        self.number = number
        self.timestamp_ns = timestamp_ns
        self.datagram: bytes | None = None  # the IP datagram this frame completed, if any
        self._problems = problems or []
        self._strict = strict
        self._decoded = False

    if not TYPE_CHECKING:  # typed attribute access stays checked

        def __getattr__(self, name: str) -> Any:
            # reached only for a slot not yet set: decode the frame, once
            if name not in _DECODED or self._decoded:
                raise AttributeError(f"'Packet' object has no attribute {name!r}")
            self._decoded = True
            if self._strict or not _common_frame(self):
                _Decoder(self, self._strict).run()
            return object.__getattribute__(self, name)

    @property
    def problems(self) -> list[DecodeError]:
        """Every problem found, in the order of the bytes they were found in."""
        self._finish()
        return self._problems

    @property
    def notes(self) -> list[str]:
        """What a reader should know that is not a problem (TSO, checksum offload, ...)."""
        self._finish()
        return self._notes

    def _finish(self) -> None:
        """Do the work left for the first read (option walks, checksums)."""
        for work in self._pending:
            self._complete(work)

    # The deferred work (see :class:`~headerkit.packet.layers.Deferred`): one entry per layer,
    # [layer, where its problems go, where its notes go, option span, checksum span]
    def _work(self, layer: Layer) -> list[Any]:
        for work in self._pending:
            if work[_LAYER] is layer:
                return work
        raise AttributeError(type(layer).__name__)  # no work was left for this layer

    def fill(self, layer: Any, name: str) -> None:
        """Set ``name`` on ``layer``, doing the work the decoder left for it."""
        work = self._work(layer)
        if name in ("options", "padding") and work[_SPAN] is not None:
            self._walk(work)
        elif name == "checksum_status" and work[_CHECK] is not None:
            self._verify(work)
        else:
            raise AttributeError(name)
        if work[_SPAN] is None and work[_CHECK] is None:
            layer._fill = None

    def _complete(self, work: list[Any]) -> None:
        """Do all the work left in one entry."""
        if work[_SPAN] is not None:
            self._walk(work)
        if work[_CHECK] is not None:
            self._verify(work)
        work[_LAYER]._fill = None

    def _walk(self, work: list[Any]) -> None:
        start, end = work[_SPAN]
        work[_SPAN] = None
        problems: list[DecodeError] = []
        seg = work[_LAYER]
        seg.options, seg.padding = parse_options(self.data, start, end, problems.append)
        self._found(work, problems, [])

    def _verify(self, work: list[Any]) -> None:
        check, layer = work[_CHECK], work[_LAYER]
        work[_CHECK] = None
        if isinstance(layer, IPv4):
            start, length = check
            whole = internet_checksum(memoryview(self.data)[start : start + length]) == 0
            layer.checksum_status = ChecksumStatus.GOOD if whole else ChecksumStatus.BAD
            return
        proto = ipproto.TCP if isinstance(layer, TCP) else ipproto.UDP
        layer.checksum_status, note = _transport_checksum(self.data, proto, *check)
        self._found(work, [], [note] if note else [])

    def _found(self, work: list[Any], problems: list[DecodeError], notes: list[str]) -> None:
        """Put what deferred work found where the decoder would have put it: before what
        was found after it."""
        if problems and self._strict:
            raise problems[0]
        if not problems and not notes:
            return
        self._problems[work[_PROBLEMS_AT] : work[_PROBLEMS_AT]] = problems
        self._notes[work[_NOTES_AT] : work[_NOTES_AT]] = notes
        for later in self._pending[self._pending.index(work) + 1 :]:
            later[_PROBLEMS_AT] += len(problems)
            later[_NOTES_AT] += len(notes)

    def replace(self, **changes: Any) -> Packet:
        """A copy with ``changes`` (layers, problems, notes, ...) made, as dataclasses'."""
        self._finish()
        out = Packet(self.data, self.linktype, self.wirelen, strict=self._strict)
        out._decoded = True
        for name in _FIELDS:
            setattr(out, name, changes.pop(name, getattr(self, name)))
        out._problems = changes.pop("problems", self._problems)
        out._notes = changes.pop("notes", self._notes)
        out._pending = []
        if changes:
            raise TypeError(f"Packet has no fields {sorted(changes)}")
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packet):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in _COMPARED)

    __hash__ = None  # type: ignore[assignment]

    @property
    def malformed(self) -> bool:
        """True when a header runs past its reported length (tshark's "Malformed Packet")."""
        return any(p.malformed for p in self.problems)

    @property
    def short(self) -> bool:
        """True when the capture's snap length cut a header."""
        return any(isinstance(p, TruncatedError) for p in self.problems)

    def layer(self, kind: type[Layer]) -> Any:
        """The first layer of class ``kind``, or None."""
        return next((x for x in self.layers if isinstance(x, kind)), None)

    @property
    def transport(self) -> TCP | UDP | None:
        """The innermost TCP header, else the innermost UDP one."""
        return self.tcp or self.udp

    def conversations(self) -> list[tuple[IPv4 | IPv6, TCP | UDP]]:
        """Each TCP or UDP header with the IP header it travelled in, outermost first (a
        VXLAN frame carries a UDP conversation and, inside it, a TCP one)."""
        found: list[tuple[IPv4 | IPv6, TCP | UDP]] = []
        ip: IPv4 | IPv6 | None = None
        for layer in self.layers:
            if isinstance(layer, IPv4 | IPv6):
                ip = layer
            elif isinstance(layer, TCP | UDP) and ip is not None:
                found.append((ip, layer))
        return found

    @property
    def transport_ip(self) -> IPv4 | IPv6 | None:
        """The IP header the transport header travelled in (inside a tunnel, the inner one)."""
        transport = self.transport
        return next((ip for ip, seg in self.conversations() if seg is transport), self.ip)

    @property
    def payload(self) -> bytes:
        """The captured bytes after the innermost decoded header (the TCP/UDP data); of the
        reassembled datagram, when this frame completed one."""
        if self.payload_offset is None:
            return b""
        source = self.datagram if self.datagram is not None else self.data
        return source[self.payload_offset : self.payload_end]

    def __repr__(self) -> str:
        head = " / ".join(repr(x) for x in self.layers) or "no layers"
        tail = f" problems={[str(p) for p in self.problems]}" if self.problems else ""
        return f"Packet({head}{tail})"


def decode(
    data: bytes | bytearray | memoryview,
    linktype: int = LinkType.ETHERNET,
    *,
    wirelen: int | None = None,
    strict: bool = False,
) -> Packet:
    """Decode one frame, on first read of its layers (strict: now, raising the first problem).

    ``wirelen`` is the frame's length on the wire (defaults to the captured length); it is
    the reported length that decides whether a cut header is short or malformed.
    """
    raw = bytes(data)
    pkt = Packet(raw, linktype, len(raw) if wirelen is None else wirelen, strict=strict)
    if strict:
        pkt._finish()
    return pkt


class _Decoder:
    """One pass over one frame; each ``_layer`` method returns the next protocol to decode."""

    __slots__ = ("buf", "cap_end", "declared_end", "depth", "pkt", "rep_end", "strict")

    def __init__(self, pkt: Packet, strict: bool) -> None:
        _start(pkt)
        self.pkt = pkt
        self.buf = pkt.data
        self.cap_end = len(pkt.data)
        self.rep_end = max(pkt.wirelen, self.cap_end)
        self.declared_end = 0  # where the IP length fields say the packet ends
        self.strict = strict
        self.depth = 0  # tunnels entered

    def problem(self, err: DecodeError) -> None:
        if self.strict:
            raise err
        self.pkt._problems.append(err)

    def run(self) -> None:
        off, ethertype = self.link()
        self.network(off, ethertype)

    def network(self, off: int, ethertype: int | None) -> None:
        """Decode what an EtherType names at ``off``: MPLS labels, then IPv4 or IPv6."""
        if ethertype is None:
            return
        self.depth += 1
        if self.depth > MAX_NESTING:
            reason = f"more than {MAX_NESTING} headers nested in tunnels"
            self.problem(InvalidFieldError("tunnel", "protocol", off, reason))
            return
        while ethertype in link_schema.ETHERTYPE_MPLS:
            off, ethertype = self.mpls(off)
        if ethertype == link_schema.ETHERTYPE_IPV4:
            self.ipv4(off)
        elif ethertype == link_schema.ETHERTYPE_IPV6:
            self.ipv6(off)
        elif ethertype == tunnels.ETHERTYPE_TRANSPARENT_ETHERNET:
            self.network(*self.ethernet(off))
        elif ethertype == tunnels.ETHERTYPE_PPP:
            self.network(*self.ppp(off))

    # ------------------------------------------------------------------ helpers
    def fixed(self, layout: FixedLayout, off: int, layer: str) -> dict[str, Any]:
        """The fixed fields at ``off``; on a short buffer the fields that fit, and a problem."""
        if off + layout.size <= self.cap_end:
            return dict(zip(layout.names, layout.unpack(self.buf, off), strict=True))
        partial = layout.unpack_partial(self.buf[: self.cap_end], off) if off < self.cap_end else {}
        self.cut(
            layer, layout.names[len(partial)] if partial else layout.names[0], off, layout.size
        )
        return partial

    def cut(self, layer: str, fieldname: str, off: int, need: int) -> None:
        """Report a header of ``need`` bytes at ``off`` that the data does not hold."""
        have = self.cap_end - off
        if off + need > self.rep_end:
            self.problem(
                BoundsError(layer, fieldname, off, f"header needs {need} bytes, frame has {have}")
            )
        else:
            self.problem(
                TruncatedError(layer, fieldname, off, f"header needs {need} bytes, captured {have}")
            )

    # ------------------------------------------------------------------ link layer
    def link(self) -> tuple[int, int | None]:
        linktype = self.pkt.linktype
        return self.link_at(linktype if linktype < 0 else linktype & LINKTYPE_MASK, 0)

    def link_at(self, lt: int, off: int) -> tuple[int, int | None]:
        """Decode the link header of type ``lt`` at ``off``: the IP offset and its EtherType."""
        if lt == LinkType.ETHERNET:
            return self.ethernet(off)
        if lt in RAW_IP:
            return off, self.ip_version(off)
        if lt == LinkType.IPV6:
            return off, link_schema.ETHERTYPE_IPV6
        if lt in (LinkType.LINUX_SLL, LinkType.LINUX_SLL2):
            sll = lt == LinkType.LINUX_SLL
            layout = LINUX_SLL_LAYOUT if sll else LINUX_SLL2_LAYOUT
            f = self.fixed(layout, off, "sll")
            self.pkt.layers.append(LinuxSLL(**f) if sll else LinuxSLL2(**f))
            return off + layout.size, f.get("protocol") if len(f) == len(layout.names) else None
        if lt in (LinkType.NULL, LinkType.LOOP):
            return self.null(lt)
        if lt in (LinkType.PPP, LinkType.PPP_HDLC):
            return self.ppp(off)
        if lt == LinkType.C_HDLC:
            return self.chdlc(off)
        if lt == LinkType.IPNET:
            return self.ipnet(off)
        if lt == LinkType.NFLOG:
            return self.nflog(off)
        if lt == LinkType.PKTAP and off == 0:
            return self.pktap()
        if lt == LinkType.JUNIPER_ETHER:
            return self.juniper(off)
        self.pkt.layers.append(UnknownLink(lt, linktype_name(lt), self.buf[off:]))
        return off, None

    def ip_version(self, off: int) -> int | None:
        """The EtherType that the version nibble at ``off`` names."""
        version = self.buf[off] >> 4 if off < self.cap_end else 0
        return {4: link_schema.ETHERTYPE_IPV4, 6: link_schema.ETHERTYPE_IPV6}.get(version)

    def encap(self, kind: str, length: int, protocol: int | None) -> None:
        self.pkt.layers.append(Encapsulation(kind, length, protocol))

    def ethernet(self, off: int) -> tuple[int, int | None]:
        if off + ETHERNET_LAYOUT.size <= self.cap_end:
            dst, src, ethertype = ETHERNET_LAYOUT.unpack(self.buf, off)
            self.pkt.layers.append(Ethernet(dst.hex(":"), src.hex(":"), ethertype))
        else:
            f = self.fixed(ETHERNET_LAYOUT, off, "eth")
            self.pkt.layers.append(Ethernet(**_macs(f)))
            return off, None
        off += ETHERNET_LAYOUT.size
        # Each tag takes four bytes, so the walk ends with the data.
        while ethertype in link_schema.VLAN_TPIDS:
            tag = self.fixed(VLAN_TAG_LAYOUT, off, "vlan")
            self.pkt.layers.append(Vlan(ethertype, **tag))
            if "type" not in tag:
                return off, None
            off += VLAN_TAG_LAYOUT.size
            ethertype = tag["type"]
        if ethertype <= link_schema.MAX_802_3_LENGTH:
            return self.llc(off)
        if ethertype == link_schema.ETHERTYPE_PPPOE_SESSION:
            f = self.fixed(PPPOE_LAYOUT, off, "pppoe")
            if len(f) < len(PPPOE_LAYOUT.names):
                return off, None
            self.encap("pppoe", PPPOE_LAYOUT.size, f["protocol"])
            # the PPPoE length (PPP protocol included) bounds what follows
            self.rep_end = min(self.rep_end, off + PPPOE_LAYOUT.size - 2 + f["length"])
            return off + PPPOE_LAYOUT.size, _PPP_ETHERTYPES.get(f["protocol"])
        return off, ethertype

    def llc(self, off: int) -> tuple[int, int | None]:
        """802.3 frames: follow an LLC/SNAP header to its EtherType."""
        if off + LLC_SNAP_LAYOUT.size > self.cap_end:
            return off, None
        f = dict(zip(LLC_SNAP_LAYOUT.names, LLC_SNAP_LAYOUT.unpack(self.buf, off), strict=True))
        if f["dsap"] != link_schema.SNAP_SAP or f["ssap"] != link_schema.SNAP_SAP:
            return off, None
        self.encap("llc", LLC_SNAP_LAYOUT.size, f["type"])
        return off + LLC_SNAP_LAYOUT.size, f["type"]

    def ppp(self, off: int) -> tuple[int, int | None]:
        if self.buf[off : off + 2] == link_schema.PPP_ADDRESS_CONTROL:
            off += 2
        f = self.fixed(PPP_LAYOUT, off, "ppp")
        if not f:
            return off, None
        self.encap("ppp", PPP_LAYOUT.size, f["protocol"])
        return off + PPP_LAYOUT.size, _PPP_ETHERTYPES.get(f["protocol"])

    def chdlc(self, off: int) -> tuple[int, int | None]:
        f = self.fixed(CHDLC_LAYOUT, off, "chdlc")
        if len(f) < len(CHDLC_LAYOUT.names):
            return off, None
        self.encap("chdlc", CHDLC_LAYOUT.size, f["protocol"])
        return off + CHDLC_LAYOUT.size, f["protocol"]

    def ipnet(self, off: int) -> tuple[int, int | None]:
        f = self.fixed(IPNET_LAYOUT, off, "ipnet")
        if len(f) < len(IPNET_LAYOUT.names):
            return off, None
        self.encap("ipnet", IPNET_LAYOUT.size, f["family"])
        return off + IPNET_LAYOUT.size, link_schema.IPNET_FAMILIES.get(f["family"])

    def nflog(self, off: int) -> tuple[int, int | None]:
        f = self.fixed(NFLOG_HEADER_LAYOUT, off, "nflog")
        if len(f) < len(NFLOG_HEADER_LAYOUT.names):
            return off, None
        ethertype = {2: link_schema.ETHERTYPE_IPV4, 10: link_schema.ETHERTYPE_IPV6}.get(f["family"])
        self.encap("nflog", NFLOG_HEADER_LAYOUT.size, f["family"])
        off += NFLOG_HEADER_LAYOUT.size
        # Each record is at least 4 bytes long, so the walk ends with the data.
        while off + NFLOG_TLV_LAYOUT.size <= self.cap_end:
            length, kind = NFLOG_TLV_LAYOUT.unpack(self.buf, off)
            if length < NFLOG_TLV_LAYOUT.size:
                self.problem(InvalidFieldError("nflog", "tlv_length", off, f"length {length} < 4"))
                return off, None
            if kind == link_schema.NFULA_PAYLOAD:
                self.rep_end = min(self.rep_end, off + length)
                return off + NFLOG_TLV_LAYOUT.size, ethertype
            off += (length + 3) & ~3
        return off, None

    def pktap(self) -> tuple[int, int | None]:
        f = self.fixed(PKTAP_HEADER_LAYOUT, 0, "pktap")
        if len(f) < len(PKTAP_HEADER_LAYOUT.names) or f["length"] < PKTAP_HEADER_LAYOUT.size:
            return 0, None
        self.encap("pktap", f["length"], f["dlt"])
        return self.link_at(f["dlt"], f["length"])

    def juniper(self, off: int) -> tuple[int, int | None]:
        f = self.fixed(JUNIPER_HEADER_LAYOUT, off, "juniper")
        if len(f) < 2 or f["magic"] != link_schema.JUNIPER_MAGIC:
            return off, None
        length = 4
        if f["flags"] & link_schema.JUNIPER_FLAG_EXT:
            length = 6 + f.get("ext_length", 0)
        self.encap("juniper", length, None)
        return self.ethernet(off + length)

    def null(self, lt: int) -> tuple[int, int | None]:
        if self.cap_end < 4:
            self.cut("null", "family", 0, 4)
            self.pkt.layers.append(Null())
            return 0, None
        if self.buf[0] in link_schema.CHDLC_ADDRESSES and self.buf[1] == 0:
            return self.chdlc(0)  # BSD/OS wrote Cisco HDLC under DLT_NULL, as tshark finds
        if lt == LinkType.LOOP:
            family, order = NULL_BE_LAYOUT.unpack(self.buf, 0)[0], "big"
        else:
            # The capturing host's byte order: a family never needs more than 16 bits.
            family, order = NULL_LE_LAYOUT.unpack(self.buf, 0)[0], "little"
            if family > 0xFFFF:
                family, order = NULL_BE_LAYOUT.unpack(self.buf, 0)[0], "big"
        self.pkt.layers.append(Null(family, order))
        if family == link_schema.AF_INET:
            return 4, link_schema.ETHERTYPE_IPV4
        if family in link_schema.AF_INET6:
            return 4, link_schema.ETHERTYPE_IPV6
        return 4, None

    def mpls(self, off: int) -> tuple[int, int | None]:
        """Walk an MPLS label stack to its bottom; the payload's version nibble names it."""
        while True:
            f = self.fixed(MPLS_LAYOUT, off, "mpls")
            if not f or len(f) < len(MPLS_LAYOUT.names):
                return off, None
            self.pkt.layers.append(Mpls(**f))
            off += MPLS_LAYOUT.size
            if f["bottom_of_stack"]:
                return off, self.ip_version(off)

    # ------------------------------------------------------------------ network layer
    def ipv4(self, off: int) -> None:
        if off < self.cap_end and self.buf[off] >> 4 == 6:
            if self.pkt.layers and not isinstance(self.pkt.layers[-1], IPv4 | IPv6):
                # an EtherType (not a raw-IP link) said IPv4: tshark calls it bogus, then
                # hands the version-6 header to IPv6 all the same
                self.pkt._notes.append("Bogus IPv4 version 6: decoded as IPv6, as tshark does")
            self.ipv6(off)
            return
        if off + IPV4_LAYOUT.size <= self.cap_end:
            ip = IPv4(*IPV4_LAYOUT.unpack(self.buf, off))
            ip.src = ntop(ip.src)  # type: ignore[arg-type]
            ip.dst = ntop(ip.dst)  # type: ignore[arg-type]
        else:
            ip = IPv4(**_addresses(self.fixed(IPV4_LAYOUT, off, "ip")))
        self.pkt.layers.append(ip)
        self.pkt.ip = self.pkt.ip or ip
        if ip.dst is None:
            return
        hlen = ip.ihl * 4  # type: ignore[operator]
        if hlen < 20:
            self.problem(
                InvalidFieldError("ip", "ihl", off, f"header length {hlen}, must be at least 20")
            )
            _keep(ip, IPV4_LAYOUT.names[:2])  # tshark shows no more of such a header
            return
        total: int = ip.total_length  # type: ignore[assignment]
        if total == 0:
            # A TSO super-packet: the length comes from the frame, as tshark takes it.
            total = ip.tso_length = self.rep_end - off
            self.pkt._notes.append("IPv4 total length 0: TSO, length taken from the frame")
        elif total < hlen:
            self.problem(
                InvalidFieldError(
                    "ip",
                    "total_length",
                    off + _V4["total_length"],
                    f"total length {total} < header length {hlen}",
                )
            )
            _keep(ip, IPV4_LAYOUT.names[:4])
            return
        # The reported end is the smaller of the IP length and the frame.
        ip_end = min(off + total, self.rep_end)
        self.declared_end = off + total
        if off + hlen > ip_end:
            self.problem(
                BoundsError("ip", "ihl", off, f"header length {hlen} runs past the packet")
            )
            return
        if off + hlen > self.cap_end:
            self.cut("ip", "options", off, hlen)
            ip.dst = None  # tshark reads the options before it shows the destination
            return
        ip.options = self.buf[off + IPV4_LAYOUT.size : off + hlen]
        _leave(self.pkt, ip, None, (off, hlen))
        dst = self.buf[off + _V4["dst"] : off + _V4["dst"] + 4]
        if ip.options:
            final = source_route_destination(ip.options)
            if final is not None:
                dst = final
                ip.dst = ntop(final)  # tshark shows the route's last hop as the destination
        more = bool(ip.flags and ip.flags & FLAG_MF)
        if more or ip.frag_offset:
            key = (4, ip.src, ip.dst, ip.identification, ip.protocol)
            place = ((off, hlen), (off + hlen, min(ip_end, self.cap_end)), -1)
            self.pkt.fragment = Fragment(key, (ip.frag_offset or 0) * 8, more, *place)
        if ip.frag_offset:
            self.pkt._notes.append(NON_FIRST_FRAGMENT.format(4))
            return
        self.transport(
            ip.protocol or 0,
            off + hlen,
            ip_end,
            self.buf[off + _V4["src"] : off + _V4["dst"]],
            dst,
            more,
        )

    def ipv6(self, off: int) -> None:
        if off < self.cap_end and self.buf[off] >> 4 != 6:
            version = self.buf[off] >> 4
            self.problem(InvalidFieldError("ipv6", "version", off, f"Bogus IPv6 version {version}"))
            return  # tshark decodes no further
        f = self.fixed(IPV6_LAYOUT, off, "ipv6")
        ip = IPv6(**_addresses(f))
        self.pkt.layers.append(ip)
        self.pkt.ip = self.pkt.ip or ip
        if ip.dst is None:
            return
        src = self.buf[off + _V6["src"] : off + _V6["dst"]]
        dst = self.buf[off + _V6["dst"] : off + IPV6_LAYOUT.size]
        header_start, nh_at = (
            off,
            off + _V6["next_header"],
        )  # nh_at: the byte naming the next header
        off += IPV6_LAYOUT.size
        plen: int = ip.payload_length  # type: ignore[assignment]
        start = off  # the payload, extension headers included
        ip_end = self.rep_end if plen == 0 else min(off + plen, self.rep_end)
        nh: int = ip.next_header  # type: ignore[assignment]
        fragment = False
        # Each extension header takes at least 8 bytes, so the chain ends with the data.
        while nh in ipv6_schema.EXTENSION_HEADERS:
            ext_start = off
            ext = self.extension(nh, off, ip_end)
            if ext is None:
                return
            ip.extensions.append(ext)
            jumbo = jumbo_payload_length(ext) if plen == 0 else None
            if jumbo is not None:  # RFC 2675: the length the payload length field cannot hold
                ip_end = min(start + jumbo, self.rep_end)
            off += ext.length
            nh = ext.next_header
            if ext.header == ipv6_schema.FRAGMENT:
                if ext.frag_offset or ext.more_fragments:
                    key = (6, ip.src, ip.dst, ext.identification)
                    header = (header_start, ext_start - header_start)
                    payload = (off, min(ip_end, self.cap_end))
                    offset = (ext.frag_offset or 0) * 8
                    more = bool(ext.more_fragments)
                    self.pkt.fragment = Fragment(key, offset, more, header, payload, nh_at)
                if ext.frag_offset:
                    self.pkt._notes.append(NON_FIRST_FRAGMENT.format(6))
                    return
                fragment = bool(ext.more_fragments)
            nh_at = ext_start  # an extension header's first byte names the next one
            # RFC 8200 section 8.1: the pseudo-header names the final destination, and a
            # Home Address option (RFC 6275) the home address as the source.
            dst = routing_final_destination(ext) or dst
            src = home_address(ext) or src
        self.transport(nh, off, ip_end, src, dst, fragment)

    def extension(self, header: int, off: int, end: int) -> IPv6Extension | None:
        name = "ipv6.ext"
        if header == ipv6_schema.FRAGMENT:
            f = self.fixed(FRAGMENT_LAYOUT, off, name)
            if not f or len(f) < len(FRAGMENT_LAYOUT.names):
                return None
            return IPv6Extension(
                header,
                f["next_header"],
                8,
                self.buf[off + 2 : off + 8],
                f["frag_offset"],
                f["more_fragments"],
                f["identification"],
            )
        layout = AUTHENTICATION_LAYOUT if header == ipv6_schema.AH else GENERIC_EXTENSION_LAYOUT
        f = self.fixed(layout, off, name)
        if not f or len(f) < 2:
            return None
        nh, hlen = f["next_header"], f[layout.names[1]]
        length = (hlen + 2) * 4 if header == ipv6_schema.AH else (hlen + 1) * 8
        if off + length > min(end, self.rep_end):
            self.problem(
                BoundsError(name, "length", off + 1, f"{length}-byte header runs past the packet")
            )
            return None
        if off + length > self.cap_end:
            self.cut(name, "data", off, length)
            return None
        data = self.buf[off + 2 : off + length]
        if header in (ipv6_schema.HOP_BY_HOP, ipv6_schema.DESTINATION_OPTIONS):
            at = tlv_overrun(data)
            if at is not None:
                self.problem(
                    BoundsError(name, "option", off + 2 + at, "option runs past its header")
                )
        return IPv6Extension(header, nh, length, data)

    # ------------------------------------------------------------------ transport layer
    def transport(
        self, proto: int, off: int, end: int, src: bytes, dst: bytes, fragment: bool
    ) -> None:
        if proto == ipproto.TCP:
            self.tcp(off, end, src, dst, fragment)
        elif proto == ipproto.UDP:
            self.udp(off, end, src, dst, fragment)
        elif fragment:
            return  # a tunnel's first fragment: what it carries is not all here
        elif proto == ipproto.IPV4_IN_IP:
            self.network(off, link_schema.ETHERTYPE_IPV4)
        elif proto == ipproto.IPV6_IN_IP:
            self.network(off, link_schema.ETHERTYPE_IPV6)
        elif proto == ipproto.GRE:
            self.network(*self.gre(off, end))

    # ------------------------------------------------------------------ tunnels
    def gre(self, off: int, end: int) -> tuple[int, int | None]:
        """GRE's header and its optional fields; the offset and EtherType of what it carries."""
        f = self.fixed(GRE_LAYOUT, off, "gre")
        if len(f) < len(GRE_LAYOUT.names):
            return off, None
        flags = f["flags_version"]
        length = GRE_LAYOUT.size
        fields = {}
        for bit, name in (
            (tunnels.GRE_CHECKSUM | tunnels.GRE_ROUTING, "checksum"),
            (tunnels.GRE_KEY, "key"),
            (tunnels.GRE_SEQUENCE, "sequence"),
        ):
            if flags & bit:
                fields[name] = int.from_bytes(self.buf[off + length : off + length + 4], "big")
                length += 4
        if flags & tunnels.GRE_VERSION == 1 and flags & tunnels.GRE_ACK:
            length += 4
        if off + length > min(end, self.cap_end):
            self.cut("gre", "options", off, length)
            return off, None
        self.pkt.layers.append(
            Tunnel("gre", length, f["protocol"], fields.get("key"), fields.get("sequence"))
        )
        if off + length >= end:
            return off + length, None  # a GRE packet without payload (PPTP acknowledges so)
        return off + length, f["protocol"]

    def udp_tunnel(self, dgram: UDP, off: int, end: int) -> None:
        """What a UDP datagram to or from a tunnel's port carries (VXLAN, Geneve, GTP-U);
        an empty one carries no tunnel header at all (as tshark reads it), not a short one."""
        if off >= end:
            return
        ports = {dgram.srcport, dgram.dstport}
        if tunnels.VXLAN_PORT in ports:
            f = self.fixed(VXLAN_LAYOUT, off, "vxlan")
            if len(f) == len(VXLAN_LAYOUT.names):
                vni = int.from_bytes(f["vni"], "big")
                self.pkt.layers.append(Tunnel("vxlan", VXLAN_LAYOUT.size, None, vni))
                self.network(*self.ethernet(off + VXLAN_LAYOUT.size))
        elif tunnels.GENEVE_PORT in ports:
            f = self.fixed(GENEVE_LAYOUT, off, "geneve")
            if len(f) == len(GENEVE_LAYOUT.names):
                length = GENEVE_LAYOUT.size + (f["version_optlen"] & 0x3F) * 4
                vni = int.from_bytes(f["vni"], "big")
                self.pkt.layers.append(Tunnel("geneve", length, f["protocol"], vni))
                if off + length <= min(end, self.cap_end):
                    self.network(off + length, f["protocol"])
        elif tunnels.GTPU_PORT in ports:
            self.gtpu(off, end)

    def gtpu(self, off: int, end: int) -> None:
        f = self.fixed(GTPU_LAYOUT, off, "gtp")
        if len(f) < len(GTPU_LAYOUT.names) or f["type"] != tunnels.GTPU_G_PDU:
            return
        length = GTPU_LAYOUT.size
        if f["flags"] & tunnels.GTPU_OPTIONAL:
            length += 4
            following = self.buf[off + length - 1] if off + length <= self.cap_end else 0
            # each extension header is a multiple of 4 bytes, at least 4: the walk ends
            while f["flags"] & tunnels.GTPU_EXTENSION and following:
                if off + length >= min(end, self.cap_end):
                    self.cut("gtp", "extension", off, length + 1)
                    return
                size = self.buf[off + length] * 4
                if size == 0:
                    self.problem(InvalidFieldError("gtp", "extension", off + length, "length 0"))
                    return
                length += size
                following = self.buf[off + length - 1] if off + length <= self.cap_end else 0
        if off + length > min(end, self.cap_end):
            self.cut("gtp", "header", off, length)
            return
        self.pkt.layers.append(Tunnel("gtp", length, None, f["teid"]))
        self.network(off + length, self.ip_version(off + length))

    def tcp(self, off: int, end: int, src: bytes, dst: bytes, fragment: bool) -> None:
        cap = min(self.cap_end, end)
        if off + TCP_LAYOUT.size > cap:
            partial = TCP_LAYOUT.unpack_partial(self.buf[:cap], off) if off < cap else {}
            have = cap - off
            partial = {k: v for k, v in partial.items() if have >= _TCP_PARTIAL_MIN.get(k, 0)}
            if partial:
                self.pkt.tcp = TCP(**partial)
                self.pkt.layers.append(self.pkt.tcp)
            missing = TCP_LAYOUT.names[len(partial)] if partial else "srcport"
            if off + TCP_LAYOUT.size > end:
                self.problem(
                    BoundsError(
                        "tcp", missing, off, f"header needs 20 bytes, segment has {end - off}"
                    )
                )
            else:
                self.problem(
                    TruncatedError("tcp", missing, off, f"header needs 20 bytes, captured {have}")
                )
            return
        seg = TCP(*TCP_LAYOUT.unpack(self.buf, off))
        self.pkt.layers.append(seg)
        self.pkt.tcp = seg
        hlen = seg.data_offset * 4  # type: ignore[operator]
        seg_len = end - off
        if not fragment:
            seg.payload_length = max(0, seg_len - hlen)
        if hlen < 20:
            self.problem(
                InvalidFieldError(
                    "tcp",
                    "data_offset",
                    off + _TCP["data_offset"],
                    f"header length {hlen}, must be at least 20",
                )
            )
            seg.payload_length = None
            return
        check = None if fragment or end > self.cap_end else (off, end, src, dst)
        if hlen > seg_len:
            if check is not None:
                seg.checksum_status, note = _transport_checksum(self.buf, ipproto.TCP, *check)
                if note:
                    self.pkt._notes.append(note)
            self.problem(
                BoundsError(
                    "tcp",
                    "data_offset",
                    off + _TCP["data_offset"],
                    f"header length {hlen} runs past the {seg_len}-byte segment",
                )
            )
            seg.payload_length = None
            return
        if off + hlen > self.cap_end:
            self.cut("tcp", "options", off, hlen)
            seg.options, seg.padding = parse_options(
                self.buf, off + TCP_LAYOUT.size, self.cap_end, ignore_problem
            )
            return
        span = (off + TCP_LAYOUT.size, off + hlen) if hlen > TCP_LAYOUT.size else None
        _leave(self.pkt, seg, span, check)
        if self.declared_end > end and self.declared_end > off + hlen:
            # tshark: data the IP length declares but the frame does not hold is malformed
            self.problem(
                BoundsError(
                    "tcp",
                    "payload",
                    end,
                    f"IP length declares {self.declared_end - end} bytes past the frame",
                )
            )
        self.pkt.payload_offset = off + hlen
        self.pkt.payload_end = min(end, self.cap_end)

    def udp(self, off: int, end: int, src: bytes, dst: bytes, fragment: bool) -> None:
        cap = min(self.cap_end, end)
        if off + UDP_LAYOUT.size > cap:
            partial = UDP_LAYOUT.unpack_partial(self.buf[:cap], off) if off < cap else {}
            self.pkt.udp = UDP(**partial)
            self.pkt.layers.append(self.pkt.udp)
            self.cut("udp", UDP_LAYOUT.names[len(partial)], off, 8)
            return
        dgram = UDP(*UDP_LAYOUT.unpack(self.buf, off))
        self.pkt.layers.append(dgram)
        self.pkt.udp = dgram
        length: int = dgram.length  # type: ignore[assignment]
        avail = end - off
        if length == 0 and len(src) == 16:
            length = avail  # RFC 2675: a jumbogram's UDP length is 0
        if length < 8:
            self.problem(
                InvalidFieldError("udp", "length", off + _UDP["length"], f"length {length} < 8")
            )
            return
        if length > avail and not fragment:
            self.problem(
                InvalidFieldError(
                    "udp",
                    "length",
                    off + _UDP["length"],
                    f"length {length} > the {avail}-byte IP payload",
                )
            )
            return
        dgram.payload_length = length - 8
        self.pkt.payload_offset = off + UDP_LAYOUT.size
        self.pkt.payload_end = min(off + length, self.cap_end)
        if dgram.checksum == 0:
            dgram.checksum_status = ChecksumStatus.of_zero_udp_checksum(4 if len(src) == 4 else 6)
        elif not fragment and off + length <= self.cap_end:
            _leave(self.pkt, dgram, None, (off, off + length, src, dst))
        if not fragment:
            self.udp_tunnel(dgram, off + UDP_LAYOUT.size, off + length)


def _keep(layer: Layer, names: list[str]) -> None:
    """Clear every fixed field of ``layer`` but ``names``."""
    for f in dataclasses.fields(layer):  # type: ignore[arg-type]
        if f.name not in names and f.default is None:
            setattr(layer, f.name, None)


def _addresses(f: dict[str, Any]) -> dict[str, Any]:
    return {k: ntop(v) if k in ("src", "dst") else v for k, v in f.items()}


def _macs(f: dict[str, Any]) -> dict[str, Any]:
    return {k: mac(v) if k in ("src", "dst") else v for k, v in f.items()}


def _transport_checksum(
    buf: bytes, proto: int, off: int, end: int, src: bytes, dst: bytes
) -> tuple[ChecksumStatus, str | None]:
    """The transport checksum over ``buf[off:end]`` and its pseudo-header, and a note.

    A sum that holds only the pseudo-header (what checksum offload leaves, and what Linux
    puts on loopback) is still BAD, as tshark says, and the note says why.
    """
    initial = pseudo_header_sum(src, dst, proto, end - off)
    if internet_checksum(memoryview(buf)[off:end], initial) == 0:
        return ChecksumStatus.GOOD, None
    at = off + (_TCP if proto == ipproto.TCP else _UDP)["checksum"]
    if int.from_bytes(buf[at : at + 2], "big") == initial % 0xFFFF:
        name = "TCP" if proto == ipproto.TCP else "UDP"
        return ChecksumStatus.BAD, f"{name} checksum is the pseudo-header sum only: {OFFLOAD}"
    return ChecksumStatus.BAD, None


def _leave(
    pkt: Packet,
    layer: IPv4 | TCP | UDP,
    span: tuple[int, int] | None,
    check: tuple[int, int] | tuple[int, int, bytes, bytes] | None,
) -> None:
    """Leave an option walk over ``span`` and a checksum over ``check`` for the first read
    of the fields they set (strict: do them now)."""
    if span is None and check is None:
        return
    if span is not None:
        del layer.options, layer.padding  # type: ignore[union-attr]
    if check is not None:
        del layer.checksum_status
    work = [layer, len(pkt._problems), len(pkt._notes), span, check]
    layer._fill = pkt
    pkt._pending.append(work)
    if pkt._strict:
        pkt._complete(work)


def _start(pkt: Packet) -> None:
    """Set what decoding finds to nothing found yet."""
    pkt.layers, pkt._notes, pkt._pending = [], [], []
    pkt.ip = pkt.tcp = pkt.udp = pkt.fragment = None
    pkt.payload_offset = pkt.payload_end = None


_ETHERNET = ETHERNET_LAYOUT.unpack
_VLAN_TAG = VLAN_TAG_LAYOUT.unpack
_IPV4, _IPV6 = IPV4_LAYOUT.unpack, IPV6_LAYOUT.unpack
_TCP_FIXED, _UDP_FIXED = TCP_LAYOUT.unpack, UDP_LAYOUT.unpack
_TUNNEL_PORTS = frozenset((tunnels.VXLAN_PORT, tunnels.GENEVE_PORT, tunnels.GTPU_PORT))


def _common_frame(pkt: Packet) -> bool:
    """Decode the common frame in one pass: Ethernet, 802.1Q tags, IPv4 without options or
    fragmentation or IPv6 without extension headers, then a whole TCP or UDP header that
    raises no problem.  Returns False at the first thing that is not so; the general
    decoder then starts over.  Tests prove the two give equal packets."""
    _start(pkt)
    buf = pkt.data
    cap = len(buf)
    if pkt.linktype != LinkType.ETHERNET or cap < ETHERNET_LAYOUT.size:
        return False
    layers = pkt.layers
    dst, src, ethertype = _ETHERNET(buf, 0)
    layers.append(Ethernet(dst.hex(":"), src.hex(":"), ethertype))
    off = ETHERNET_LAYOUT.size
    while ethertype in link_schema.VLAN_TPIDS:
        if off + VLAN_TAG_LAYOUT.size > cap:
            return False
        tag = Vlan(ethertype, *_VLAN_TAG(buf, off))
        layers.append(tag)
        off += VLAN_TAG_LAYOUT.size
        ethertype = tag.type
    rep_end = max(pkt.wirelen, cap)
    ip: IPv4 | IPv6
    if ethertype == link_schema.ETHERTYPE_IPV4:
        if off + IPV4_LAYOUT.size > cap:
            return False
        ip = IPv4(*_IPV4(buf, off))
        end = off + ip.total_length  # type: ignore[operator]
        if (
            ip.version != 4
            or ip.ihl != IPV4_LAYOUT.size // 4
            or end < off + IPV4_LAYOUT.size
            or end > rep_end
            or ip.flags & FLAG_MF  # type: ignore[operator]
            or ip.frag_offset
        ):
            return False
        src_raw = buf[off + _V4["src"] : off + _V4["dst"]]
        dst_raw = buf[off + _V4["dst"] : off + IPV4_LAYOUT.size]
        _leave(pkt, ip, None, (off, IPV4_LAYOUT.size))
        proto: int = ip.protocol  # type: ignore[assignment]
        off += IPV4_LAYOUT.size
    elif ethertype == link_schema.ETHERTYPE_IPV6:
        if off + IPV6_LAYOUT.size > cap or buf[off] >> 4 != 6:
            return False
        ip = IPv6(*_IPV6(buf, off))
        if not ip.payload_length:
            return False
        src_raw = buf[off + _V6["src"] : off + _V6["dst"]]
        dst_raw = buf[off + _V6["dst"] : off + IPV6_LAYOUT.size]
        proto = ip.next_header  # type: ignore[assignment]
        off += IPV6_LAYOUT.size
        end = min(off + ip.payload_length, rep_end)
    else:
        return False
    ip.src, ip.dst = ntop(src_raw), ntop(dst_raw)
    layers.append(ip)
    pkt.ip = ip
    check = None if end > cap else (off, end, src_raw, dst_raw)
    if proto == ipproto.TCP:
        if off + TCP_LAYOUT.size > min(cap, end):
            return False
        seg = TCP(*_TCP_FIXED(buf, off))
        hlen = seg.data_offset * 4  # type: ignore[operator]
        if hlen < TCP_LAYOUT.size or off + hlen > end or off + hlen > cap:
            return False
        seg.payload_length = end - off - hlen
        _leave(
            pkt, seg, (off + TCP_LAYOUT.size, off + hlen) if hlen > TCP_LAYOUT.size else None, check
        )
        layers.append(seg)
        pkt.tcp = seg
        pkt.payload_offset, pkt.payload_end = off + hlen, min(end, cap)
        return True
    if proto == ipproto.UDP:
        if off + UDP_LAYOUT.size > min(cap, end):
            return False
        dgram = UDP(*_UDP_FIXED(buf, off))
        length: int = dgram.length  # type: ignore[assignment]
        if length < UDP_LAYOUT.size or length > end - off:
            return False
        if dgram.srcport in _TUNNEL_PORTS or dgram.dstport in _TUNNEL_PORTS:
            return False
        dgram.payload_length = length - UDP_LAYOUT.size
        if dgram.checksum == 0:
            dgram.checksum_status = ChecksumStatus.of_zero_udp_checksum(ip.version or 0)
        elif off + length <= cap:
            _leave(pkt, dgram, None, (off, off + length, src_raw, dst_raw))
        layers.append(dgram)
        pkt.udp = dgram
        pkt.payload_offset, pkt.payload_end = off + UDP_LAYOUT.size, min(off + length, cap)
        return True
    return False
