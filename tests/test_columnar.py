"""The columnar decoder builds exactly the table of the per-packet decoder.

Every test compares ``headerkit.tables.columnar.batches`` with ``record_batches(decode_capture())``
on the same file: the same schema, every column equal (nulls included, dictionaries in the
same order) and the same warnings about a damaged file.
"""

from __future__ import annotations

import io
import random
import struct
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headerkit import build, craft
from headerkit.captures import Interface, PcapngWriter, PcapWriter
from headerkit.captures.decoded import decode_capture
from headerkit.errors import CaptureFileError
from headerkit.packet.layers import TCP, UDP, Ethernet, IPv4, IPv6, IPv6Extension, TcpOption, Vlan
from headerkit.schemas import tcp as t
from headerkit.schemas.checksum import internet_checksum
from headerkit.schemas.linktypes import LinkType
from headerkit.tables.columnar import _Decoder, _pieces, _word_sums, batches
from headerkit.tables.fields import schema
from headerkit.tables.table import arrow_table, read_table, record_batches
from tests import strategies as hs

MACS = ("02:00:00:00:00:01", "02:00:00:00:00:02")
ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_QINQ, ETH_ARP = 0x0800, 0x86DD, 0x8100, 0x88A8, 0x0806

Frame = tuple[bytes, int]  # captured bytes, length on the wire


# -- comparing the two decoders -----------------------------------------------------


