"""One schema, both directions: parse(build(x)) == x and build(parse(b)) == b."""

from __future__ import annotations

from pathlib import Path

import construct as cs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from headerkit.packet.build import build, option_bytes
from headerkit.packet.decode import decode
from headerkit.packet.layers import TCP, UDP, Ethernet, IPv4, IPv6, IPv6Extension, Vlan
from headerkit.packet.options import parse_options
from headerkit.schemas import tcp as t
from headerkit.schemas import tunnels
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.ipv4 import IPV4_HEADER
from headerkit.schemas.linktypes import LinkType
from headerkit.schemas.tcp import TCP_HEADER
from headerkit.schemas.tcp_options import TCP_OPTIONS
from headerkit.schemas.udp import UDP_HEADER
from tests import strategies as hs

FIXED_TCP = ("srcport", "dstport", "seq", "ack", "flags", "window", "urgent_pointer")


def assert_options(got: TCP, sent: TCP) -> None:
    """The options come back in order; zero padding to 32 bits reads as EOL."""
    assert got.options[: len(sent.options)] == sent.options
    rest = got.options[len(sent.options) :]
    assert [o.kind for o in rest] in ([], [t.EOL])
    assert set(got.padding) <= {0}


@given(seg=hs.tcp_segment(), ip=hs.ipv4_header(6), payload=st.binary(max_size=64))
def test_tcp_over_ipv4_round_trip(seg: TCP, ip: IPv4, payload: bytes) -> None:
    raw = build([ip, seg], payload)
    pkt = decode(raw, LinkType.RAW, strict=True)
    got = pkt.tcp
    assert got is not None
    assert {k: getattr(got, k) for k in FIXED_TCP} == {k: getattr(seg, k) for k in FIXED_TCP}
    assert_options(got, seg)
    assert got.checksum_status is ChecksumStatus.GOOD
    assert pkt.layer(IPv4).checksum_status is ChecksumStatus.GOOD
    assert pkt.payload == payload
    assert got.header_length is not None and got.header_length % 4 == 0
    assert build(pkt.layers, pkt.payload) == raw


@given(seg=hs.tcp_segment(), ip=hs.ipv6_header(6), payload=st.binary(max_size=64))
def test_tcp_over_ipv6_round_trip(seg: TCP, ip: IPv6, payload: bytes) -> None:
    raw = build([ip, seg], payload)
    pkt = decode(raw, LinkType.IPV6, strict=True)
    assert pkt.tcp is not None
    assert_options(pkt.tcp, seg)
    assert pkt.tcp.checksum_status is ChecksumStatus.GOOD
    assert pkt.layer(IPv6).payload_length == len(raw) - 40
    assert build(pkt.layers, pkt.payload) == raw


@given(dgram=hs.udp_datagram(), v6=st.booleans(), data=st.data(), payload=st.binary(max_size=64))
def test_udp_round_trip(dgram: UDP, v6: bool, data: st.DataObject, payload: bytes) -> None:
    # a tunnel's port makes the payload a tunnel header, which an arbitrary payload is not
    tunnel_ports = {tunnels.VXLAN_PORT, tunnels.GENEVE_PORT, tunnels.GTPU_PORT}
    assume(not {dgram.srcport, dgram.dstport} & tunnel_ports)
    ip = data.draw(hs.ipv6_header(17) if v6 else hs.ipv4_header(17))
    raw = build(
        [Ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x86DD if v6 else 0x0800), ip, dgram],
        payload,
    )
    pkt = decode(raw, strict=True)
    assert pkt.udp is not None
    assert (pkt.udp.srcport, pkt.udp.dstport, pkt.udp.length) == (
        dgram.srcport,
        dgram.dstport,
        8 + len(payload),
    )
    assert pkt.udp.checksum != 0  # a computed 0 goes out as 0xFFFF
    assert pkt.udp.checksum_status is ChecksumStatus.GOOD
    assert build(pkt.layers, pkt.payload) == raw


@given(options=hs.tcp_options())
def test_option_walk_equals_schema(options: list) -> None:
    """The fast option walk and the construct schema read the same option bytes alike."""
    space = b"".join(option_bytes(o) for o in options) + b"\x00"
    walked, padding = parse_options(space, 0, len(space), lambda e: pytest.fail(str(e)))
    assert walked[:-1] == options and walked[-1].kind == t.EOL and padding == b""
    parsed = TCP_OPTIONS.parse(space)
    assert [o.kind for o in parsed] == [o.kind for o in walked]
    for opt, con in zip(walked, parsed, strict=True):
        if con.length is not None:
            assert opt.length == con.length
            assert option_bytes(opt) == TCP_OPTION_BYTES(con)


def TCP_OPTION_BYTES(con: cs.Container) -> bytes:
    from headerkit.schemas.tcp_options import TCP_OPTION

    data: bytes = TCP_OPTION.build(con)
    return data


