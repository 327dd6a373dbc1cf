"""scapy <-> headerkit: the bytes survive both ways, and both read the corpus alike."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import IP, TCP, UDP, TCPOptions
from scapy.layers.inet6 import (
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    IPv6ExtHdrSegmentRouting,
)
from scapy.layers.l2 import Ether
from scapy.utils import PcapReader

from headerkit import craft
from headerkit.captures import CUSTOM_BLOCK, read_capture
from headerkit.captures.live import linktype_of
from headerkit.interop.bridge import from_scapy, to_scapy
from headerkit.packet.build import build
from headerkit.packet.decode import decode
from headerkit.packet.ip_options import source_route_destination
from headerkit.packet.layers import TCP as HkTCP
from headerkit.packet.layers import Ethernet, IPv4, TcpOption
from headerkit.packet.layers import IPv6 as HkIPv6
from headerkit.schemas import tcp as t
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.linktypes import LinkType


def test_from_scapy_reads_a_scapy_built_segment() -> None:
    pkt = (
        IP(src="192.0.2.1", dst="192.0.2.2", ttl=33)
        / TCP(
            sport=1234,
            dport=80,
            flags="SA",
            seq=7,
            ack=9,
            window=512,
            options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (5, 6)), ("WScale", 7)],
        )
        / b"data"
    )
    decoded = from_scapy(pkt)
    assert decoded.linktype == LinkType.RAW
    assert decoded.problems == []
    ip, seg = decoded.ip, decoded.tcp
    assert isinstance(ip, IPv4) and seg is not None
    assert (ip.src, ip.dst, ip.ttl) == ("192.0.2.1", "192.0.2.2", 33)
    assert (seg.srcport, seg.dstport, seg.seq, seg.ack, seg.window) == (1234, 80, 7, 9, 512)
    assert seg.flag_names == ["SYN", "ACK"]
    assert [(o.kind, o.value) for o in seg.options if o.kind not in (t.NOP, t.EOL)] == [
        (t.MSS, 1460),
        (t.SACK_PERMITTED, None),
        (t.TIMESTAMPS, (5, 6)),
        (t.WINDOW_SCALE, 7),
    ]
    assert seg.checksum_status is ChecksumStatus.GOOD  # scapy computed it
    assert decoded.payload == b"data"


def test_from_scapy_follows_the_link_layer() -> None:
    pkt = Ether(src="02:00:00:00:00:01") / IPv6(src="2001:db8::1", dst="::1") / UDP(dport=53)
    decoded = from_scapy(pkt)
    assert decoded.linktype == LinkType.ETHERNET
    assert [type(x) for x in decoded.layers] == [Ethernet, HkIPv6, type(decoded.udp)]
    assert decoded.layer(Ethernet).src == "02:00:00:00:00:01"
    assert decoded.udp is not None and decoded.udp.dstport == 53


def test_linktype_of_refuses_a_packet_without_one() -> None:
    with pytest.raises(ValueError, match="no link type"):
        linktype_of(TCP())


# Options scapy has no name for, and bytes after EOL that scapy's option list drops.
ODD_OPTIONS = [
    TcpOption(t.MPTCP, None, (0, 1, bytes(range(10)))),
    TcpOption(99, None, b"\xab\xcd"),
    TcpOption(t.NOP),
    TcpOption(t.EOL),
]


@pytest.mark.parametrize("src,dst", [("10.1.1.1", "10.2.2.2"), ("2001:db8::1", "2001:db8::2")])
def test_options_scapy_cannot_express_survive_the_round_trip(src: str, dst: str) -> None:
    crafted = craft.tcp(src=src, dst=dst, sport=5, dport=6, flags="A", options=ODD_OPTIONS)
    seg = crafted.layers[1]
    assert isinstance(seg, HkTCP)
    seg.padding = b"\x07\x07\x07"  # garbage after EOL, kept by headerkit as padding
    data = build(crafted.layers)
    original = decode(data, LinkType.RAW)
    scapy_pkt = to_scapy(original)
    assert bytes(scapy_pkt) == data
    assert scapy_pkt[TCP].sport == 5 and scapy_pkt[TCP].dport == 6
    back = from_scapy(scapy_pkt)
    assert back.layers == original.layers
    assert back.tcp is not None and [o.kind for o in back.tcp.options] == [t.MPTCP, 99, 1, 0]
    assert back.tcp.padding == b"\x07\x07\x07\0\0"  # and the zeros to 32 bits


def test_to_scapy_keeps_link_layer_time_and_wire_length() -> None:
    frame = bytes(
        Ether(dst="02:00:00:00:00:02") / IP(dst="192.0.2.9") / UDP(sport=1, dport=2) / b"x"
    )
    decoded = decode(frame, LinkType.ETHERNET, wirelen=len(frame) + 100)
    decoded.timestamp_ns = 1_700_000_000_123_456_000
    scapy_pkt = to_scapy(decoded)
    assert isinstance(scapy_pkt, Ether) and bytes(scapy_pkt) == frame
    assert scapy_pkt.wirelen == len(frame) + 100
    back = from_scapy(scapy_pkt)
    assert back.wirelen == len(frame) + 100
    assert back.timestamp_ns is not None
    assert abs(back.timestamp_ns - decoded.timestamp_ns) < 1000  # a float's precision


def test_to_scapy_takes_a_crafted_packet() -> None:
    crafted = craft.udp(src="::1", dst="::2", sport=7, dport=9, payload=b"hi")
    scapy_pkt = to_scapy(crafted)
    assert isinstance(scapy_pkt, IPv6)
    assert bytes(scapy_pkt) == crafted.data
    assert scapy_pkt[UDP].load == b"hi"


# ---------------------------------------------------------------- the shared corpus

_EXTENSIONS = (
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    IPv6ExtHdrSegmentRouting,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
)


def _scapy_headers(pkt: Any) -> tuple[Any, Any]:
    """scapy's outermost IP layer and the TCP/UDP header right on it (None where absent)."""
    layer = pkt
    while layer and type(layer) not in (IP, IPv6):
        layer = layer.payload
    if not layer:
        return None, None
    inner = layer.payload
    while type(inner) in _EXTENSIONS:
        inner = inner.payload
    return layer, inner if type(inner) in (TCP, UDP) else None


