"""Friendly builders for TCP segments and UDP datagrams over IPv4 or IPv6.

Every derived field (lengths, data offset, padding, checksums) is computed unless given;
give one to craft a broken packet on purpose::

    seg = craft.tcp(sport=40000, dport=80, flags="S", mss=1460, wscale=7, sack_perm=True)
    bad = craft.tcp(sport=40000, dport=80, flags="PA", payload=b"x", checksum=0x1234)
    craft.write("two.pcap", [seg, bad])

A TOML spec describes several packets at once (see :func:`parse_spec`).
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from headerkit.captures import Record, write_capture
from headerkit.captures.compression import Compression, codec_for
from headerkit.errors import SpecError
from headerkit.packet.build import build, option_bytes
from headerkit.packet.decode import Packet, decode
from headerkit.packet.layers import TCP, UDP, IPv4, IPv6, Layer, TcpOption
from headerkit.schemas import ipproto
from headerkit.schemas import tcp as t
from headerkit.schemas.ipv4 import IPV4_LAYOUT
from headerkit.schemas.ipv6 import IPV6_LAYOUT
from headerkit.schemas.linktypes import LinkType

# tcpdump's one-letter flag names, and tshark's names
FLAG_LETTERS = {
    "F": t.FIN,
    "S": t.SYN,
    "R": t.RST,
    "P": t.PSH,
    "A": t.ACK,
    ".": t.ACK,
    "U": t.URG,
    "E": t.ECE,
    "C": t.CWR,
    "N": t.AE,
}
FLAG_WORDS = {name: bit for bit, name in t.FLAG_NAMES} | {"NS": t.AE}
SRC, DST = "10.0.0.1", "10.0.0.2"  # the default addresses


@dataclass(frozen=True, slots=True)
class Crafted:
    """A crafted packet: its bytes (a raw IP packet, link type RAW) and its decoded view."""

    data: bytes
    layers: tuple[Layer, ...]

    linktype = LinkType.RAW

    @property
    def packet(self) -> Packet:
        return decode(self.data, LinkType.RAW)


def parse_flags(flags: str | int | Iterable[str]) -> int:
    """``"SA"``, ``"PA"``, ``"F."``, ``{"SYN", "ACK"}`` or a number to the 12 flag bits."""
    if isinstance(flags, int):
        return flags
    words = [flags] if isinstance(flags, str) else list(flags)
    if isinstance(flags, str) and flags.upper() not in FLAG_WORDS:
        words = list(flags)
    bits = 0
    for word in words:
        key = word.upper()
        if key in FLAG_WORDS:
            bits |= FLAG_WORDS[key]
        elif word in FLAG_LETTERS:
            bits |= FLAG_LETTERS[word]
        elif key in FLAG_LETTERS:
            bits |= FLAG_LETTERS[key]
        else:
            raise ValueError(f"unknown TCP flag {word!r}")
    return bits


def tcp_options(
    *,
    mss: int | None = None,
    wscale: int | None = None,
    sack_perm: bool = False,
    timestamps: tuple[int, int] | None = None,
    sack: Sequence[tuple[int, int]] | None = None,
    extra: Sequence[TcpOption] = (),
) -> list[TcpOption]:
    """Options by name, in the order Linux sends them in a SYN (NOPs for alignment)."""
    opts: list[TcpOption] = []
    if mss is not None:
        opts.append(TcpOption(t.MSS, None, mss))
    if sack_perm and timestamps is not None:
        opts.append(TcpOption(t.SACK_PERMITTED, None, None))
        opts.append(TcpOption(t.TIMESTAMPS, None, tuple(timestamps)))
    else:
        if timestamps is not None:
            opts += [TcpOption(t.NOP), TcpOption(t.NOP)]
            opts.append(TcpOption(t.TIMESTAMPS, None, tuple(timestamps)))
        if sack_perm:
            opts += [TcpOption(t.NOP), TcpOption(t.NOP), TcpOption(t.SACK_PERMITTED, None, None)]
    if sack:
        opts += [TcpOption(t.NOP), TcpOption(t.NOP), TcpOption(t.SACK, None, tuple(sack))]
    if wscale is not None:
        opts += [TcpOption(t.NOP), TcpOption(t.WINDOW_SCALE, None, wscale)]
    opts.extend(extra)
    return opts


def _ip(
    src: str, dst: str, protocol: int, ttl: int, ip_id: int, fields: Mapping[str, Any] | None
) -> IPv4 | IPv6:
    ip: IPv4 | IPv6
    if ":" in src:  # an IPv6 address in text; build() checks both addresses
        ip = IPv6(next_header=protocol, hop_limit=ttl, src=src, dst=dst)
    else:
        ip = IPv4(protocol=protocol, ttl=ttl, identification=ip_id, src=src, dst=dst)
    if not fields:
        return ip
    names = IPV6_LAYOUT.names if isinstance(ip, IPv6) else [*IPV4_LAYOUT.names, "options"]
    for name, value in fields.items():
        if name not in names:
            raise ValueError(f"{type(ip).__name__} has no field {name!r}; fields: {names}")
        setattr(ip, name, value)
    return ip


def tcp(
    *,
    src: str = SRC,
    dst: str = DST,
    sport: int,
    dport: int,
    seq: int = 0,
    ack: int = 0,
    flags: str | int | Iterable[str] = "S",
    window: int = 65535,
    urgent_pointer: int = 0,
    mss: int | None = None,
    wscale: int | None = None,
    sack_perm: bool = False,
    timestamps: tuple[int, int] | None = None,
    sack: Sequence[tuple[int, int]] | None = None,
    options: Sequence[TcpOption] = (),
    options_raw: bytes | None = None,
    payload: bytes = b"",
    ttl: int = 64,
    ip_id: int = 0,
    data_offset: int | None = None,
    checksum: int | None = None,
    ip_fields: Mapping[str, Any] | None = None,
) -> Crafted:
    """A TCP segment in an IPv4 or IPv6 packet (the family follows ``src``).

    ``options_raw`` replaces the option space with the given bytes as they are (an option
    of length 0, a SACK of odd length, ...); ``data_offset`` and ``checksum`` force those
    fields; ``ip_fields`` sets IP header fields by name (``{"checksum": 0, "ttl": 1}``).
    """
    named = tcp_options(
        mss=mss,
        wscale=wscale,
        sack_perm=sack_perm,
        timestamps=timestamps,
        sack=sack,
        extra=options,
    )
    seg = TCP(
        srcport=sport,
        dstport=dport,
        seq=seq,
        ack=ack,
        data_offset=data_offset,
        flags=parse_flags(flags),
        window=window,
        checksum=checksum,
        urgent_pointer=urgent_pointer,
    )
    if options_raw is not None:
        seg.padding = options_raw
    else:
        seg.options = named
    layers = (_ip(src, dst, ipproto.TCP, ttl, ip_id, ip_fields), seg)
    return Crafted(build(layers, payload), layers)


def udp(
    *,
    src: str = SRC,
    dst: str = DST,
    sport: int,
    dport: int,
    payload: bytes = b"",
    ttl: int = 64,
    ip_id: int = 0,
    length: int | None = None,
    checksum: int | None = None,
    ip_fields: Mapping[str, Any] | None = None,
) -> Crafted:
    """A UDP datagram in an IPv4 or IPv6 packet; ``length``/``checksum`` force those fields,
    ``ip_fields`` IP header fields by name."""
    dgram = UDP(srcport=sport, dstport=dport, length=length, checksum=checksum)
    layers = (_ip(src, dst, ipproto.UDP, ttl, ip_id, ip_fields), dgram)
    return Crafted(build(layers, payload), layers)


CaptureFormat = Literal["pcap", "pcapng"]


def format_for(path: str | os.PathLike[str]) -> CaptureFormat:
    """The capture format a file name asks for: pcapng for ``.pcapng`` (compressed or not:
    ``.pcapng.gz``), else pcap."""
    name = os.fspath(path).lower()
    codec = codec_for(None, name)
    if codec is not None:
        name = name[: -len(os.path.splitext(name)[1])]
    return "pcapng" if name.endswith(".pcapng") else "pcap"


def write(
    path: str | os.PathLike[str],
    packets: Iterable[Crafted],
    *,
    format: CaptureFormat | None = None,
    start_ns: int | None = None,
    offsets_ns: Sequence[int] | None = None,
    compress: Compression | None = None,
) -> int:
    """Write crafted packets to a pcap or pcapng file (link type raw IP); return the count.

    The format follows the file name unless given, and so does compression (``.gz``, ...)
    unless ``compress`` names it.  Packet ``i`` is stamped ``start_ns``
    (default: now) plus ``offsets_ns[i]`` (default: ``i`` milliseconds).
    """
    start = time.time_ns() if start_ns is None else start_ns
    records = (
        Record(
            i + 1,
            start + (i * 1_000_000 if offsets_ns is None else offsets_ns[i]),
            LinkType.RAW,
            p.data,
            len(p.data),
        )
        for i, p in enumerate(packets)
    )
    chosen = format or format_for(path)
    return write_capture(path, records, chosen, linktype=LinkType.RAW, compress=compress)


@dataclass(frozen=True, slots=True)
class Spec:
    """Packets from a spec, with their times: ``offsets_ns`` from ``start_ns`` (None: now)."""

    packets: tuple[Crafted, ...]
    offsets_ns: tuple[int, ...]
    start_ns: int | None = None

    def write(
        self,
        path: str | os.PathLike[str],
        format: CaptureFormat | None = None,
        compress: Compression | None = None,
    ) -> int:
        return write(
            path,
            self.packets,
            format=format,
            start_ns=self.start_ns,
            offsets_ns=self.offsets_ns,
            compress=compress,
        )


_SPEC_KEYS = {"start", "interval", "defaults", "packet"}
_NS = 1_000_000_000


def parse_spec(spec: Mapping[str, Any]) -> Spec:
    """Packets described by a mapping, as a TOML spec file holds them.

    Top level: ``start`` (epoch seconds), ``interval`` (seconds between packets without
    ``at``, default 0.001), a ``[defaults]`` table and one ``[[packet]]`` table per packet.
    A packet's keys are the arguments of :func:`tcp` or :func:`udp` (``proto = "udp"``
    chooses), plus ``at`` (seconds from the start), ``reply = true`` (swap the addresses
    and ports), ``payload`` as text or ``payload_hex``, ``options_raw`` in hex,
    ``options = [{kind = 30, data = "hex"}]`` and ``ip = {field = value}``.
    """
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise SpecError(f"unknown top-level keys {sorted(unknown)}; expected {sorted(_SPEC_KEYS)}")
    tables = spec.get("packet", [])
    if not tables:
        raise SpecError("the spec has no [[packet]] tables")
    defaults = spec.get("defaults", {})
    interval = round(spec.get("interval", 0.001) * _NS)
    packets: list[Crafted] = []
    offsets: list[int] = []
    offset = -interval
    for number, table in enumerate(tables, 1):
        fields = {**defaults, **table}
        at = fields.pop("at", None)
        offset = offset + interval if at is None else round(at * _NS)
        offsets.append(offset)
        try:
            packets.append(_from_table(fields))
        except (TypeError, ValueError) as err:
            raise SpecError(f"packet {number}: {err}") from err
    start = spec.get("start")
    return Spec(tuple(packets), tuple(offsets), None if start is None else round(start * _NS))


def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Read a TOML spec file (see :func:`parse_spec`)."""
    with open(path, "rb") as f:
        try:
            return parse_spec(tomllib.load(f))
        except tomllib.TOMLDecodeError as err:
            raise SpecError(f"{os.fspath(path)}: {err}") from err


