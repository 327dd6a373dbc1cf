"""Classic pcap: the schemas, the streaming reader against them, damage reports, the writer."""

from __future__ import annotations

import functools
import io
import warnings
from pathlib import Path

import construct as cs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headerkit.captures import (
    CaptureTruncatedError,
    PcapWriter,
    Record,
    read_capture,
    write_capture,
)
from headerkit.captures.reader import CHUNK_SIZE, NS_PER_S, max_snaplen
from headerkit.errors import CaptureFileError
from headerkit.schemas import pcap
from headerkit.schemas.layout import FixedLayout
from headerkit.schemas.pcap import ByteOrder
from tests import conftest
from tests.conftest import assert_tshark_reads_the_same, read

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
ORDERS: tuple[ByteOrder, ...] = ("little", "big")
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


def header(
    order: ByteOrder = "little",
    *,
    linktype: int = 1,
    snaplen: int = 65535,
    nanoseconds: bool = False,
    version: tuple[int, int] = (2, 4),
) -> bytes:
    magic = pcap.MAGIC_NANOSECONDS if nanoseconds else pcap.MAGIC_MICROSECONDS
    fields = {
        "magic_number": magic,
        "version_major": version[0],
        "version_minor": version[1],
        "snaplen": snaplen,
        "link_info": {"linktype": linktype},
    }
    return bytes(pcap.FILE_HEADER[order].build(fields))


def record(
    data: bytes = bytes(60), *, ts_sec: int = 1, ts_usec: int = 0, orig_len: int | None = None
) -> bytes:
    fields = {"ts_sec": ts_sec, "ts_usec": ts_usec, "packet_data": data}
    fields["orig_len"] = len(data) if orig_len is None else orig_len
    return bytes(pcap.RECORD["little"].build(fields))


def raw_record(incl_len: int, orig_len: int, data: bytes = b"") -> bytes:
    """A record header that says whatever it is told, and the bytes that follow."""
    return FixedLayout(pcap.RECORD["little"]).struct.pack(1, 0, incl_len, orig_len) + data


def reference(blob: bytes) -> tuple[list[Record], bool]:
    """The records construct's own schemas parse out of a pcap file, and whether all did."""
    order = pcap.byte_order_of(blob[:4])
    assert order is not None
    head = pcap.FILE_HEADER[order].parse(blob)
    scale = 1 if head.magic_number == pcap.MAGIC_NANOSECONDS else 1000
    linktype = head.link_info.linktype
    stream = io.BytesIO(blob[pcap.FILE_HEADER_SIZE :])
    records: list[Record] = []
    while stream.tell() < len(blob) - pcap.FILE_HEADER_SIZE:
        try:
            rec = pcap.RECORD[order].parse_stream(stream)
        except cs.StreamError:
            return records, False
        if rec.incl_len > max_snaplen(linktype):
            return records, False
        ts = rec.ts_sec * NS_PER_S + rec.ts_usec * scale
        records.append(Record(len(records) + 1, ts, linktype, rec.packet_data, rec.orig_len))
    return records, True


assert_damage = functools.partial(conftest.assert_damage, layer="pcap")


# -- schemas ------------------------------------------------------------------------------


@given(
    st.sampled_from(ORDERS),
    st.sampled_from([pcap.MAGIC_MICROSECONDS, pcap.MAGIC_NANOSECONDS]),
    u16,
    u16,
    st.integers(-(2**31), 2**31 - 1),
    u32,
    u32,
    st.integers(0, 15),
    st.integers(0, 1),
    st.booleans(),
    st.integers(0, 1023),
    u16,
)
def test_file_header_round_trip(
    order: ByteOrder,
    magic: int,
    major: int,
    minor: int,
    reserved1: int,
    reserved2: int,
    snaplen: int,
    fcs_len: int,
    reserved_r: int,
    fcs_present: bool,
    reserved3: int,
    linktype: int,
) -> None:
    link_info = {
        "fcs_len": fcs_len,
        "reserved_r": reserved_r,
        "fcs_len_present": fcs_present,
        "reserved3": reserved3,
        "linktype": linktype,
    }
    fields = {
        "magic_number": magic,
        "version_major": major,
        "version_minor": minor,
        "reserved1": reserved1,
        "reserved2": reserved2,
        "snaplen": snaplen,
        "link_info": link_info,
    }
    schema = pcap.FILE_HEADER[order]
    blob = schema.build(fields)
    assert len(blob) == pcap.FILE_HEADER_SIZE
    assert pcap.byte_order_of(blob[:4]) == order
    parsed = schema.parse(blob)
    assert {k: parsed[k] for k in fields if k != "link_info"} == {
        k: v for k, v in fields.items() if k != "link_info"
    }
    assert {k: parsed.link_info[k] for k in link_info} == link_info


