"""Seed inputs for the fuzz targets: the project's own captures and crafted packets."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from headerkit import craft
from headerkit.captures import PcapngWriter, PcapWriter
from headerkit.schemas.linktypes import LinkType

ROOT = Path(__file__).resolve().parents[1]


def crafted() -> list[bytes]:
    """Raw IP packets that exercise options, IPv6 and broken fields."""
    return [
        craft.tcp(
            sport=1, dport=2, flags="S", mss=1460, wscale=7, sack_perm=True, timestamps=(1, 2)
        ).data,
        craft.tcp(
            src="2001:db8::1", dst="2001:db8::2", sport=1, dport=2, flags="PA", payload=b"hi"
        ).data,
        craft.tcp(sport=1, dport=2, flags="A", sack=[(1, 2), (3, 4)]).data,
        craft.tcp(sport=1, dport=2, options_raw=b"\x02\x00\x00\x00").data,
        craft.tcp(sport=1, dport=2, data_offset=15).data,
        craft.udp(sport=1, dport=2, payload=b"x" * 10).data,
        craft.udp(src="::1", dst="::2", sport=1, dport=2, length=7).data,
    ]


def write_seeds(target: str, corpus: Path) -> None:
    packets = crafted()
    if target == "framing":
        (corpus / "seed-lines").write_bytes(b"\x05\x03Hello\r\nWorld\r\n")
        (corpus / "seed-prefix").write_bytes(b"\x01\x02\x00\x05Hello\x00\x05World")
        return
    if target == "reassembly":
        syn = struct.pack(">IHB", 1000, 0, 2)
        hello = struct.pack(">IHB", 1001, 5, 0) + b"Hello"
        world = struct.pack(">IHB", 1006, 5, 0) + b"World"
        ack = struct.pack(">IHB", 1011, 0, 0x80)
        (corpus / "seed-in-order").write_bytes(syn + hello + world + ack)
        (corpus / "seed-out-of-order").write_bytes(syn + world + hello + hello)
        return
    if target == "scenario":
        for path in sorted((ROOT / "headerkit" / "sim" / "scenarios").glob("*.toml")):
            (corpus / f"seed-{path.name}").write_bytes(path.read_bytes())
        return
    if target == "packetdrill":
        for path in sorted((ROOT / "tests" / "packetdrill").glob("*.pkt")):
            (corpus / f"seed-{path.name}").write_bytes(path.read_bytes())
        return
    if target == "decode":
        raw_index = sorted(int(x) for x in [*LinkType, 147]).index(LinkType.RAW)
        for i, pkt in enumerate(packets):
            (corpus / f"seed-{i}").write_bytes(bytes([raw_index]) + pkt)
        return
    for i, pkt in enumerate(packets):
        buf = io.BytesIO()
        with PcapWriter(buf, LinkType.RAW) as w:
            w.write(pkt, timestamp_ns=i)
        (corpus / f"seed-pcap-{i}").write_bytes(buf.getvalue())
    buf = io.BytesIO()
    with PcapngWriter(buf, interfaces=[LinkType.RAW]) as w:
        for i, pkt in enumerate(packets):
            w.write(pkt, timestamp_ns=i, comment=f"seed {i}")
    (corpus / "seed-pcapng").write_bytes(buf.getvalue())
    for path in sorted((ROOT / "pcaps").glob("*.pcap*")):
        (corpus / f"seed-{path.name}").write_bytes(path.read_bytes())
