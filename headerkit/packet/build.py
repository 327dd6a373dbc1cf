"""Decoded layers back to bytes, through the same construct schemas.

``build(layers, payload)`` is the inverse of :func:`headerkit.packet.decode`: every field that is
set is written as given, so a decoded packet builds back to its own bytes, and every field
left ``None`` is derived — IHL, total and payload lengths, data offset and padding to 32
bits, UDP length, and every checksum (TCP/UDP over the IPv4 or IPv6 pseudo-header; a
computed UDP sum of 0 goes out as 0xFFFF).  Set a field to a wrong value to craft a broken
packet on purpose.
"""

from __future__ import annotations

import functools
import operator
import re
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Any

import construct as cs

from headerkit.errors import BuildError
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
    TcpOption,
    UnknownLink,
    Vlan,
)
from headerkit.schemas import ipproto
from headerkit.schemas import ipv6 as ipv6_schema
from headerkit.schemas import link as link_schema
from headerkit.schemas import tcp as t
from headerkit.schemas.checksum import internet_checksum, transport_checksum
from headerkit.schemas.ipv4 import IPV4_HEADER, IPV4_LAYOUT
from headerkit.schemas.ipv6 import (
    AUTHENTICATION_HEADER,
    FRAGMENT_HEADER,
    FRAGMENT_LAYOUT,
    GENERIC_EXTENSION,
    IPV6_HEADER,
    IPV6_LAYOUT,
)
from headerkit.schemas.layout import BuildContext, FixedLayout
from headerkit.schemas.link import (
    ETHERNET,
    LINUX_SLL,
    LINUX_SLL2,
    MPLS,
    MPLS_LAYOUT,
    NULL_BE,
    NULL_LE,
    VLAN_TAG,
    VLAN_TAG_LAYOUT,
)
from headerkit.schemas.tcp import TCP_HEADER, TCP_LAYOUT
from headerkit.schemas.tcp_options import OPTION_KINDS, TCP_OPTION, TCP_OPTION_RAW
from headerkit.schemas.udp import UDP_HEADER, UDP_LAYOUT


def build(layers: Sequence[Layer], payload: bytes = b"") -> bytes:
    """The bytes of ``layers`` (outermost first) carrying ``payload``."""
    ip = next((x for x in layers if isinstance(x, IPv4 | IPv6)), None)
    data = bytes(payload)
    for index in range(len(layers) - 1, -1, -1):
        data = _build_layer(layers[index], data, ip)
    return data


def _build_layer(layer: Layer, payload: bytes, ip: IPv4 | IPv6 | None) -> bytes:
    if isinstance(layer, TCP):
        return build_tcp(layer, payload, ip)
    if isinstance(layer, UDP):
        return build_udp(layer, payload, ip)
    if isinstance(layer, IPv4):
        return build_ipv4(layer, payload)
    if isinstance(layer, IPv6):
        return build_ipv6(layer, payload)
    if isinstance(layer, Ethernet):
        return _mac_bytes(ETHERNET, layer) + payload
    if isinstance(layer, Vlan):
        # the TPID is the EtherType field of the header before the tag
        fields = {k: getattr(layer, k) for k in VLAN_TAG_LAYOUT.names}
        return _b(VLAN_TAG, VLAN_TAG_LAYOUT.nest(fields)) + payload
    if isinstance(layer, Mpls):
        fields = {k: getattr(layer, k) for k in MPLS_LAYOUT.names}
        return _b(MPLS, MPLS_LAYOUT.nest(fields)) + payload
    if isinstance(layer, LinuxSLL):
        return _b(LINUX_SLL, layer.fields()) + payload
    if isinstance(layer, LinuxSLL2):
        return _b(LINUX_SLL2, layer.fields()) + payload
    if isinstance(layer, Null):
        schema = NULL_LE if layer.byteorder == "little" else NULL_BE
        return _b(schema, {"family": layer.family}) + payload
    if isinstance(layer, UnknownLink):
        return layer.data
    if isinstance(layer, Encapsulation):
        raise BuildError(f"building a {layer.kind} header is not supported; build its payload")
    raise BuildError(f"cannot build a {type(layer).__name__}")


def _b(schema: Any, value: Any, **context: Any) -> bytes:
    """``schema.build`` typed: construct is untyped."""
    data: bytes = schema.build(value, **context)
    return data