def _read(read: Callable[[], list[pa.RecordBatch]], fields: Any) -> tuple[Any, list[str]]:
    """The table ``read`` makes (or the error it raises) and the warnings on the way."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            table: Any = pa.Table.from_batches(read(), schema=schema(fields))
        except CaptureFileError as err:
            table = repr(err)
    return table, [f"{w.category.__name__}: {w.message}" for w in caught]


def assert_same(path: Path, fields: Any = None, rows: int = 65536, chunk: int = 32 << 20) -> None:
    """The columnar table of ``path`` is the per-packet one, and warns (or fails) alike."""
    slow, slow_warnings = _read(
        lambda: list(record_batches(decode_capture(path), fields, rows)), fields
    )
    fast, fast_warnings = _read(lambda: list(batches(path, fields, rows, chunk)), fields)
    assert fast_warnings == slow_warnings
    if isinstance(slow, str):
        assert fast == slow
        return
    assert fast.schema == slow.schema
    assert fast.num_rows == slow.num_rows, path.name
    for name in slow.column_names:
        want, got = slow.column(name), fast.column(name)
        assert got.equals(want), (path.name, name, _first_difference(got, want))
    assert fast.equals(slow)


def _first_difference(got: pa.ChunkedArray, want: pa.ChunkedArray) -> Any:
    for row, (a, b) in enumerate(zip(got.to_pylist(), want.to_pylist(), strict=True)):
        if a != b:
            return {"row": row, "columnar": a, "per-packet": b}
    return "dictionaries or chunks differ"


def write_pcap(path: Path, frames: list[Frame], linktype: int = LinkType.ETHERNET) -> Path:
    with PcapWriter(path, linktype) as w:
        for i, (data, wirelen) in enumerate(frames):
            w.write(data, timestamp_ns=1_700_000_000_000_000_000 + i * 1_001, wirelen=wirelen)
    return path


def snap(frame: bytes, length: int) -> Frame:
    """``frame`` as a capture with snap length ``length`` holds it."""
    return frame[:length], len(frame)


# -- a realistic mix ----------------------------------------------------------------


def ether(ip: bytes, tags: tuple[tuple[int, int], ...] = ()) -> bytes:
    """An Ethernet frame around ``ip``, with VLAN tags ``(tpid, vid)`` outermost first."""
    ethertype = ETH_IPV6 if ip[:1] and ip[0] >> 4 == 6 else ETH_IPV4
    layers: list[Any] = [Ethernet(*MACS, tags[0][0] if tags else ethertype)]
    for i, (tpid, vid) in enumerate(tags):
        inner = tags[i + 1][0] if i + 1 < len(tags) else ethertype
        layers.append(Vlan(tpid=tpid, pcp=0, dei=False, vid=vid, type=inner))
    return build(layers, ip)


def tcp_mix(rng: random.Random, src: str, dst: str) -> Iterator[bytes]:
    """TCP segments with the option layouts real stacks send, and some they should not."""
    ts = (rng.getrandbits(32), rng.getrandbits(32))
    sack = [(rng.getrandbits(32), rng.getrandbits(32)) for _ in range(4)]
    nop, eol = TcpOption(t.NOP), TcpOption(t.EOL)

    def seg(**kw: Any) -> bytes:
        kw.setdefault("payload", rng.randbytes(rng.choice((0, 1, 7, 100, 1200))))
        return craft.tcp(src=src, dst=dst, sport=rng.randrange(1 << 16), dport=443, **kw).data

    yield seg(flags="S", mss=1460, sack_perm=True, timestamps=ts, wscale=7)  # Linux
    yield seg(flags="S", mss=1460, wscale=8, sack_perm=False, options=[nop, nop, TcpOption(4)])
    mac = [TcpOption(2, None, 1460), nop, TcpOption(3, None, 6), nop, nop]
    yield seg(flags="S", options=[*mac, TcpOption(8, None, ts), TcpOption(4), eol])  # macOS
    yield seg(flags="PA", timestamps=ts)
    yield seg(flags="A", timestamps=ts, payload=b"")
    for blocks in range(1, 5):
        yield seg(flags="A", sack=sack[:blocks], timestamps=ts if blocks < 4 else None)
    yield seg(flags="FA", seq=0xFFFFFFFF, ack=1, window=0, urgent_pointer=9)
    yield seg(flags=0xFFF, options_raw=b"\x01\x01\x08\x0a" + bytes(8))
    yield seg(flags="A", mss=536, options=[TcpOption(28, None, (True, 30))])  # UTO
    yield seg(flags="A", options=[TcpOption(19, None, bytes(16))])  # MD5
    yield seg(flags="A", options=[TcpOption(99, None, b"\x01\x02")])  # unknown kind
    yield seg(flags="S", options=[TcpOption(34, None, b"cookie!!")])  # TFO: per packet
    yield seg(flags="A", options=[TcpOption(30, None, (2, 0, b"\x01"))])  # MPTCP
    yield seg(flags="A", options=[TcpOption(3, None, 15)])  # shift past 14
    yield seg(flags="A", options_raw=b"\x02\x05\x00\x00")  # bad MSS length
    yield seg(flags="A", options_raw=b"\x00\x01\x00\x00")  # NOP after EOL
    yield seg(flags="A", options_raw=b"\x05\x02\x01\x00")  # SACK without blocks
    yield seg(flags="A", options_raw=b"\x01\x01\x08\x0a" + bytes(7) + b"\x02")  # overrun
    yield seg(flags="A", checksum=0x1234)
    yield seg(flags="A", data_offset=4)
    yield seg(flags="A", data_offset=15, payload=b"")  # options past the segment


def udp_mix(rng: random.Random, src: str, dst: str) -> Iterator[bytes]:
    def dgram(**kw: Any) -> bytes:
        kw.setdefault("payload", rng.randbytes(rng.choice((0, 1, 48, 512))))
        return craft.udp(src=src, dst=dst, sport=53, dport=rng.randrange(1 << 16), **kw).data

    yield dgram()
    yield dgram(payload=b"odd")
    yield dgram(checksum=0)  # not present over IPv4, bad over IPv6
    yield dgram(checksum=0xBEEF)
    yield dgram(length=7)
    yield dgram(length=600, payload=b"short")


def odd_packets(rng: random.Random) -> Iterator[bytes]:
    """IP packets the per-packet decoder handles: options, extensions, fragments, TSO."""
    v4, v6 = ("10.0.0.1", "192.0.2.7"), ("2001:db8::1", "2001:db8:ffff::2")
    nops = {"options": b"\x01" * 4}
    yield craft.tcp(src=v4[0], dst=v4[1], sport=1, dport=2, ip_fields=nops).data
    route = {"options": bytes([131, 11, 4, 10, 9, 9, 9, 10, 8, 8, 8, 0])}  # loose source route
    yield craft.udp(src=v4[0], dst=v4[1], sport=1, dport=2, ip_fields=route).data
    yield craft.tcp(src=v4[0], dst=v4[1], sport=1, dport=2, ip_fields={"flags": 1}).data
    yield craft.udp(src=v4[0], dst=v4[1], sport=1, dport=2, ip_fields={"frag_offset": 5}).data
    yield craft.tcp(src=v4[0], dst=v4[1], sport=1, dport=2, ip_fields={"total_length": 0}).data
    yield craft.tcp(src=v4[0], dst=v4[1], sport=1, dport=2, ip_fields={"checksum": 1}).data
    yield craft.tcp(src=v4[0], dst=v4[1], sport=1, dport=2, ip_fields={"ihl": 4}).data
    yield craft.udp(src=v4[0], dst=v4[1], sport=1, dport=2, ip_fields={"total_length": 900}).data
    yield craft.udp(src=v4[0], dst=v4[1], sport=1, dport=2, ip_fields={"version": 5}).data
    yield build([IPv4(protocol=1, src=v4[0], dst=v4[1])], rng.randbytes(40))  # ICMP
    hop = IPv6Extension(0, 6, 8, bytes([1, 4, 0, 0, 0, 0]))
    ip6 = IPv6(next_header=0, src=v6[0], dst=v6[1], extensions=[hop])
    yield build([ip6, TCP(srcport=1, dstport=2, flags=t.ACK)], b"data")
    frag = IPv6Extension(44, 17, 8, b"", frag_offset=0, more_fragments=True, identification=7)
    ip6 = IPv6(next_header=44, src=v6[0], dst=v6[1], extensions=[frag])
    yield build([ip6, UDP(srcport=1, dstport=2)], b"x" * 20)
    yield build([IPv6(next_header=59, src=v6[0], dst=v6[1])], b"")  # no next header
    yield craft.udp(src=v6[0], dst=v6[1], sport=1, dport=2, ip_fields={"payload_length": 0}).data


def mix_frames(seed: int = 7) -> list[Frame]:
    """Ethernet frames: IPv4/IPv6 TCP and UDP, VLAN tags, trailers, truncation, ARP."""
    rng = random.Random(seed)
    ips = []
    for src, dst in (("10.1.2.3", "93.184.216.34"), ("2001:db8::5", "2606:2800:220:1::9")):
        ips += list(tcp_mix(rng, src, dst)) + list(udp_mix(rng, src, dst))
    ips += list(odd_packets(rng))
    frames: list[Frame] = []
    for ip in ips:
        whole = ether(ip)
        frames.append((whole, len(whole)))
        tagged = ether(ip, ((ETH_VLAN, rng.randrange(1, 4095)),))
        frames.append(snap(tagged, rng.choice((len(tagged), 14, 30, 54, 60, 70))))
        frames.append((ether(ip, ((ETH_QINQ, 100), (ETH_VLAN, 7))), len(ip) + 22))
        frames.append((whole + bytes(6), len(whole) + 6))  # an Ethernet trailer
    arp = build([Ethernet(*MACS, ETH_ARP)], bytes(28))
    three_tags = ether(ips[0], ((ETH_QINQ, 1), (ETH_VLAN, 2), (ETH_VLAN, 3)))
    frames += [(arp, 60), (b"", 0), (arp[:10], 60), (three_tags, len(three_tags))]
    frames += [(ether(ips[3])[:-1], len(ether(ips[3])))]  # one byte short of the segment
    rng.shuffle(frames)
    return frames


@pytest.fixture(scope="module")
def mix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pcap(tmp_path_factory.mktemp("mix") / "mix.pcap", mix_frames())


# -- tests ----------------------------------------------------------------------------


def test_corpus(corpus: Path) -> None:
    for path in sorted((corpus / "pcaps").iterdir()):
        assert_same(path)


def test_realistic_mix(mix: Path, tmp_path: Path) -> None:
    assert_same(mix)
    short = tmp_path / "snaplen96.pcap"  # as tcpdump -s 96 writes it
    with PcapWriter(short, LinkType.ETHERNET, snaplen=96) as w:
        for data, wirelen in mix_frames(11):
            w.write(data[:96], timestamp_ns=len(data), wirelen=wirelen)
    assert_same(short)


def test_batch_and_chunk_boundaries(mix: Path) -> None:
    """Batches of a few rows, read in chunks smaller than one record (which then grow)."""
    assert_same(mix, rows=7, chunk=600)
    assert_same(mix, rows=100, chunk=5000)


def test_field_selection(mix: Path) -> None:
    assert_same(mix, ["tcp.flags.str", "ip.src", "tcp.option_kind", "frame.time"])
    assert_same(mix, ["udp.checksum.status"])
    assert_same(mix, [])


def test_common_packets_take_the_fast_path(mix: Path, tmp_path: Path) -> None:
    """The comparisons above are not vacuous: common packets never reach the per-packet
    decoder, and the mix sends it only the ones it should."""
    rng = random.Random(1)
    common = [ether(p) for s, d in (("10.0.0.1", "10.0.0.2"), ("::1", "::2"))
              for p in [*list(tcp_mix(rng, s, d))[:9], *list(udp_mix(rng, s, d))[:4]]]  # fmt: skip
    path = write_pcap(tmp_path / "common.pcap", [(f, len(f)) for f in common])
    assert _slow_share(path) == 0
    assert 0.2 < _slow_share(mix) < 0.6


def test_ipv4_options_take_the_fast_path_unless_they_may_route(tmp_path: Path) -> None:
    """Options in the IPv4 header: their words join the header checksum, the transport
    header follows them; a source route (whose last hop is the destination tshark shows)
    is the per-packet decoder's."""
    options = [
        b"\x94\x04\x00\x00",  # Router Alert
        b"\x07\x07\x04" + bytes(4) + b"\x00",  # Record Route, then EOL
        b"\x01\x01\x01\x00",  # NOPs and EOL
        b"\x44\x0c\x05\x00" + bytes(8),  # Timestamp
        bytes(40),  # the longest header, all EOL
    ]
    routes = [b"\x83\x07\x04\x0a\x00\x00\x09\x00", b"\x89\x07\x04\x0a\x00\x00\x09\x00"]
    frames = []
    for i, opts in enumerate(options + routes):
        for make in (craft.tcp, craft.udp):
            ip = make(
                src="10.0.0.1",
                dst="10.0.0.2",
                sport=40000 + i,
                dport=443,
                payload=bytes(i),
                ip_fields={"options": opts},
            )
            frames.append((ether(ip.data), len(ip.data) + 14))
        broken = bytearray(ether(ip.data))
        broken[14 + 10] ^= 0xFF  # a bad header checksum
        frames.append((bytes(broken), len(broken)))
    path = write_pcap(tmp_path / "options.pcap", frames)
    assert_same(path)
    assert _slow_share(path) == pytest.approx(len(routes) * 3 / len(frames))