def test_link_type_word_is_split_as_libpcap_does() -> None:
    # tcpdump's test files carry 0x30000001: FCS length 3 without the "present" bit.
    parsed = pcap.FILE_HEADER["little"].parse(header()[:20] + (0x30000001).to_bytes(4, "little"))
    assert (parsed.link_info.linktype, parsed.link_info.fcs_len) == (1, 3)
    assert parsed.link_info.fcs_len_present is False


@given(st.sampled_from(ORDERS), u32, u32, u32, st.binary(max_size=300))
def test_record_round_trip(
    order: ByteOrder, ts_sec: int, ts_usec: int, orig: int, data: bytes
) -> None:
    fields = {"ts_sec": ts_sec, "ts_usec": ts_usec, "orig_len": orig, "packet_data": data}
    blob = pcap.RECORD[order].build(fields)
    assert len(blob) == 16 + len(data)  # incl_len is rebuilt from the data
    parsed = pcap.RECORD[order].parse(blob)
    assert parsed.incl_len == len(data)
    assert {k: parsed[k] for k in fields} == fields


@given(st.sampled_from(ORDERS), st.binary(min_size=16, max_size=16))
def test_fast_record_header_is_the_schema(order: ByteOrder, raw: bytes) -> None:
    prefix = FixedLayout(pcap.RECORD[order])
    assert prefix.names == ["ts_sec", "ts_usec", "incl_len", "orig_len"]
    fixed = cs.Struct(*pcap.RECORD[order].subcons[:4]).parse(raw)
    assert prefix.struct.unpack(raw) == tuple(fixed[name] for name in prefix.names)
    assert prefix.offsets["incl_len"] == 8


def test_byte_order_of_magic() -> None:
    assert pcap.byte_order_of(bytes.fromhex("d4c3b2a1")) == "little"
    assert pcap.byte_order_of(bytes.fromhex("4d3cb2a1")) == "little"
    assert pcap.byte_order_of(bytes.fromhex("a1b2c3d4")) == "big"
    assert pcap.byte_order_of(bytes.fromhex("a1b23c4d")) == "big"
    assert pcap.byte_order_of(bytes.fromhex("0a0d0d0a")) is None


# -- reader against the schemas -----------------------------------------------------------

records_strategy = st.lists(
    st.tuples(u32, st.integers(0, 999_999), st.binary(max_size=200), st.integers(0, 4)),
    max_size=20,
)


@settings(max_examples=200)
@given(st.sampled_from(ORDERS), st.booleans(), records_strategy, st.binary(max_size=40))
def test_reader_matches_schema_on_random_files(
    order: ByteOrder, nanoseconds: bool, recs: list[tuple[int, int, bytes, int]], tail: bytes
) -> None:
    body = b"".join(
        pcap.RECORD[order].build(
            {"ts_sec": s, "ts_usec": f, "orig_len": len(d) + extra, "packet_data": d}
        )
        for s, f, d, extra in recs
    )
    blob = header(order, nanoseconds=nanoseconds) + body + tail  # tail: random trailing bytes
    expected, complete = reference(blob)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, reader = read(blob)
    assert got == expected
    assert (reader.damage is None) == complete
    assert [(r.data, r.wirelen - len(r.data)) for r in got[: len(recs)]] == [
        (d, extra) for _, _, d, extra in recs
    ]


