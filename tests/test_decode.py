"""Decoding: every layer, every bad input named by layer, field and offset."""

from __future__ import annotations

import struct

import pytest

from headerkit.errors import (
    BoundsError,
    DecodeError,
    InvalidFieldError,
    OptionError,
    TruncatedError,
)
from headerkit.packet.build import build
from headerkit.packet.decode import decode
from headerkit.packet.layers import (
    TCP,
    UDP,
    Encapsulation,
    Ethernet,
    IPv4,
    IPv6,
    IPv6Extension,
    LinuxSLL,
    LinuxSLL2,
    Null,
    TcpOption,
    UnknownLink,
    Vlan,
)
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.linktypes import LinkType

ETH = Ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800)


def tcp_packet(**tcp: object) -> bytes:
    seg = TCP(**{"srcport": 40000, "dstport": 80, "seq": 1000, "flags": 0x018, **tcp})  # type: ignore[arg-type]
    return build([ETH, IPv4(protocol=6, src="192.0.2.1", dst="198.51.100.2"), seg], b"hello")


def udp_packet(payload: bytes = b"ping", **udp: object) -> bytes:
    dgram = UDP(**{"srcport": 5353, "dstport": 53, **udp})  # type: ignore[arg-type]
    return build([ETH, IPv4(protocol=17, src="192.0.2.1", dst="198.51.100.2"), dgram], payload)


def only_problem(raw: bytes, **kw: object) -> DecodeError:
    pkt = decode(raw, **kw)  # type: ignore[arg-type]
    assert len(pkt.problems) == 1, pkt.problems
    return pkt.problems[0]


def test_a_clean_segment_decodes_every_layer() -> None:
    pkt = decode(tcp_packet(options=[TcpOption(2, 4, 1460), TcpOption(1), TcpOption(3, 3, 7)]))
    assert [type(x) for x in pkt.layers] == [Ethernet, IPv4, TCP]
    assert pkt.tcp is not None and pkt.tcp.flag_names == ["PSH", "ACK"]
    assert pkt.tcp.option(2) == TcpOption(2, 4, 1460)
    assert pkt.tcp.header_length == 28
    assert pkt.payload == b"hello" and pkt.tcp.payload_length == 5
    assert pkt.tcp.checksum_status is ChecksumStatus.GOOD
    assert not pkt.problems and not pkt.malformed


def test_truncated_ip_header_keeps_the_fields_that_fit() -> None:
    raw = tcp_packet()[: 14 + 6]
    pkt = decode(raw, wirelen=100)
    ip = pkt.layer(IPv4)
    assert (ip.version, ip.ihl, ip.total_length, ip.identification) == (4, 5, 45, 0)
    assert ip.ttl is None and ip.src is None
    err = pkt.problems[0]
    assert isinstance(err, TruncatedError) and (err.layer, err.offset) == ("ip", 14)
    assert pkt.short and not pkt.malformed


def test_truncated_tcp_header_shows_ports_only_like_tshark() -> None:
    pkt = decode(tcp_packet()[: 14 + 20 + 10], wirelen=200)
    assert pkt.tcp is not None and (pkt.tcp.srcport, pkt.tcp.dstport) == (40000, 80)
    assert pkt.tcp.seq is None
    err = pkt.problems[0]
    assert isinstance(err, TruncatedError) and (err.layer, err.field, err.offset) == (
        "tcp",
        "seq",
        34,
    )


def test_ihl_below_five_is_an_invalid_field() -> None:
    raw = bytearray(tcp_packet())
    raw[14] = 0x44
    err = only_problem(bytes(raw))
    assert isinstance(err, InvalidFieldError)
    assert (err.layer, err.field, err.offset) == ("ip", "ihl", 14)
    assert "must be at least 20" in err.reason


def test_total_length_below_header_length() -> None:
    raw = bytearray(tcp_packet())
    struct.pack_into(">H", raw, 16, 12)
    err = only_problem(bytes(raw))
    assert isinstance(err, InvalidFieldError) and (err.field, err.offset) == ("total_length", 16)


def test_data_offset_below_five() -> None:
    err = decode(tcp_packet(data_offset=4)).problems[0]
    assert isinstance(err, InvalidFieldError)
    assert (err.layer, err.field, err.offset) == ("tcp", "data_offset", 46)


def test_data_offset_past_the_segment_is_malformed() -> None:
    pkt = decode(tcp_packet(data_offset=15))  # 60-byte header, 25-byte segment
    err = pkt.problems[0]
    assert isinstance(err, BoundsError) and err.field == "data_offset"
    assert pkt.malformed
    assert pkt.tcp is not None and pkt.tcp.seq == 1000  # the fixed header still decodes


def test_data_offset_past_the_capture_is_short_not_malformed() -> None:
    raw = tcp_packet(options=[TcpOption(2, 4, 1460)] * 4)
    pkt = decode(raw[:-10], wirelen=len(raw))
    assert pkt.short and not pkt.malformed
    assert isinstance(pkt.problems[0], TruncatedError)


