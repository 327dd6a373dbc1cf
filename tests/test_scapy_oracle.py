"""scapy as a second opinion: packets it builds decode to the same values in headerkit, and
packets headerkit builds parse in scapy to the values given (checksums included)."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6

from headerkit import craft
from headerkit.packet.decode import decode
from headerkit.packet.layers import TcpOption
from headerkit.schemas import tcp as t
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.linktypes import LinkType
from tests.strategies import ipv4_addr, ipv6_addr, u16, u32

EXAMPLES = settings(max_examples=40, deadline=None)

ports = st.integers(1, 0xFFFF)
payloads = st.binary(max_size=64)
addresses = st.one_of(st.tuples(ipv4_addr, ipv4_addr), st.tuples(ipv6_addr, ipv6_addr))

# (scapy's option, headerkit's kind and value), for the options scapy builds by name
scapy_option = st.one_of(
    st.just((("NOP", None), (t.NOP, None))),
    u16.map(lambda v: (("MSS", v), (t.MSS, v))),
    st.integers(0, 14).map(lambda v: (("WScale", v), (t.WINDOW_SCALE, v))),
    st.just((("SAckOK", b""), (t.SACK_PERMITTED, None))),
    st.tuples(u32, u32).map(lambda v: (("Timestamp", v), (t.TIMESTAMPS, v))),
    st.lists(st.tuples(u32, u32), min_size=1, max_size=3).map(
        lambda b: (("SAck", tuple(x for e in b for x in e)), (t.SACK, tuple(b)))
    ),
)
_SIZES = {"NOP": 1, "MSS": 4, "WScale": 3, "SAckOK": 2, "Timestamp": 10}


def _size(option: tuple[str, Any]) -> int:
    name, value = option
    return _SIZES[name] if name != "SAck" else 2 + 4 * len(value)


scapy_options = st.lists(scapy_option, max_size=5).filter(
    lambda opts: sum(_size(o) for o, _ in opts) <= 40
)


def _ip(src: str, dst: str, ttl: int) -> Any:
    return IPv6(src=src, dst=dst, hlim=ttl) if ":" in src else IP(src=src, dst=dst, ttl=ttl)


@EXAMPLES
@given(
    addresses,
    ports,
    ports,
    u32,
    u32,
    st.integers(0, 0xFFF),
    u16,
    u16,
    scapy_options,
    payloads,
    st.integers(1, 255),
)
def test_scapy_built_tcp_decodes_to_the_same_values(
    addrs: tuple[str, str],
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    window: int,
    urgptr: int,
    options: list[tuple[tuple[str, Any], tuple[int, Any]]],
    payload: bytes,
    ttl: int,
) -> None:
    segment = TCP(
        sport=sport,
        dport=dport,
        seq=seq,
        ack=ack,
        flags=flags & 0x1FF,
        reserved=flags >> 9,
        window=window,
        urgptr=urgptr,
        options=[o for o, _ in options],
    )
    data = bytes(_ip(*addrs, ttl) / segment / payload)
    pkt = decode(data, LinkType.RAW, strict=True)
    seg, ip = pkt.tcp, pkt.ip
    assert seg is not None and ip is not None
    assert (_addr(ip.src), _addr(ip.dst)) == (_addr(addrs[0]), _addr(addrs[1]))
    assert (seg.srcport, seg.dstport, seg.seq, seg.ack) == (sport, dport, seq, ack)
    assert (seg.flags, seg.window, seg.urgent_pointer) == (flags, window, urgptr)
    assert [(o.kind, o.value) for o in seg.options if o.kind != t.EOL] == [h for _, h in options]
    assert seg.checksum_status is ChecksumStatus.GOOD
    assert seg.checksum == _parse(data)[TCP].chksum
    assert pkt.payload == payload


@EXAMPLES
@given(addresses, ports, ports, payloads)
def test_scapy_built_udp_decodes_to_the_same_values(
    addrs: tuple[str, str], sport: int, dport: int, payload: bytes
) -> None:
    data = bytes(_ip(*addrs, 64) / UDP(sport=sport, dport=dport) / payload)
    dgram = decode(data, LinkType.RAW, strict=True).udp
    assert dgram is not None
    assert (dgram.srcport, dgram.dstport, dgram.length) == (sport, dport, 8 + len(payload))
    assert dgram.checksum == _parse(data)[UDP].chksum
    assert dgram.checksum_status is ChecksumStatus.GOOD


def _fits(named: dict[str, Any]) -> bool:
    """The options and one more NOP fit the 40-byte option space."""
    return sum(len(craft.option_bytes(o)) for o in craft.tcp_options(**named)) < 40


# headerkit's options by name (craft.tcp's arguments)
named_options: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {},
    optional={
        "mss": u16,
        "wscale": st.integers(0, 14),
        "sack_perm": st.booleans(),
        "timestamps": st.tuples(u32, u32),
        "sack": st.lists(st.tuples(u32, u32), min_size=1, max_size=2),
    },
).filter(_fits)


def _expected_scapy_options(named: dict[str, Any]) -> list[tuple[str, Any]]:
    opts = craft.tcp_options(**named)
    names = {t.MSS: "MSS", t.WINDOW_SCALE: "WScale", t.SACK_PERMITTED: "SAckOK", t.NOP: "NOP"}
    out: list[tuple[str, Any]] = []
    for opt in opts:
        if opt.kind == t.TIMESTAMPS:
            out.append(("Timestamp", opt.value))
        elif opt.kind == t.SACK:
            out.append(("SAck", tuple(x for edge in opt.value for x in edge)))
        else:
            value = b"" if opt.kind == t.SACK_PERMITTED else opt.value
            out.append((names[opt.kind], value))
    return out


@EXAMPLES
@given(
    addresses,
    ports,
    ports,
    u32,
    u32,
    st.integers(0, 0x1FF),
    u16,
    named_options,
    payloads,
)
def test_headerkit_built_tcp_parses_in_scapy_to_the_values_given(
    addrs: tuple[str, str],
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    window: int,
    named: dict[str, Any],
    payload: bytes,
) -> None:
    crafted = craft.tcp(
        src=addrs[0],
        dst=addrs[1],
        sport=sport,
        dport=dport,
        seq=seq,
        ack=ack,
        flags=flags,
        window=window,
        payload=payload,
        options=[TcpOption(t.NOP)],  # one more, so padding is exercised too
        **named,
    )
    parsed = _parse(crafted.data)
    seg = parsed[TCP]
    assert (seg.sport, seg.dport, seg.seq, seg.ack) == (sport, dport, seq, ack)
    assert (int(seg.flags), seg.window) == (flags, window)
    expected = [*_expected_scapy_options(named), ("NOP", None)]
    assert [o for o in seg.options if o[0] != "EOL"] == expected
    assert bytes(seg.payload) == payload
    assert seg.chksum == _scapy_checksum(parsed, TCP)


@EXAMPLES
@given(addresses, ports, ports, payloads)
def test_headerkit_built_udp_parses_in_scapy_to_the_values_given(
    addrs: tuple[str, str], sport: int, dport: int, payload: bytes
) -> None:
    crafted = craft.udp(src=addrs[0], dst=addrs[1], sport=sport, dport=dport, payload=payload)
    parsed = _parse(crafted.data)
    dgram = parsed[UDP]
    assert (dgram.sport, dgram.dport, dgram.len) == (sport, dport, 8 + len(payload))
    assert bytes(dgram.payload) == payload
    assert dgram.chksum == _scapy_checksum(parsed, UDP)


def _parse(data: bytes) -> Any:
    return IPv6(data) if data[0] >> 4 == 6 else IP(data)


def _scapy_checksum(parsed: Any, layer: Any) -> int:
    """The checksum scapy computes for the same packet."""
    fresh = parsed.copy()
    del fresh[layer].chksum
    checksum: int = _parse(bytes(fresh))[layer].chksum
    return checksum


def _addr(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as a value: text forms differ (``::ffff:0:0`` is ``::ffff:0.0.0.0``)."""
    assert text is not None
    return ipaddress.ip_address(text)