def _ip_values(ip: Any, hk: IPv4 | HkIPv6) -> list[tuple[str, Any, Any]]:
    if isinstance(hk, HkIPv6):
        names = [
            ("src", "src"),
            ("dst", "dst"),
            ("tc", "traffic_class"),
            ("fl", "flow_label"),
            ("plen", "payload_length"),
            ("nh", "next_header"),
            ("hlim", "hop_limit"),
        ]
        return [(f"ipv6.{a}", getattr(ip, a), getattr(hk, b)) for a, b in names]
    names = [
        ("ihl", "ihl"),
        ("tos", "tos"),
        ("len", "total_length"),
        ("id", "identification"),
        ("frag", "frag_offset"),
        ("ttl", "ttl"),
        ("proto", "protocol"),
        ("chksum", "checksum"),
        ("src", "src"),
    ]
    out = [(f"ip.{a}", getattr(ip, a), getattr(hk, b)) for a, b in names]
    out.append(("ip.flags", int(ip.flags), hk.flags))
    if source_route_destination(hk.options) is None:  # else headerkit shows the route's end
        out.append(("ip.dst", ip.dst, hk.dst))
    return out


# Option kinds whose values both keep in the same shape (scapy flattens SACK edges);
# of the others only the kind is compared.
_VALUES_COMPARED = (t.MSS, t.WINDOW_SCALE, t.TIMESTAMPS, t.SACK)


def _scapy_option(name: Any, value: Any) -> tuple[int, Any]:
    kind = int(TCPOptions[1][name] if isinstance(name, str) else name)
    if kind == t.SACK:
        value = tuple(zip(value[::2], value[1::2], strict=True))
    return kind, value if kind in _VALUES_COMPARED else None


def _hk_option(opt: TcpOption) -> tuple[int, Any]:
    return opt.kind, opt.value if opt.kind in _VALUES_COMPARED else None


def _transport_values(tr: Any, hk: Any) -> list[tuple[str, Any, Any]]:
    if isinstance(tr, UDP):
        names = [
            ("sport", "srcport"),
            ("dport", "dstport"),
            ("len", "length"),
            ("chksum", "checksum"),
        ]
        return [(f"udp.{a}", getattr(tr, a), getattr(hk, b)) for a, b in names]
    names = [
        ("sport", "srcport"),
        ("dport", "dstport"),
        ("seq", "seq"),
        ("ack", "ack"),
        ("dataofs", "data_offset"),
        ("window", "window"),
        ("chksum", "checksum"),
        ("urgptr", "urgent_pointer"),
    ]
    out = [(f"tcp.{a}", getattr(tr, a), getattr(hk, b)) for a, b in names]
    out.append(("tcp.flags", int(tr.flags) | tr.reserved << 9, hk.flags))
    scapy_options = [_scapy_option(name, value) for name, value in tr.options]
    out.append(("tcp.options", scapy_options, [_hk_option(o) for o in hk.options]))
    return out


def _compare_file(path: Path, counts: Counter[str], mismatches: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # damaged files: compare what both read
        records = [r for r in read_capture(path) if r.linktype != CUSTOM_BLOCK]
        try:
            with PcapReader(str(path)) as reader:
                scapy_packets = list(reader)
        except Exception:  # scapy gives up on some hostile files
            counts["files scapy cannot read"] += 1
            return
    for rec, sp in zip(records, scapy_packets, strict=False):
        if bytes(sp.original) != rec.data:  # the readers differ (snap length, ...)
            counts["frames read differently"] += 1
            continue
        pkt = decode(rec.data, rec.linktype, wirelen=rec.wirelen)
        ip, tr = _scapy_headers(sp)
        hk_ip = pkt.ip
        if ip is None or hk_ip is None or pkt.problems:
            counts["skipped: no IP, or headers headerkit calls damaged"] += 1
            continue
        if isinstance(hk_ip, HkIPv6) != isinstance(ip, IPv6):
            # headerkit, like tshark, decodes an IPv6 header under a link type naming IPv4
            counts["skipped: IP version the link type contradicts"] += 1
            continue
        values = _ip_values(ip, hk_ip)
        counts["IP headers"] += 1
        if tr is not None:
            pairs = pkt.conversations()  # scapy's is the outermost (a VXLAN frame's UDP)
            assert pairs, f"{path.name} #{rec.number}: scapy sees {tr.name}"
            values += _transport_values(tr, pairs[0][1])
            counts[f"{tr.name} headers"] += 1
        for name, theirs, ours in values:
            if theirs != ours:
                mismatches.append(
                    f"{path.name} #{rec.number} {name}: scapy {theirs!r}, ours {ours!r}"
                )


def test_scapy_and_headerkit_read_the_corpus_alike(corpus: Path) -> None:
    counts: Counter[str] = Counter()
    mismatches: list[str] = []
    for path in sorted((corpus / "pcaps").iterdir()):
        _compare_file(path, counts, mismatches)
    print(dict(counts))
    assert mismatches == []
    assert counts["TCP headers"] > 5000 and counts["UDP headers"] > 100