def test_the_other_benchmark_mix(tmp_path: Path) -> None:
    from benchmarks import generate, generate_other

    path = tmp_path / "other.pcap"
    generate.generate(path, 3000, seed=5, pool_size=1500, pool_of=generate_other.build_pool)
    assert_same(path)
    assert _slow_share(path) == 0  # every packet of it is a common one


def test_mptcp_and_tfo_options_take_the_fast_path(tmp_path: Path) -> None:
    cases = [
        [TcpOption(t.FAST_OPEN, None, b"")],  # a cookie request: no cookie
        [TcpOption(t.FAST_OPEN, None, bytes(range(8))), TcpOption(t.FAST_OPEN, None, b"")],
        [TcpOption(t.FAST_OPEN, None, b"\x01" * 4), TcpOption(t.FAST_OPEN, None, b"\xab" * 6)],
        [TcpOption(t.MPTCP, None, (0, 1, bytes(8)))],
        [TcpOption(t.MPTCP, None, (2, 0, bytes(6))), TcpOption(t.MPTCP, None, (4, 1, b""))],
        [TcpOption(t.MPTCP, 2, b"")],  # too short for a subtype: listed, nothing more
        [TcpOption(t.NOP), TcpOption(t.MPTCP, None, (7, 15, bytes(3)))],
    ]
    frames = []
    for i, options in enumerate(cases):
        ip = craft.tcp(src="10.0.0.1", dst="10.0.0.2", sport=1000 + i, dport=80, options=options)
        frames.append((ether(ip.data), len(ip.data) + 14))
    path = write_pcap(tmp_path / "mptcp.pcap", frames)
    assert_same(path)
    assert _slow_share(path) == 0
    table = read_table(
        path, ["tcp.options.tfo.cookie", "tcp.options.mptcp.subtype"], engine="arrow"
    )
    assert table.column(0).to_pylist() == [None, "0001020304050607", "ab" * 6, *[None] * 4]
    assert table.column(1).to_pylist() == [None] * 3 + [[0], [2, 4], None, [7]]


