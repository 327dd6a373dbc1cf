"""Friendly builders for TCP segments and UDP datagrams over IPv4 or IPv6.

Every derived field (lengths, data offset, padding, checksums) is computed unless given;
give one to craft a broken packet on purpose::

    seg = craft.tcp(sport=40000, dport=80, flags="S", mss=1460, wscale=7, sack_perm=True)
    bad = craft.tcp(sport=40000, dport=80, flags="PA", payload=b"x", checksum=0x1234)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from headerkit.build import build, option_bytes
from headerkit.decode import Packet, decode
from headerkit.layers import TCP, UDP, IPv4, IPv6, Layer, TcpOption
from headerkit.linktypes import LinkType
from headerkit.schemas import tcp as t

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


def _ip(src: str, dst: str, protocol: int, ttl: int, ip_id: int) -> IPv4 | IPv6:
    if ipaddress.ip_address(src).version == 6:
        return IPv6(next_header=protocol, hop_limit=ttl, src=src, dst=dst)
    return IPv4(protocol=protocol, ttl=ttl, identification=ip_id, src=src, dst=dst)


def tcp(
    *,
    src: str = "10.0.0.1",
    dst: str = "10.0.0.2",
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
) -> Crafted:
    """A TCP segment in an IPv4 or IPv6 packet (the family follows ``src``).

    ``options_raw`` replaces the option space with the given bytes as they are (an option
    of length 0, a SACK of odd length, ...); ``data_offset`` and ``checksum`` force those
    fields.
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
    layers = (_ip(src, dst, 6, ttl, ip_id), seg)
    return Crafted(build(layers, payload), layers)


def udp(
    *,
    src: str = "10.0.0.1",
    dst: str = "10.0.0.2",
    sport: int,
    dport: int,
    payload: bytes = b"",
    ttl: int = 64,
    ip_id: int = 0,
    length: int | None = None,
    checksum: int | None = None,
) -> Crafted:
    """A UDP datagram in an IPv4 or IPv6 packet; ``length``/``checksum`` force those fields."""
    dgram = UDP(srcport=sport, dstport=dport, length=length, checksum=checksum)
    layers = (_ip(src, dst, 17, ttl, ip_id), dgram)
    return Crafted(build(layers, payload), layers)


__all__ = ["Crafted", "option_bytes", "parse_flags", "tcp", "tcp_options", "udp"]