@pytest.mark.parametrize(
    ("space", "offset", "reason"),
    [
        (b"\x02\x00\x00\x00", 55, "length 0 < 2"),
        (b"\x01\x08\x01\x00", 56, "length 1 < 2"),
        (b"\x01\x01\x08\x0a\x00\x00\x00\x00", 57, "runs past the options"),
        (b"\x01\x01\x01\x1e", 58, "no length byte"),
    ],
)
def test_bad_option_lengths(space: bytes, offset: int, reason: str) -> None:
    pkt = decode(tcp_packet(padding=space))
    err = pkt.problems[0]
    assert isinstance(err, OptionError) and err.offset == offset and reason in err.reason
    assert pkt.tcp is not None and bytes(pkt.tcp.padding).endswith(space[offset - 54 :])
    assert not pkt.malformed  # as tshark: an expert error, not a malformed packet


def test_sack_and_window_scale_values_are_checked() -> None:
    pkt = decode(tcp_packet(padding=b"\x05\x06" + bytes(4) + b"\x03\x03\x0f\x00"))
    assert [p.reason for p in pkt.problems] == ["SACK length 6 is not 2 + 8n", "shift 15 > 14"]


def test_bytes_after_eol_are_padding() -> None:
    pkt = decode(tcp_packet(padding=b"\x00\x02\x04\x05"))
    assert pkt.tcp is not None and [o.kind for o in pkt.tcp.options] == [0]
    assert pkt.tcp.padding == b"\x02\x04\x05"


def test_udp_length_below_eight_and_past_the_datagram() -> None:
    err = only_problem(udp_packet(length=7))
    assert isinstance(err, InvalidFieldError) and (err.layer, err.field, err.offset) == (
        "udp",
        "length",
        38,
    )
    err = only_problem(udp_packet(length=200))
    assert isinstance(err, InvalidFieldError) and "200 > the 12-byte IP payload" in err.reason


def test_udp_checksum_zero_means_none_on_ipv4_and_illegal_on_ipv6() -> None:
    assert decode(udp_packet(checksum=0)).udp.checksum_status is ChecksumStatus.NOT_PRESENT  # type: ignore[union-attr]
    raw = build([IPv6(next_header=17, src="::1", dst="::2"), UDP(srcport=1, dstport=2, checksum=0)])
    assert decode(raw, LinkType.IPV6).udp.checksum_status is ChecksumStatus.ILLEGAL  # type: ignore[union-attr]


def test_bad_checksums_are_reported_per_layer() -> None:
    pkt = decode(tcp_packet(checksum=0x1234))
    assert pkt.tcp is not None and pkt.tcp.checksum_status is ChecksumStatus.BAD
    assert pkt.layer(IPv4).checksum_status is ChecksumStatus.GOOD


def test_strict_mode_raises_the_first_problem() -> None:
    with pytest.raises(InvalidFieldError, match=r"tcp.data_offset at byte 46"):
        decode(tcp_packet(data_offset=3), strict=True)


def test_non_first_fragment_carries_no_transport_header() -> None:
    raw = build(
        [IPv4(protocol=6, src="10.0.0.1", dst="10.0.0.2", flags=0, frag_offset=100)], b"x" * 30
    )
    pkt = decode(raw, LinkType.RAW)
    assert pkt.tcp is None and pkt.notes == ["non-first IPv4 fragment: carries no transport header"]
    assert not pkt.problems


def test_first_fragment_decodes_tcp_without_length_or_checksum() -> None:
    ip = IPv4(protocol=6, src="10.0.0.1", dst="10.0.0.2", flags=1)
    pkt = decode(build([ip, TCP(srcport=1, dstport=2)], b"x" * 40), LinkType.RAW)
    assert pkt.tcp is not None and pkt.tcp.payload_length is None
    assert pkt.tcp.checksum_status is ChecksumStatus.UNVERIFIED


def test_ipv6_extension_chain_to_tcp() -> None:
    exts = [
        IPv6Extension(0, 60, 8, bytes(6)),
        IPv6Extension(60, 43, 8, bytes(6)),
        IPv6Extension(43, 6, 8, b"\x00\x00" + bytes(4)),
    ]
    raw = build(
        [
            IPv6(next_header=0, src="2001:db8::1", dst="2001:db8::2", extensions=exts),
            TCP(srcport=1, dstport=2),
        ],
        b"abc",
    )
    pkt = decode(raw, LinkType.IPV6, strict=True)
    ip = pkt.layer(IPv6)
    assert [e.header for e in ip.extensions] == [0, 60, 43]
    assert pkt.tcp is not None and pkt.tcp.checksum_status is ChecksumStatus.GOOD


