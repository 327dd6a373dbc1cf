"""More link types, bogus IP versions and jumbograms, each checked with tshark."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from headerkit import craft
from headerkit.captures import PcapWriter
from headerkit.captures.decoded import decode_capture
from headerkit.packet.decode import decode
from tests.conftest import headerkit_rows, tshark_rows
from tests.test_columnar import assert_same

IP4 = craft.tcp(sport=40000, dport=80, flags="S", src="10.0.0.1", dst="10.0.0.2").data
IP6 = craft.tcp(sport=40000, dport=80, flags="S", src="2001:db8::1", dst="2001:db8::2").data
MACS = bytes(range(12))
IPNET = struct.Struct(">BBHIIIII")

FRAMES = {
    "c_hdlc": (104, [b"\x0f\x00\x08\x00" + IP4, b"\x8f\x00\x86\xdd" + IP6]),
    "ppp_hdlc": (50, [b"\xff\x03\x00\x21" + IP4, b"\xff\x03\x00\x57" + IP6]),
    "null_with_c_hdlc": (0, [b"\x0f\x00\x08\x00" + IP4, b"\x8f\x00\x86\xdd" + IP6]),
    "ipnet": (
        226,
        [
            IPNET.pack(1, 2, 0, len(IP4), 1, 0, 0, 0) + IP4,
            IPNET.pack(1, 26, 0, len(IP6), 1, 0, 0, 0) + IP6,
        ],
    ),
    "bogus_versions": (1, [MACS + b"\x08\x00" + IP6, MACS + b"\x86\xdd" + IP4]),
}
FIELDS = ["ip.src", "ipv6.src", "tcp.srcport", "tcp.len"]


def tshark(path: Path) -> list[dict[str, str]]:
    return tshark_rows(path, FIELDS)


def mine(path: Path) -> list[dict[str, str]]:
    return headerkit_rows(decode_capture(path), FIELDS)


@pytest.mark.parametrize("name", FRAMES)
def test_the_link_type_decodes_as_tshark_decodes_it(name: str, tmp_path: Path) -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    linktype, frames = FRAMES[name]
    path = tmp_path / f"{name}.pcap"
    with PcapWriter(path, linktype) as writer:
        for frame in frames:
            writer.write(frame, timestamp_ns=0)
    assert mine(path) == tshark(path)
    assert any(row["tcp.srcport"] == "40000" for row in mine(path))
    assert_same(path)  # the columnar table says the same


def test_bogus_versions_are_marked() -> None:
    v6_as_v4, v4_as_v6 = (decode(frame, 1) for frame in FRAMES["bogus_versions"][1])
    assert any("Bogus IPv4 version 6" in note for note in v6_as_v4.notes)
    assert v6_as_v4.tcp is not None  # decoded as IPv6 all the same, as tshark does
    assert v4_as_v6.ip is None and "Bogus IPv6 version 4" in str(v4_as_v6.problems[0])


def test_a_jumbogram_cut_by_the_snap_length_keeps_its_length(tmp_path: Path, corpus: Path) -> None:
    """RFC 2675: with a payload length of 0 the hop-by-hop Jumbo option gives the length, so
    a capture cut short still says how long the TCP segment was (BIG TCP writes these)."""
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    (whole,) = list(decode_capture(corpus / "pcaps" / "tcpdump__bigtcp-ipv6-hbh.pcap"))[:1]
    assert whole.tcp is not None and whole.tcp.payload_length == 80_000
    cut = tmp_path / "cut.pcap"
    with PcapWriter(cut, 1, snaplen=200) as writer:
        writer.write(whole.data[:200], timestamp_ns=0, wirelen=len(whole.data))
    (short,) = list(decode_capture(cut))
    assert short.tcp is not None and short.tcp.payload_length == 80_000
    assert mine(cut) == tshark(cut)
