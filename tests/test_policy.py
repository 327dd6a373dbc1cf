"""The bad-input policy (README, "Bad input"): one test per row of the table.

Each row says which error class headerkit reports, what is still decoded, whether the
packet is marked malformed (as tshark's l234.malformed would), and how the CLI shows it.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import pytest

from headerkit import craft
from headerkit.captures import PcapngWriter, PcapWriter, read_capture
from headerkit.cli import main
from headerkit.errors import (
    BoundsError,
    CaptureFileError,
    InvalidFieldError,
    OptionError,
    TruncatedError,
)
from headerkit.packet.decode import Packet, decode
from headerkit.packet.layers import IPv4, IPv6, UnknownLink
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.linktypes import LinkType
from headerkit.tables.tshark import tshark_fields

RAW = LinkType.RAW


def tcp(**kw: object) -> bytes:
    return craft.tcp(sport=1000, dport=80, flags="PA", payload=b"data", **kw).data  # type: ignore[arg-type]


def udp(**kw: object) -> bytes:
    return craft.udp(sport=53, dport=5353, payload=b"answer", **kw).data  # type: ignore[arg-type]


def one(pkt: Packet, cls: type, field: str) -> None:
    assert [type(p) for p in pkt.problems] == [cls], pkt.problems
    assert pkt.problems[0].field == field


def pcap_bytes(packets: list[bytes], linktype: int = RAW) -> bytes:
    buf = io.BytesIO()
    with PcapWriter(buf, linktype) as w:
        for i, p in enumerate(packets):
            w.write(p, timestamp_ns=i)
    return buf.getvalue()


def read_all(data: bytes) -> tuple[int, CaptureFileError | None]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reader = read_capture(io.BytesIO(data))
        count = sum(1 for _ in reader)
    if reader.damage is not None:
        assert any(str(reader.damage) in str(w.message) for w in caught)
    return count, reader.damage


def test_truncated_headers_keep_what_fits_and_are_short() -> None:
    for cut, layer in ((3, "ip"), (20 + 7, "tcp")):
        raw = tcp()
        pkt = decode(raw[:cut], RAW, wirelen=len(raw))
        assert isinstance(pkt.problems[0], TruncatedError) and pkt.problems[0].layer == layer
        assert pkt.short and not pkt.malformed
    eth = decode(b"\x00" * 9, LinkType.ETHERNET, wirelen=60)
    assert isinstance(eth.problems[0], TruncatedError) and eth.problems[0].layer == "eth"
    udp_cut = decode(udp()[:24], RAW, wirelen=40)
    assert udp_cut.udp is not None and udp_cut.udp.srcport == 53 and udp_cut.udp.length is None


def test_ihl_below_five() -> None:
    raw = bytearray(tcp())
    raw[0] = 0x43
    pkt = decode(bytes(raw), RAW)
    one(pkt, InvalidFieldError, "ihl")
    ip = pkt.layer(IPv4)
    assert (ip.version, ip.ihl, ip.ttl) == (4, 3, None) and not pkt.malformed


def test_ipv4_total_length_smaller_than_header_or_larger_than_capture() -> None:
    raw = bytearray(tcp())
    struct.pack_into(">H", raw, 2, 19)
    one(decode(bytes(raw), RAW), InvalidFieldError, "total_length")
    struct.pack_into(">H", raw, 2, len(raw) + 100)
    pkt = decode(bytes(raw), RAW)  # the frame holds less than the IP length says
    one(pkt, BoundsError, "payload")
    assert pkt.malformed and pkt.tcp is not None and pkt.tcp.payload_length == 4


def test_ipv6_payload_length_zero_or_past_the_capture() -> None:
    raw = bytearray(craft.tcp(src="::1", dst="::2", sport=1, dport=2, payload=b"xyz").data)
    struct.pack_into(">H", raw, 4, 0)  # jumbo / TSO: the length comes from the frame
    pkt = decode(bytes(raw), LinkType.IPV6)
    assert not pkt.problems and pkt.tcp is not None and pkt.tcp.payload_length == 3
    past = decode(bytes(raw[:50]), LinkType.IPV6, wirelen=len(raw))
    assert past.short and not past.malformed and isinstance(past.problems[0], TruncatedError)


def test_extension_header_chain_that_loops_or_runs_past_the_data() -> None:
    head = struct.pack(">IHBB", 6 << 28, 800, 0, 64) + bytes(32)
    loop = head + b"\x00\x00" + bytes(6) * 1 + (b"\x00\x00" + bytes(6)) * 99  # HBH -> HBH ...
    pkt = decode(loop, LinkType.IPV6)
    assert len(pkt.layer(IPv6).extensions) == 100  # each header takes 8 bytes: the walk ends
    one(pkt, BoundsError, "next_header")  # the 101st would start where the packet ends
    assert pkt.problems[0].offset == 40 + 800
    past = bytearray(head + b"\x06\xff" + bytes(6))
    struct.pack_into(">H", past, 4, 8)
    one(decode(bytes(past), LinkType.IPV6), BoundsError, "length")


def test_tcp_data_offset_below_five_or_past_the_captured_bytes() -> None:
    one(decode(tcp(data_offset=4), RAW), InvalidFieldError, "data_offset")
    raw = tcp(mss=1460, timestamps=(1, 2))
    pkt = decode(raw[:45], RAW, wirelen=len(raw))
    one(pkt, TruncatedError, "options")
    assert pkt.tcp is not None and pkt.tcp.options[0].value == 1460  # options that fit
    one(decode(tcp(data_offset=15), RAW), BoundsError, "data_offset")


@pytest.mark.parametrize("space", [b"\x02\x00\x00\x00", b"\x02\x01\x00\x00", b"\x01\x08\x0a\x00"])
def test_option_length_zero_one_or_past_the_option_space(space: bytes) -> None:
    pkt = decode(tcp(options_raw=space), RAW)
    one(pkt, OptionError, "option_len")
    assert pkt.tcp is not None and pkt.tcp.padding.endswith(space.lstrip(b"\x01"))
    assert not pkt.malformed


def test_bytes_after_eol_are_padding_but_listed_as_tshark_does() -> None:
    pkt = decode(tcp(options_raw=b"\x00\x00\x01\x00"), RAW)
    assert not pkt.problems and pkt.tcp is not None and pkt.tcp.padding == b"\x00\x01\x00"
    assert tshark_fields(pkt)["tcp.option_kind"] == [0, 0, 1, 0]


def test_sack_length_not_two_plus_eight_n() -> None:
    pkt = decode(tcp(options_raw=b"\x05\x06" + bytes(4) + bytes(4)), RAW)
    one(pkt, OptionError, "option_len")
    assert pkt.tcp is not None and pkt.tcp.options[0].value == bytes(4)  # kept raw


def test_window_scale_shift_above_fourteen() -> None:
    pkt = decode(tcp(options_raw=b"\x03\x03\x0f\x00"), RAW)
    one(pkt, OptionError, "wscale.shift")
    fields = tshark_fields(pkt)
    assert fields["tcp.options.wscale.shift"] == 15
    assert fields["tcp.options.wscale.multiplier"] == 1 << 14


def test_udp_length_below_eight_or_past_the_datagram() -> None:
    one(decode(udp(length=7), RAW), InvalidFieldError, "length")
    one(decode(udp(length=300), RAW), InvalidFieldError, "length")


def test_bad_checksums_are_a_status_not_an_error() -> None:
    pkt = decode(tcp(checksum=0xDEAD), RAW)
    assert not pkt.problems and pkt.tcp is not None
    assert pkt.tcp.checksum_status is ChecksumStatus.BAD


def test_pcap_record_length_above_the_snap_length_or_a_sane_bound() -> None:
    good = pcap_bytes([tcp(), tcp()])
    huge = bytearray(good)
    struct.pack_into("<I", huge, 24 + 16 + len(tcp()) + 8, 0xFFFFFFFF)  # second record: 4 GB
    count, damage = read_all(bytes(huge))
    assert count == 1 and damage is not None and damage.field == "incl_len"
    assert damage.offset == 24 + 16 + len(tcp()) + 8
    big = bytearray(good)
    struct.pack_into("<I", big, 16, 20)  # snap length 20 < records: read, as tshark does
    assert read_all(bytes(big)) == (2, None)
    with pytest.raises(CaptureFileError, match="snap length"):
        list(read_capture(io.BytesIO(bytes(big)), strict=True))


@pytest.mark.parametrize(
    ("patch", "reason"),
    [(13, "not a multiple of 4"), (8, "less than the minimum"), (4000, "runs past")],
)
def test_pcapng_block_length_damage(patch: int, reason: str) -> None:
    buf = io.BytesIO()
    with PcapngWriter(buf, interfaces=[RAW]) as w:
        w.write(tcp(), timestamp_ns=1)
        w.write(tcp(), timestamp_ns=2)
    data = bytearray(buf.getvalue())
    blocks = []  # where every block starts, walked by block_total_length
    at = 0
    while at < len(data):
        blocks.append(at)
        at += struct.unpack_from("<I", data, at + 4)[0]
    second = blocks[-1]
    struct.pack_into("<I", data, second + 4, patch)
    with pytest.raises(CaptureFileError, match=reason) as err:
        list(read_capture(io.BytesIO(bytes(data)), strict=True))
    assert err.value.layer == "pcapng" and err.value.field == "block_total_length"
    assert err.value.offset == second + 4
    count, _ = read_all(bytes(data))
    assert count >= 1  # every whole block before the damage


def test_unknown_link_type_keeps_the_bytes() -> None:
    pkt = decode(b"\x01\x02\x03\x04", 147)
    assert pkt.layers == [UnknownLink(147, "LINKTYPE_147", b"\x01\x02\x03\x04")]
    assert not pkt.problems


def test_file_cut_mid_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cut.pcap"
    path.write_bytes(pcap_bytes([tcp(), tcp(), tcp()])[:-10])
    count, damage = read_all(path.read_bytes())
    assert count == 2 and isinstance(damage, TruncatedError) and damage.layer == "pcap"
    assert main(["decode", str(path)]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2 and "warning: pcap.packet_data" in err


def test_not_a_capture_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(CaptureFileError, match="not a pcap or pcapng file"):
        read_capture(path)
    assert main(["decode", str(path)]) == 1
    assert "pcap.magic_number at byte 0" in capsys.readouterr().err
