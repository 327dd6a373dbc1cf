"""Lazy packets: nothing is decoded before it is read, and what is read equals what the
general decoder finds when it does all its work at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import headerkit.packet.decode as decode_module
from headerkit.captures import read_capture
from headerkit.captures.decoded import decode_capture
from headerkit.packet.build import build
from headerkit.packet.decode import Packet, decode
from headerkit.packet.layers import Ethernet, Vlan
from headerkit.schemas import ipproto
from headerkit.schemas.linktypes import LinkType
from tests import strategies as hs


def eager(data: bytes, linktype: int, wirelen: int) -> Packet:
    """The packet as the general decoder finds it, every deferred part done at once."""
    pkt = Packet(data, linktype, wirelen)
    pkt._decoded = True
    decode_module._Decoder(pkt, False).run()
    pkt._finish()
    return pkt


def view(pkt: Packet, *, options_first: bool = False) -> dict[str, Any]:
    """Everything a reader sees of a packet; ``options_first`` reads the deferred fields
    before the problems, so that the order of reading is exercised too."""
    if options_first:
        for layer in pkt.layers:
            for name in ("options", "checksum_status"):
                getattr(layer, name, None)
    return {
        "layers": [(type(x).__name__, x.fields()) for x in pkt.layers],
        "problems": [(type(p).__name__, str(p)) for p in pkt.problems],
        "notes": list(pkt.notes),
        "payload": pkt.payload,
        "fragment": pkt.fragment,
        "ip": pkt.layers.index(pkt.ip) if pkt.ip is not None else None,
        "tcp": pkt.layers.index(pkt.tcp) if pkt.tcp is not None else None,
        "udp": pkt.layers.index(pkt.udp) if pkt.udp is not None else None,
        "malformed": pkt.malformed,
    }


def test_nothing_is_parsed_or_checksummed_before_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: dict[str, int] = {"walk": 0, "sum": 0, "decode": 0}
    walk, checksum = decode_module.parse_options, decode_module.internet_checksum
    common, general = decode_module._common_frame, decode_module._Decoder.run

    def counted(name: str, fn: Any) -> Any:
        def inner(*args: Any, **kw: Any) -> Any:
            calls[name] += 1
            return fn(*args, **kw)

        return inner

    monkeypatch.setattr(decode_module, "parse_options", counted("walk", walk))
    monkeypatch.setattr(decode_module, "internet_checksum", counted("sum", checksum))
    monkeypatch.setattr(decode_module, "_common_frame", counted("decode", common))
    monkeypatch.setattr(decode_module._Decoder, "run", counted("decode", general))
    raw = build(
        [Ethernet(type=0x0800), hs_ipv4(), hs_tcp()],
        b"payload",
    )
    pkt = decode(raw)
    assert pkt.data == raw and calls == {"walk": 0, "sum": 0, "decode": 0}
    assert pkt.tcp is not None and pkt.tcp.srcport == 1234
    assert calls == {"walk": 0, "sum": 0, "decode": 1}
    assert [(o.kind, o.value) for o in pkt.tcp.options] == [(2, 1460)]
    assert calls == {"walk": 1, "sum": 0, "decode": 1}
    assert pkt.tcp.checksum_status.name == "GOOD"
    assert calls == {"walk": 1, "sum": 1, "decode": 1}
    assert pkt.ip is not None and pkt.ip.checksum_status.name == "GOOD"
    assert calls == {"walk": 1, "sum": 2, "decode": 1}
    assert pkt.problems == [] and calls == {"walk": 1, "sum": 2, "decode": 1}


def hs_ipv4() -> Any:
    from headerkit.packet.layers import IPv4

    return IPv4(src="10.0.0.1", dst="10.0.0.2", protocol=ipproto.TCP, ttl=64, identification=7)


def hs_tcp() -> Any:
    from headerkit.packet.layers import TCP, TcpOption

    mss = TcpOption(2, 4, 1460)
    return TCP(srcport=1234, dstport=80, seq=1, flags=0x02, window=512, options=[mss])


def test_problems_keep_the_order_of_the_bytes() -> None:
    """A bad option (deferred) is listed before a problem the decoder found after it."""
    from headerkit.packet.layers import TCP, TcpOption

    seg = TCP(srcport=1, dstport=2, options=[TcpOption(2, 4, 1460)])
    raw = bytearray(build([Ethernet(type=0x0800), hs_ipv4(), seg], b"abcd"))
    raw[14 + 20 + 20 + 1] = 9  # MSS length 9: runs past the options
    raw[14 + 3] += 40  # the IP length declares 40 bytes the frame does not hold
    lazy, full = decode(bytes(raw)), eager(bytes(raw), LinkType.ETHERNET, len(raw))
    assert lazy.tcp is not None and lazy.tcp.options == []  # the walk runs first ...
    assert [str(p) for p in lazy.problems] == [str(p) for p in full.problems]  # ... in place
    assert len(full.problems) == 2 and "option" in str(full.problems[0])


def test_corpus_packets_equal_the_general_decoder(corpus: Path) -> None:
    files = sorted((corpus / "pcaps").glob("*"))
    assert len(files) > 50
    packets = common = 0
    for path in files:
        with read_capture(path) as reader, decode_capture(path) as lazy:
            for rec, pkt in zip(reader, lazy, strict=True):
                want = eager(rec.data, rec.linktype, rec.wirelen)
                if rec.problem is not None:
                    want._problems.insert(0, rec.problem)
                first = packets % 2 == 0
                assert view(pkt, options_first=first) == view(want), (path.name, rec.number)
                packets += 1
                common += decode_module._common_frame(Packet(rec.data, rec.linktype, rec.wirelen))
    assert packets > 9000
    assert common > packets // 4  # the one-pass path is taken, and proven equal above


@st.composite
def frames(draw: st.DrawFn) -> tuple[bytes, int]:
    """Built frames (VLAN tags, IPv4 or IPv6, TCP or UDP), then cut, padded and damaged."""
    tcp = draw(st.booleans())
    proto = ipproto.TCP if tcp else ipproto.UDP
    v6 = draw(st.booleans())
    ip = draw(hs.ipv6_header(proto) if v6 else hs.ipv4_header(proto))
    tags = [Vlan(0x8100, 0, False, v, 0) for v in draw(st.lists(st.integers(0, 4095), max_size=2))]
    layers: list[Any] = [Ethernet(type=0x8100 if tags else 0x86DD if v6 else 0x0800)]
    for i, tag in enumerate(tags):
        tag.type = 0x8100 if i + 1 < len(tags) else 0x86DD if v6 else 0x0800
        layers.append(tag)
    layers += [ip, draw(hs.tcp_segment() if tcp else hs.udp_datagram())]
    raw = bytearray(build(layers, draw(st.binary(max_size=40))))
    raw += bytes(draw(st.integers(0, 8)))  # Ethernet padding
    for at, value in draw(
        st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)), max_size=3)
    ):
        raw[at] = value
    cut = draw(st.integers(0, len(raw)))
    wirelen = draw(st.sampled_from([len(raw), cut, len(raw) + 10]))
    return bytes(raw[: max(cut, 1)] if draw(st.booleans()) else raw), wirelen


@settings(max_examples=400)
@given(frame=frames(), options_first=st.booleans())
def test_generated_frames_equal_the_general_decoder(
    frame: tuple[bytes, int], options_first: bool
) -> None:
    data, wirelen = frame
    lazy = Packet(data, LinkType.ETHERNET, wirelen)
    want = eager(data, LinkType.ETHERNET, wirelen)
    assert view(lazy, options_first=options_first) == view(want)