def test_reader_walks_past_a_chunk_boundary() -> None:
    data = [bytes([i % 251]) * (1000 + i % 700) for i in range(2500)]  # about 3 MiB
    blob = header() + b"".join(record(d, ts_sec=i) for i, d in enumerate(data))
    assert len(blob) > 2 * CHUNK_SIZE
    got, reader = read(blob)
    assert [r.data for r in got] == data
    assert [r.number for r in got] == list(range(1, 2501))
    assert reader.damage is None


def test_timestamps_micro_and_nanoseconds() -> None:
    micro, _ = read(header() + record(ts_sec=1_700_000_000, ts_usec=123_456))
    nano, _ = read(header(nanoseconds=True) + record(ts_sec=1_700_000_000, ts_usec=123_456_789))
    assert micro[0].timestamp_ns == 1_700_000_000_123_456_000
    assert nano[0].timestamp_ns == 1_700_000_000_123_456_789


def test_big_endian_file() -> None:
    rec = pcap.RECORD["big"].build(
        {"ts_sec": 7, "ts_usec": 5, "orig_len": 99, "packet_data": b"abc"}
    )
    got, reader = read(header("big", linktype=101, nanoseconds=True) + rec)
    assert got == [Record(1, 7 * NS_PER_S + 5, 101, b"abc", 99)]
    assert (reader.format, reader.linktype, reader.interfaces[0].tsresol) == ("pcap", 101, 9)


def test_old_versions_store_the_lengths_swapped() -> None:
    # wiretap: before 2.3 orig_len comes first; in 2.3 only when incl_len > orig_len.
    swapped = raw_record(100, 4, b"abcd")
    assert read(header(version=(2, 2)) + swapped)[0][0].wirelen == 100
    assert read(header(version=(2, 3)) + swapped)[0][0].data == b"abcd"
    assert read(header(version=(2, 3)) + raw_record(4, 100, b"abcd"))[0][0].wirelen == 100


# -- damage -------------------------------------------------------------------------------


def test_not_a_capture_file() -> None:
    with pytest.raises(CaptureFileError) as raised:
        read(b"GIF89a....")
    assert (raised.value.field, raised.value.offset) == ("magic_number", 0)


def test_truncated_file_header() -> None:
    assert_damage(header()[:10], CaptureTruncatedError, "reserved1", 8, 0)


def test_unsupported_version() -> None:
    assert_damage(header(version=(1, 0)) + record(), CaptureFileError, "version_major", 4, 0)


def test_record_header_cut() -> None:
    blob = header() + record() + record() + record()[:10]
    assert_damage(blob, CaptureTruncatedError, "incl_len", 24 + 2 * 76 + 8, 2)


def test_record_data_cut() -> None:
    blob = header() + record() + record(bytes(60))[:40]
    assert_damage(blob, CaptureTruncatedError, "packet_data", 24 + 76 + 16, 1)


class LargestRead(io.BytesIO):
    """A file that remembers the largest read asked of it."""

    largest = 0

    def read(self, size: int | None = -1) -> bytes:
        self.largest = max(self.largest, size or 0)
        return super().read(size)


def test_4gb_record_is_refused_before_reading_it() -> None:
    blob = header() + record() + raw_record(0xFFFFFFFF, 0xFFFFFFFF) + bytes(100)
    assert_damage(blob, CaptureFileError, "incl_len", 24 + 76 + 8, 1)
    spy = LargestRead(blob)
    with pytest.warns(UserWarning, match="4294967295-byte record exceeds the maximum"):
        assert len(list(read_capture(spy))) == 1
    assert spy.largest <= CHUNK_SIZE


def test_record_limit_follows_wiretap() -> None:
    # tshark reads records longer than the snap length up to 262144 bytes (more for USB):
    longer = header(snaplen=65535) + raw_record(70_000, 70_000, bytes(70_000))
    assert len(read(longer)[0]) == 1
    with pytest.raises(CaptureFileError, match="the snap length 65535"):
        read(longer, strict=True)
    too_long = header(snaplen=0) + raw_record(262_145, 262_145, bytes(262_145))
    assert_damage(too_long, CaptureFileError, "incl_len", 32, 0)
    usb = header(linktype=189, snaplen=0) + raw_record(262_145, 262_145, bytes(262_145))
    assert len(read(usb, strict=True)[0]) == 1