def _mac_bytes(schema: Any, layer: Ethernet) -> bytes:
    def raw(mac: str | None) -> bytes:
        return bytes.fromhex((mac or "00:00:00:00:00:00").replace(":", ""))

    ethertype = layer.type
    if ethertype is None:
        ethertype = link_schema.ETHERTYPE_IPV4
    data: bytes = schema.build({"dst": raw(layer.dst), "src": raw(layer.src), "type": ethertype})
    return data


@functools.lru_cache(maxsize=1024)
def _addr(text: str | None, family: int) -> bytes:
    if text is None:
        raise BuildError("an IP header needs its source and destination addresses")
    try:
        return socket.inet_pton(family, text)
    except (OSError, ValueError):
        version = "IPv4" if family == socket.AF_INET else "IPv6"
        raise BuildError(f"not an {version} address: {text!r}") from None


def header_bytes(
    layer: str,
    schema: Any,
    layout: FixedLayout,
    fields: dict[str, Any],
    options: bytes | None,
    payload_length: int,
) -> bytes:
    """A header from its leaf fields (None: the schema's default) and its options.

    The layout's packer, derived from the schema, builds the fixed part; where it cannot
    (no default) the schema builds the whole. A value the field's width cannot hold is
    refused with a :class:`BuildError` naming the field and its width.
    """
    fixed = layout.pack(fields, BuildContext(options, payload_length))
    if fixed is not None:
        return fixed + (options or b"")
    for name, _, width in layout.bits:
        value = fields.get(name)
        if isinstance(value, int) and not 0 <= value < 1 << width:
            limit = (1 << width) - 1
            reason = f"{value} does not fit the field's {width} bits (0 to {limit})"
            raise BuildError(f"{layer}.{name}: {reason}")
    nested = layout.nest(fields)
    if options is not None:
        nested["options"] = options
    return _b(schema, nested, payload_length=payload_length)


def _leaves(layout: FixedLayout) -> Callable[[Layer], dict[str, Any]]:
    """A reader of a layer's fixed-part fields, by the layout's leaf names."""
    names = layout.names
    get = operator.attrgetter(*names)
    return lambda layer: dict(zip(names, get(layer), strict=True))


_IPV4_LEAVES = _leaves(IPV4_LAYOUT)
_IPV6_LEAVES = _leaves(IPV6_LAYOUT)
_TCP_LEAVES = _leaves(TCP_LAYOUT)


def build_ipv4(ip: IPv4, payload: bytes) -> bytes:
    fields = _IPV4_LEAVES(ip)
    fields["src"] = _addr(ip.src, socket.AF_INET)
    fields["dst"] = _addr(ip.dst, socket.AF_INET)
    options = ip.options
    if options and ip.ihl is None:
        options += bytes(-len(options) % 4)
    if fields["protocol"] is None:
        raise BuildError("IPv4.protocol must be set")
    header = header_bytes("ip", IPV4_HEADER, IPV4_LAYOUT, fields, options, len(payload))
    if ip.checksum is None:  # the field is 0 in ``header``: sum it as it is
        hlen = (header[0] & 0xF) * 4
        checksum = internet_checksum(header if hlen == len(header) else header[:hlen])
        header = header[:10] + checksum.to_bytes(2, "big") + header[12:]
    return header + payload


def build_ipv6(ip: IPv6, payload: bytes) -> bytes:
    fields = _IPV6_LEAVES(ip)
    fields["src"] = _addr(ip.src, socket.AF_INET6)
    fields["dst"] = _addr(ip.dst, socket.AF_INET6)
    chain = b"".join(_build_extension(e) for e in ip.extensions)
    if fields["next_header"] is None:
        raise BuildError("IPv6.next_header must be set")
    header = header_bytes("ipv6", IPV6_HEADER, IPV6_LAYOUT, fields, None, len(chain + payload))
    return header + chain + payload


def _build_extension(ext: IPv6Extension) -> bytes:
    data: bytes
    if ext.header == ipv6_schema.FRAGMENT:
        fields = {
            "next_header": ext.next_header,
            "reserved": ext.data[0] if ext.data else None,
            "frag_offset": ext.frag_offset or 0,
            "res": ext.data[1] >> 1 & 3 if len(ext.data) > 1 else None,
            "more_fragments": bool(ext.more_fragments),
            "identification": ext.identification or 0,
        }
        data = FRAGMENT_HEADER.build(FRAGMENT_LAYOUT.nest(fields))
    elif ext.header == ipv6_schema.AH:
        data = AUTHENTICATION_HEADER.build({"next_header": ext.next_header, "data": ext.data})
    else:
        data = GENERIC_EXTENSION.build({"next_header": ext.next_header, "data": ext.data})
    return data