def _from_table(fields: dict[str, Any]) -> Crafted:
    proto = fields.pop("proto", "tcp")
    if fields.pop("reply", False):
        fields["src"], fields["dst"] = fields.get("dst", DST), fields.get("src", SRC)
        fields["sport"], fields["dport"] = fields.get("dport"), fields.get("sport")
    if isinstance(fields.get("payload"), str):
        fields["payload"] = fields["payload"].encode()
    if "payload_hex" in fields:
        fields["payload"] = bytes.fromhex(fields.pop("payload_hex"))
    if "options_raw" in fields:
        fields["options_raw"] = bytes.fromhex(fields["options_raw"])
    if "ip" in fields:
        fields["ip_fields"] = fields.pop("ip")
    if "timestamps" in fields:
        fields["timestamps"] = tuple(fields["timestamps"])
    if "sack" in fields:
        fields["sack"] = [tuple(block) for block in fields["sack"]]
    if "options" in fields:
        fields["options"] = [
            TcpOption(o["kind"], o.get("length"), bytes.fromhex(o.get("data", "")))
            for o in fields["options"]
        ]
    if proto == "tcp":
        return tcp(**fields)
    if proto == "udp":
        return udp(**fields)
    raise ValueError(f"proto must be 'tcp' or 'udp', not {proto!r}")


__all__ = [
    "CaptureFormat",
    "Crafted",
    "Spec",
    "SpecError",
    "format_for",
    "load_spec",
    "option_bytes",
    "parse_flags",
    "parse_spec",
    "tcp",
    "tcp_options",
    "udp",
    "write",
]