def _slow_share(path: Path) -> float:
    slow = total = 0
    for recs in _pieces(path, 1 << 20):
        dec = _Decoder(recs, checksums=True)
        dec.run()
        slow += int(dec.slow.sum())
        total += len(recs)
    return slow / total


@pytest.mark.parametrize("linktype", [LinkType.RAW, LinkType.IPV4, LinkType.IPV6])
def test_raw_ip(linktype: int, tmp_path: Path) -> None:
    rng = random.Random(linktype)
    v6 = linktype == LinkType.IPV6
    src, dst = (
        ("2001:db8::1", "2001:db8::2") if v6 or linktype == LinkType.RAW else ("1.2.3.4", "5.6.7.8")
    )
    packets = [*tcp_mix(rng, src, dst), *udp_mix(rng, src, dst), b"", b"\x45", b"\x90" * 30]
    if linktype == LinkType.RAW:
        packets += list(tcp_mix(rng, "1.2.3.4", "5.6.7.8"))
    assert_same(write_pcap(tmp_path / "raw.pcap", [(p, len(p)) for p in packets], linktype))


def test_pcapng_with_several_interfaces(tmp_path: Path) -> None:
    frames = mix_frames(3)
    path = tmp_path / "mixed.pcapng"
    interfaces = [Interface(LinkType.ETHERNET), Interface(LinkType.RAW, tsresol=6), 147]
    with PcapngWriter(path, interfaces=interfaces) as w:
        for i, (data, wirelen) in enumerate(frames):
            w.write(data, timestamp_ns=i * 1000, wirelen=wirelen, interface=0)
            if data[12:14] == b"\x08\x00":
                w.write(data[14:], timestamp_ns=i * 1000 + 1, interface=1)
            if i % 50 == 0:
                w.write(data, timestamp_ns=i, interface=2)  # a link type headerkit does not know
    assert_same(path)
    assert_same(path, rows=10, chunk=2000)