@given(
    fields=st.fixed_dictionaries(
        {"srcport": hs.u16, "dstport": hs.u16, "seq": hs.u32, "ack": hs.u32, "window": hs.u16}
    ),
    flags=st.integers(0, 0xFFF),
    words=st.integers(0, 10),
)
def test_tcp_schema_parse_build(fields: dict, flags: int, words: int) -> None:
    value = dict(
        fields,
        offset_flags={"data_offset": 5 + words, "flags": flags},
        checksum=1,
        urgent_pointer=2,
        options=bytes(range(4 * words)),
    )
    parsed = TCP_HEADER.parse(TCP_HEADER.build(value))
    assert {k: parsed[k] for k in value if k != "offset_flags"} == {
        k: v for k, v in value.items() if k != "offset_flags"
    }
    assert {k: parsed.offset_flags[k] for k in ("data_offset", "flags")} == value["offset_flags"]


@given(
    src=st.binary(min_size=4, max_size=4),
    dst=st.binary(min_size=4, max_size=4),
    opts=st.integers(0, 10),
    plen=st.integers(0, 1000),
)
def test_ipv4_schema_derives_lengths(src: bytes, dst: bytes, opts: int, plen: int) -> None:
    value = {
        "version_ihl": {},
        "flags_fragment": {},
        "protocol": 6,
        "src": src,
        "dst": dst,
        "options": bytes(4 * opts),
    }
    parsed = IPV4_HEADER.parse(IPV4_HEADER.build(value, payload_length=plen))
    assert parsed.version_ihl.ihl == 5 + opts
    assert parsed.total_length == 20 + 4 * opts + plen
    assert (parsed.src, parsed.dst, parsed.options) == (src, dst, bytes(4 * opts))


def test_udp_schema_length_is_header_plus_data() -> None:
    assert (
        UDP_HEADER.parse(UDP_HEADER.build({"srcport": 1, "dstport": 2}, payload_length=5)).length
        == 13
    )


def test_forced_fields_are_written_as_given() -> None:
    ip = IPv4(protocol=6, src="10.0.0.1", dst="10.0.0.2", checksum=0x1234)
    seg = TCP(srcport=1, dstport=2, data_offset=4, checksum=0xBEEF)
    pkt = decode(build([ip, seg]), LinkType.RAW)
    assert (
        pkt.layer(IPv4).checksum == 0x1234 and pkt.layer(IPv4).checksum_status is ChecksumStatus.BAD
    )
    assert pkt.tcp is not None and pkt.tcp.data_offset == 4 and pkt.tcp.checksum == 0xBEEF
    assert [p.field for p in pkt.problems] == ["data_offset"]


def test_vlan_stack_and_ipv6_extensions_build_back() -> None:
    layers = [
        Ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x88A8),
        Vlan(0x88A8, 1, False, 100, 0x8100),
        Vlan(0x8100, 0, True, 200, 0x86DD),
        IPv6(
            next_header=0,
            src="2001:db8::1",
            dst="2001:db8::2",
            extensions=[
                IPv6Extension(0, 44, 8, bytes(6)),
                IPv6Extension(44, 17, 8, bytes(6), 0, False, 7),
            ],
        ),
        UDP(srcport=1000, dstport=2000),
    ]
    raw = build(layers, b"data")
    pkt = decode(raw, strict=True)
    assert [type(x).__name__ for x in pkt.layers] == ["Ethernet", "Vlan", "Vlan", "IPv6", "UDP"]
    assert [v.vid for v in pkt.layers[1:3]] == [100, 200]
    assert pkt.udp is not None and pkt.udp.checksum_status is ChecksumStatus.GOOD
    assert build(pkt.layers, pkt.payload) == raw


def _corpus_packets(corpus: Path):  # type: ignore[no-untyped-def]
    from headerkit.captures.decoded import decode_capture

    for path in sorted((corpus / "pcaps").iterdir()):
        yield from decode_capture(path)


def test_real_packets_build_back_to_their_bytes(corpus: Path) -> None:
    """build(parse(b)) == b for every corpus packet headerkit decodes cleanly."""
    checked = 0
    for pkt in _corpus_packets(corpus):
        if (
            pkt.problems
            or pkt.payload_offset is None
            or not all(
                type(x).__name__
                in {
                    "Ethernet",
                    "Vlan",
                    "LinuxSLL",
                    "LinuxSLL2",
                    "Null",
                    "IPv4",
                    "IPv6",
                    "TCP",
                    "UDP",
                }
                for x in pkt.layers
            )
        ):
            continue
        assert build(pkt.layers, pkt.data[pkt.payload_offset :]) == pkt.data, pkt
        checked += 1
    assert checked > 5000