def test_ipv6_extension_past_the_packet_is_malformed() -> None:
    raw = bytearray(
        build(
            [
                IPv6(
                    next_header=0,
                    src="::1",
                    dst="::2",
                    extensions=[IPv6Extension(0, 6, 8, bytes(6))],
                ),
                TCP(srcport=1, dstport=2),
            ]
        )
    )
    raw[41] = 200  # hdr_ext_len: 1608 bytes
    pkt = decode(bytes(raw), LinkType.IPV6)
    assert pkt.malformed and pkt.problems[0].layer == "ipv6.ext" and pkt.problems[0].offset == 41


@pytest.mark.parametrize("order", ["little", "big"])
def test_bsd_null_in_either_byte_order(order: str) -> None:
    inner = build([IPv4(protocol=17, src="127.0.0.1", dst="127.0.0.1"), UDP(srcport=1, dstport=2)])
    pkt = decode((2).to_bytes(4, order) + inner, LinkType.NULL)  # type: ignore[arg-type]
    assert pkt.layers[0] == Null(2, order) and pkt.udp is not None


def test_linux_sll_and_sll2() -> None:
    inner = build([IPv4(protocol=17, src="127.0.0.1", dst="127.0.0.1"), UDP(srcport=1, dstport=2)])
    sll = struct.pack(">HHH8sH", 0, 1, 6, bytes(8), 0x0800)
    assert isinstance(decode(sll + inner, LinkType.LINUX_SLL).layers[0], LinuxSLL)
    sll2 = struct.pack(">HHIHBB8s", 0x0800, 0, 3, 1, 0, 6, bytes(8))
    pkt = decode(sll2 + inner, LinkType.LINUX_SLL2)
    assert (
        isinstance(pkt.layers[0], LinuxSLL2) and pkt.layers[0].ifindex == 3 and pkt.udp is not None
    )


def test_stacked_vlan_tags() -> None:
    inner = build([IPv4(protocol=17, src="10.0.0.1", dst="10.0.0.2"), UDP(srcport=1, dstport=2)])
    tags = struct.pack(">HHHHHH", 0x88A8, 10, 0x8100, 20, 0x8100, 30) + struct.pack(">H", 0x0800)
    pkt = decode(bytes(12) + tags + inner)
    assert [(v.tpid, v.vid) for v in pkt.layers if isinstance(v, Vlan)] == [
        (0x88A8, 10),
        (0x8100, 20),
        (0x8100, 30),
    ]
    assert pkt.udp is not None


def test_pppoe_session_over_ethernet() -> None:
    inner = build([IPv4(protocol=17, src="10.0.0.1", dst="10.0.0.2"), UDP(srcport=1, dstport=2)])
    raw = (
        bytes(12) + b"\x88\x64" + struct.pack(">BBHHH", 0x11, 0, 1, len(inner) + 2, 0x0021) + inner
    )
    pkt = decode(raw)
    assert any(isinstance(x, Encapsulation) and x.kind == "pppoe" for x in pkt.layers)
    assert pkt.udp is not None


def test_unknown_link_type_is_kept_as_bytes() -> None:
    pkt = decode(b"\x01\x02\x03", 147)
    assert pkt.layers == [UnknownLink(147, "LINKTYPE_147", b"\x01\x02\x03")]


def test_raw_ip_picks_the_version_from_the_first_nibble() -> None:
    inner = build([IPv6(next_header=17, src="::1", dst="::2"), UDP(srcport=1, dstport=2)])
    assert isinstance(decode(inner, LinkType.RAW).layers[0], IPv6)
    assert isinstance(decode(inner, LinkType.IPV4).layers[0], IPv6)  # as tshark does


def test_tso_zero_total_length_takes_the_frame_length() -> None:
    raw = bytearray(tcp_packet())
    struct.pack_into(">H", raw, 16, 0)
    pkt = decode(bytes(raw))
    assert pkt.layer(IPv4).total_length == 0
    assert pkt.layer(IPv4).tso_length == len(raw) - 14
    assert pkt.tcp is not None and pkt.tcp.payload_length == 5


def test_offloaded_checksum_is_bad_with_a_note_saying_why() -> None:
    """Linux leaves only the pseudo-header sum in loopback segments (checksum offload)."""
    from headerkit.packet.decode import OFFLOAD
    from headerkit.packet.summary import summary_line
    from headerkit.schemas.checksum import pseudo_header_sum

    partial = pseudo_header_sum(bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2]), 6, 25) % 0xFFFF
    pkt = decode(tcp_packet(checksum=partial))
    assert pkt.tcp is not None and pkt.tcp.checksum_status is ChecksumStatus.BAD
    assert any(OFFLOAD in n for n in pkt.notes)
    assert "[partial checksum: offload]" in summary_line(pkt)
    other = decode(tcp_packet(checksum=partial ^ 1))
    assert not other.notes and "[bad tcp checksum]" in summary_line(other)