def test_pcap_variants(tmp_path: Path) -> None:
    """Big-endian, microsecond and version 2.3 files (whose lengths the reader may swap)."""
    frames = mix_frames(5)[:40]
    path = tmp_path / "be.pcap"
    with PcapWriter(path, LinkType.ETHERNET, nanosecond=False, byteorder="big") as w:
        for i, (data, wirelen) in enumerate(frames):
            w.write(data, timestamp_ns=i * 1_000_000_123, wirelen=wirelen)
    assert_same(path)
    old = bytearray(path.read_bytes())
    old[6:8] = (3).to_bytes(2, "big")  # version 2.3
    (tmp_path / "v23.pcap").write_bytes(old)
    assert_same(tmp_path / "v23.pcap")


def test_damaged_files_warn_alike(mix: Path, tmp_path: Path) -> None:
    data = mix.read_bytes()
    second = 24 + 16 + struct.unpack_from("<I", data, 24 + 8)[0]
    cases = {
        "header-cut": data[: second + 9],
        "data-cut": data[: second + 30],
        "file-header-cut": data[:20],
        "huge-record": data[:second] + data[second : second + 8] + b"\xff\xff\x00\x00"
        + data[second + 12 :],
        "empty": data[:24],
    }  # fmt: skip
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        assert_same(tmp_path / name)