def option_bytes(opt: TcpOption) -> bytes:
    """One option through its schema; a value its kind cannot hold goes out as raw bytes."""
    if opt.kind in (t.EOL, t.NOP) and opt.length is None:
        return bytes([opt.kind])
    value = _schema_value(opt)
    if value is _RAW:
        body = opt.value if isinstance(opt.value, bytes | bytearray) else b""
        raw: bytes = TCP_OPTION_RAW.build({"kind": opt.kind, "length": opt.length, "data": body})
        return raw
    try:
        built: bytes = TCP_OPTION.build({"kind": opt.kind, "length": opt.length, "value": value})
    except cs.ConstructError as err:
        raise BuildError(f"tcp option {opt.label}: {_too_wide(err, value)}") from None
    return built


def _too_wide(err: cs.ConstructError, value: Any) -> str:
    """A construct build error as the limit it hit: the width of a fixed-size field."""
    fmt = re.search(r"struct '([<>=!]?\w)'", str(err))
    if fmt is not None:
        bits = struct.calcsize(fmt.group(1)) * 8
        return f"{value!r} does not fit its {bits}-bit field (0 to {(1 << bits) - 1})"
    return str(err).splitlines()[-1]


_RAW = object()


def _schema_value(opt: TcpOption) -> Any:
    """The option's value in the shape its kind's layout builds (see
    :data:`~headerkit.schemas.tcp_options.OPTION_KINDS`), or ``_RAW`` for bytes as they are."""
    row = OPTION_KINDS.get(opt.kind)
    if row is None or row.single or not row.accepts(opt.value):
        return _RAW
    return row.shape(opt.value)


# The most option bytes a header can describe: the largest data offset, less the fixed part.
MAX_OPTION_SPACE = ((1 << TCP_LAYOUT.widths["data_offset"]) - 1) * 4 - TCP_LAYOUT.size


def tcp_option_space(seg: TCP) -> bytes:
    """The options and padding of ``seg``; padded with zeros to 32 bits when the data
    offset is left to be derived, which it can be for at most 40 bytes of options."""
    space = (
        b"".join([option_bytes(o) for o in seg.options]) + seg.padding
        if seg.options
        else seg.padding
    )
    if seg.data_offset is None:
        space += bytes(-len(space) % 4)
        if len(space) > MAX_OPTION_SPACE:
            reason = f"{len(space)} bytes, over the {MAX_OPTION_SPACE} a data offset can describe"
            raise BuildError(f"tcp.options: {reason}")
    return space


def build_tcp(seg: TCP, payload: bytes, ip: IPv4 | IPv6 | None) -> bytes:
    fields = _TCP_LEAVES(seg)
    for name in ("srcport", "dstport"):
        if fields[name] is None:
            raise BuildError(f"TCP.{name} must be set")
    space = tcp_option_space(seg)
    segment = bytearray(header_bytes("tcp", TCP_HEADER, TCP_LAYOUT, fields, space, len(payload)))
    segment += payload
    if seg.checksum is None:
        src, dst = _pseudo_addresses(ip)
        segment[16:18] = transport_checksum(src, dst, ipproto.TCP, segment).to_bytes(2, "big")
    return bytes(segment)


def build_udp(dgram: UDP, payload: bytes, ip: IPv4 | IPv6 | None) -> bytes:
    fields = {k: getattr(dgram, k) for k in ("srcport", "dstport", "length", "checksum")}
    header = header_bytes("udp", UDP_HEADER, UDP_LAYOUT, fields, None, len(payload))
    datagram = bytearray(header + payload)
    if dgram.checksum is None:
        src, dst = _pseudo_addresses(ip)
        total = transport_checksum(src, dst, ipproto.UDP, bytes(datagram))
        datagram[6:8] = (total or 0xFFFF).to_bytes(2, "big")  # RFC 768: 0 means "no sum"
    return bytes(datagram)


def _pseudo_addresses(ip: IPv4 | IPv6 | None) -> tuple[bytes, bytes]:
    if ip is None:
        raise BuildError("a checksum needs the enclosing IP header's addresses")
    family = socket.AF_INET if isinstance(ip, IPv4) else socket.AF_INET6
    return _addr(ip.src, family), _addr(ip.dst, family)
