"""Export a simulation as a capture file, as tcpdump next to one endpoint would record it.

Every packet is built by :func:`headerkit.packet.build.build` from typed layers (correct
lengths and checksums; TCP options in Linux's order, by ``craft.tcp_options``) as a raw
IPv4 packet (link type RAW).  The capture point is ``scenario.capture``: it records that
endpoint's packets when they leave (even those the path then drops) and the peer's when
they arrive (so packets lost on the way there are missing, duplicates appear twice).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from headerkit.captures import PcapWriter
from headerkit.captures.compression import Compression
from headerkit.interop import craft
from headerkit.packet.build import build
from headerkit.packet.layers import TCP, UDP, IPv4, Layer
from headerkit.schemas import ipproto
from headerkit.schemas.ipv4 import FLAG_MF
from headerkit.schemas.linktypes import LinkType
from headerkit.sim.engine import ADDRESSES, Result
from headerkit.sim.segment import Datagram, Packet
from headerkit.sim.trace import Entry, Kind

EPOCH_NS = 1_700_000_000 * 1_000_000_000  # capture times start at 2023-11-14 22:13:20 UTC
TTL = 64


def segment_bytes(pkt: Packet, side: int, ip_id: int) -> bytes:
    """The IPv4 packet for ``pkt`` sent by ``side`` (0 = a, 1 = b)."""
    src, dst = ADDRESSES[side], ADDRESSES[1 - side]
    if isinstance(pkt, Datagram):
        if not pkt.is_fragment:
            return craft.udp(
                src=src,
                dst=dst,
                sport=pkt.sport,
                dport=pkt.dport,
                payload=pkt.payload,
                ip_id=pkt.ident,
                ttl=TTL,
            ).data
        return _fragment(pkt, src, dst)
    ip = IPv4(protocol=ipproto.TCP, ttl=TTL, identification=ip_id, src=src, dst=dst)
    seg = TCP(
        srcport=pkt.sport,
        dstport=pkt.dport,
        seq=pkt.seq,
        ack=pkt.ack,
        flags=pkt.flags,
        window=pkt.window,
        urgent_pointer=0,
    )
    seg.options = pkt.options()
    return build((ip, seg), pkt.payload)


def _fragment(pkt: Datagram, src: str, dst: str) -> bytes:
    """One IPv4 fragment, built by :func:`headerkit.packet.build.build`; the first carries
    the UDP header of the whole datagram (checksum 0: none, the fragment does not hold all
    it covers)."""
    layers: list[Layer] = [
        IPv4(
            protocol=ipproto.UDP,
            ttl=TTL,
            identification=pkt.ident,
            flags=FLAG_MF if pkt.more_fragments else 0,
            frag_offset=pkt.offset // 8,
            src=src,
            dst=dst,
        )
    ]
    if pkt.offset == 0:
        layers.append(UDP(srcport=pkt.sport, dstport=pkt.dport, length=8 + pkt.total, checksum=0))
    return build(layers, pkt.payload)


def captured(result: Result) -> Iterator[Entry]:
    """The entries the capture point sees, in capture order."""
    side = "ab".index(result.scenario.capture)
    for entry in result.entries:
        if entry.side != side:
            continue
        if entry.kind is Kind.SEND or entry.kind is Kind.ARRIVE:
            yield entry


def write_pcap(
    result: Result, path: str | os.PathLike[str], compress: Compression | None = None
) -> int:
    """Write the capture of ``result`` to ``path`` (classic pcap, ns; compressed by
    ``compress`` or the name's extension); return the count."""
    ip_ids = [0, 0]
    count = 0
    with PcapWriter(path, LinkType.RAW, nanosecond=True, compress=compress) as pcap:
        for entry in captured(result):
            assert entry.packet is not None
            sender = entry.side if entry.kind is Kind.SEND else 1 - entry.side
            ip_ids[sender] = (ip_ids[sender] + 1) & 0xFFFF
            data = segment_bytes(entry.packet, sender, ip_ids[sender])
            pcap.write(data, timestamp_ns=EPOCH_NS + entry.time)
            count += 1
    return count