def test_sources(mix: Path, tmp_path: Path) -> None:
    """A file object reads as its path does; a file that is no capture fails alike."""
    from_file = pa.Table.from_batches(batches(io.BytesIO(mix.read_bytes())))
    assert from_file.equals(arrow_table(mix, fast=False))
    assert read_table(mix).equals(read_table(mix, fast=False))
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a capture at all")
    for fast in (True, False):
        with pytest.raises(CaptureFileError, match="not a pcap or pcapng file"):
            arrow_table(junk, fast=fast)


# -- checksums ------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.binary(min_size=1, max_size=200), st.data())
def test_word_sums_agree_with_internet_checksum(data: bytes, draw: st.DataObject) -> None:
    bounds = sorted(draw.draw(st.lists(st.integers(0, len(data)), min_size=2, max_size=8)))
    lo, hi = np.array(bounds[0::2][: len(bounds) // 2]), np.array(bounds[1::2])
    buf = np.frombuffer(data + bytes(8), np.uint8)
    sums = _word_sums(buf, lo, hi)
    initial = draw.draw(st.integers(1, 0xFFFFF))
    for got, a, b in zip(sums.tolist(), lo, hi, strict=True):
        segment = data[a:b] + bytes((b - a) % 2)
        assert got == int.from_bytes(segment, "big") % 0xFFFF
        # "negative zero": a sum that folds to 0 is a good checksum, as RFC 1071 has it
        assert ((got + initial) % 0xFFFF == 0) == (internet_checksum(data[a:b], initial) == 0)


# -- random packets, randomly damaged -------------------------------------------------


@st.composite
def packets(draw: st.DrawFn) -> bytes:
    """A TCP or UDP packet over IPv4 or IPv6, valid unless a field is forced."""
    v6 = draw(st.booleans())
    tcp = draw(st.booleans())
    proto = 6 if tcp else 17
    ip = draw(hs.ipv6_header(proto) if v6 else hs.ipv4_header(proto))
    transport = draw(hs.tcp_segment() if tcp else hs.udp_datagram())
    if draw(st.integers(0, 9)) == 0:
        transport.checksum = draw(hs.u16)
    return build([ip, transport], draw(st.binary(max_size=40)))


@st.composite
def damaged(draw: st.DrawFn, packet: bytes) -> bytes:
    raw = bytearray(packet)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip" and raw:
            raw[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del raw[at:]
        else:
            raw[at:at] = draw(st.binary(min_size=1, max_size=4))
    return bytes(raw)


@st.composite
def captures(draw: st.DrawFn) -> tuple[int, list[Frame]]:
    linktype = draw(st.sampled_from([LinkType.ETHERNET, LinkType.RAW]))
    frames = []
    for packet in draw(st.lists(packets(), min_size=1, max_size=12)):
        if linktype == LinkType.ETHERNET:
            tags = draw(st.sampled_from([(), ((ETH_VLAN, 5),), ((ETH_QINQ, 1), (ETH_VLAN, 2))]))
            packet = ether(packet, tags)
        packet = draw(damaged(packet))
        cut = draw(st.sampled_from([len(packet), len(packet), 14, 40, 54, 66]))
        frames.append(snap(packet, cut))
    return linktype, frames


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(captures())
def test_random_damaged_packets(tmp_path_factory: pytest.TempPathFactory, case: Any) -> None:
    linktype, frames = case
    path = tmp_path_factory.mktemp("hyp") / "random.pcap"
    assert_same(write_pcap(path, frames, linktype))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(captures(), st.data())
def test_random_damaged_files(
    tmp_path_factory: pytest.TempPathFactory, case: Any, draw: st.DataObject
) -> None:
    """Files cut anywhere, or with a byte of a record header changed."""
    linktype, frames = case
    path = write_pcap(tmp_path_factory.mktemp("hyp") / "random.pcap", frames, linktype)
    data = bytearray(path.read_bytes())
    if draw.draw(st.booleans()):
        del data[draw.draw(st.integers(0, len(data))) :]
    else:
        data[draw.draw(st.integers(24, len(data) - 1))] = draw.draw(st.integers(0, 255))
    path.write_bytes(bytes(data))
    assert_same(path)
