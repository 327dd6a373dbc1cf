"""Export a simulation as a capture file, as tcpdump next to one endpoint would record it.

Every packet is built by :mod:`headerkit.interop.craft` (correct lengths and checksums) as a raw
IPv4 packet (link type RAW).  The capture point is ``scenario.capture``: it records that
endpoint's packets when they leave (even those the path then drops) and the peer's when
they arrive (so packets lost on the way there are missing, duplicates appear twice).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

from headerkit.captures import PcapWriter
from headerkit.captures.compression import Compression
from headerkit.interop import craft
from headerkit.schemas import ipproto
from headerkit.schemas.checksum import internet_checksum
from headerkit.schemas.linktypes import LinkType
from headerkit.sim.engine import ADDRESSES, Result
from headerkit.sim.segment import Datagram, Packet
from headerkit.sim.trace import Entry, Kind

EPOCH_NS = 1_700_000_000 * 1_000_000_000  # capture times start at 2023-11-14 22:13:20 UTC


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
            ).data
        return _fragment(pkt, src, dst)
    return craft.tcp(
        src=src,
        dst=dst,
        sport=pkt.sport,
        dport=pkt.dport,
        seq=pkt.seq,
        ack=pkt.ack,
        flags=pkt.flags,
        window=pkt.window,
        mss=pkt.mss,
        wscale=pkt.wscale,
        payload=pkt.payload,
        ip_id=ip_id,
    ).data


def _fragment(pkt: Datagram, src: str, dst: str) -> bytes:
    """One IPv4 fragment; the first carries the UDP header of the whole datagram."""
    body = pkt.payload
    if pkt.offset == 0:  # UDP checksum 0: none (the fragment does not hold all it covers)
        body = struct.pack(">HHHH", pkt.sport, pkt.dport, 8 + pkt.total, 0) + body
    flags_offset = (0x2000 if pkt.more_fragments else 0) | (pkt.offset // 8)
    header = struct.pack(
        ">BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(body),
        pkt.ident,
        flags_offset,
        64,
        ipproto.UDP,
        0,
        bytes(map(int, src.split("."))),
        bytes(map(int, dst.split("."))),
    )
    checksum = internet_checksum(header)
    return header[:10] + struct.pack(">H", checksum) + header[12:] + body


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