def test_a_path_is_opened_and_closed(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(header() + record())
    with read_capture(path) as reader:
        assert [r.number for r in reader] == [1]
    assert reader._file.closed
    with open(path, "rb") as handle:
        assert len(list(read_capture(handle))) == 1
        assert not handle.closed


# -- writer -------------------------------------------------------------------------------


@settings(max_examples=50)
@given(
    st.sampled_from(ORDERS),
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 2**32 * NS_PER_S - 1), st.binary(max_size=100)), max_size=8),
)
def test_writer_round_trip(
    order: ByteOrder, nanoseconds: bool, packets: list[tuple[int, bytes]]
) -> None:
    out = io.BytesIO()
    with PcapWriter(out, 228, nanosecond=nanoseconds, byteorder=order) as writer:
        for ts, data in packets:
            writer.write(data, timestamp_ns=ts, wirelen=len(data) + 3)
    got, reader = read(out.getvalue())
    assert pcap.byte_order_of(out.getvalue()[:4]) == order
    step = 1 if nanoseconds else 1000
    assert got == [
        Record(i, ts // step * step, 228, data, len(data) + 3)
        for i, (ts, data) in enumerate(packets, 1)
    ]
    assert reader.damage is None


def test_writer_refuses_what_a_reader_would_not_take() -> None:
    writer = PcapWriter(io.BytesIO(), 1, snaplen=100)
    with pytest.raises(ValueError, match="link type"):
        writer.write(Record(1, 0, 113, b"", 0))
    with pytest.raises(ValueError, match="exceeds the limit 100"):
        writer.write(bytes(101))
    with pytest.raises(ValueError, match="before the epoch"):
        writer.write(b"", timestamp_ns=-1)


def test_write_capture_takes_the_link_type_of_the_records(tmp_path: Path) -> None:
    records = [Record(1, 5, 101, b"\x45abc", 4), Record(2, 6, 101, b"\x60", 1)]
    assert write_capture(tmp_path / "out.pcap", records) == 2
    got, reader = read((tmp_path / "out.pcap").read_bytes())
    assert (got, reader.linktype) == (records, 101)


# -- tshark, where installed, reads the crafted files the same --------------------------


# wiretap guesses among pcap variants from the first three records, so the damage comes later.
GOOD = header() + record() * 3
CRAFTED = {
    "ok": header() + record() + record(bytes(10), orig_len=1500),
    "nanoseconds_big_endian": header("big", nanoseconds=True)
    + pcap.RECORD["big"].build({"ts_sec": 1, "ts_usec": 2, "orig_len": 3, "packet_data": b"abc"}),
    "longer_than_snaplen": header(snaplen=100) + raw_record(2000, 2000, bytes(2000)),
    "cut_in_data": GOOD + record()[:50],
    "cut_in_header": GOOD + record()[:7],
    "incl_len_4gb": GOOD + raw_record(0xFFFFFFFF, 1),
    "over_262144": GOOD + raw_record(262_145, 262_145, bytes(262_145)),
    "version_2_2": header(version=(2, 2)) + raw_record(100, 60, bytes(60)),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_tshark_reads_the_same_records(name: str, tmp_path: Path) -> None:
    assert_tshark_reads_the_same(tmp_path / f"{name}.pcap", CRAFTED[name])


# -- the corpus: fast path against the schemas on real files -----------------------------


def corpus_pcaps() -> list[Path | None]:
    pcaps = CORPUS / "pcaps"
    if not pcaps.is_dir():
        return [None]
    return [p for p in sorted(pcaps.iterdir()) if pcap.byte_order_of(p.read_bytes()[:4])]


@pytest.mark.parametrize("path", corpus_pcaps(), ids=lambda p: p.name if p else "missing")
def test_reader_matches_schema_on_corpus(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"shared corpus not found at {CORPUS}")
    blob = path.read_bytes()
    expected, complete = reference(blob)
    got, reader = read(blob)
    assert complete and reader.damage is None
    assert got == expected
