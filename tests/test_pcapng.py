"""pcapng: the block schemas, the streaming reader against them, damage reports, the writer."""

from __future__ import annotations

import functools
import io
import warnings
from pathlib import Path
from typing import Any

import construct as cs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headerkit.captures import (
    CUSTOM_BLOCK,
    CaptureTruncatedError,
    Interface,
    PcapngWriter,
    Record,
    read_capture,
    write_capture,
)
from headerkit.captures.reader import (
    CHUNK_SIZE,
    MAX_BLOCK_SIZE,
    MAX_INTERFACES,
    NS_PER_S,
    max_snaplen,
)
from headerkit.errors import CaptureFileError, HeaderkitWarning
from headerkit.schemas import pcapng as ng
from headerkit.schemas.layout import FixedLayout
from headerkit.schemas.linktypes import NO_INTERFACE
from headerkit.schemas.pcap import ByteOrder
from tests import conftest
from tests.conftest import assert_tshark_reads_the_same, read

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
ORDERS: tuple[ByteOrder, ...] = ("little", "big")
END = {"option_code": ng.OPT_ENDOFOPT, "option_value": b""}
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


def opt(code: int, value: bytes) -> dict[str, Any]:
    return {"option_code": code, "option_value": value}


def block(block_type: int, order: ByteOrder = "little", **body: Any) -> bytes:
    """A block built by its schema; a type without one gets ``raw`` as its body."""
    if block_type in ng.BLOCKS[order]:
        return bytes(ng.BLOCKS[order][block_type].build({"body": body}))
    generic = {"block_type": block_type, "body": body.get("raw", b"")}
    return bytes(ng.BLOCKS[order][None].build(generic))


def shb(order: ByteOrder = "little", version: tuple[int, int] = (1, 0)) -> bytes:
    return block(ng.SHB_TYPE, order, major_version=version[0], minor_version=version[1], options=[])


def idb(
    linktype: int = 1, snaplen: int = 0, order: ByteOrder = "little", options: Any = ()
) -> bytes:
    return block(ng.IDB_TYPE, order, linktype=linktype, snaplen=snaplen, options=list(options))


def epb(
    data: bytes = bytes(60),
    interface: int = 0,
    ts: int = 0,
    order: ByteOrder = "little",
    options: Any = (),
) -> bytes:
    return block(
        ng.EPB_TYPE,
        order,
        interface_id=interface,
        timestamp_upper=ts >> 32,
        timestamp_lower=ts & 0xFFFFFFFF,
        original_packet_length=len(data),
        packet_data=data,
        options=list(options),
    )


def spb(data: bytes, wirelen: int, order: ByteOrder = "little") -> bytes:
    return block(ng.SPB_TYPE, order, original_packet_length=wirelen, packet_data=data)


def patch(blob: bytes, offset: int, value: int) -> bytes:
    """``blob`` with the little-endian 32-bit word at ``offset`` replaced."""
    return blob[:offset] + value.to_bytes(4, "little") + blob[offset + 4 :]


assert_damage = functools.partial(conftest.assert_damage, layer="pcapng")


def reference(blob: bytes) -> tuple[list[Record], bool]:
    """The records construct's own block schemas parse out of a pcapng file."""
    records: list[Record] = []
    interfaces: list[tuple[int, int, int, int]] = []  # linktype, snaplen, units, tsoffset
    section: list[int] = []  # indexes into interfaces
    order: Any = "little"
    pos = 0
    while pos < len(blob):
        if blob[pos : pos + 4] == ng.SHB_TYPE.to_bytes(4, "little"):
            order, section = ng.byte_order_of(blob[pos + 8 : pos + 12]), []
        try:
            generic = ng.BLOCKS[order][None].parse(blob[pos:])
            kind = generic.block_type
            schema = ng.BLOCKS[order].get(kind, ng.BLOCKS[order][None])
            body = schema.parse(blob[pos : pos + generic.block_total_length]).body
        except cs.ConstructError:
            return records, False
        if generic.block_total_length % 4:
            return records, False
        pos += generic.block_total_length
        options: dict[int, list[bytes]] = {}
        for option in [] if kind not in (ng.IDB_TYPE, ng.EPB_TYPE, ng.PB_TYPE) else body.options:
            if option.option_code == ng.OPT_ENDOFOPT:
                break
            options.setdefault(option.option_code, []).append(option.option_value)
        if kind == ng.IDB_TYPE:
            tsresol = options.get(ng.IF_TSRESOL, [b"\x06"])[-1][0]
            units = 2 ** (tsresol & 0x7F) if tsresol & 0x80 else 10**tsresol
            tsoffset = ng.IF_TSOFFSET_VALUE[order].parse(
                options.get(ng.IF_TSOFFSET, [bytes(8)])[-1]
            )
            section.append(len(interfaces))
            interfaces.append((body.linktype, body.snaplen, units, tsoffset))
        elif kind in (ng.EPB_TYPE, ng.PB_TYPE, ng.SPB_TYPE):
            number = 0 if kind == ng.SPB_TYPE else body.interface_id
            if number >= len(section):
                return records, False
            linktype, snaplen, units, tsoffset = interfaces[section[number]]
            if kind == ng.SPB_TYPE:
                wirelen = body.original_packet_length
                data = body.packet_data[: min(wirelen, snaplen or wirelen)]
                ts = 0
            else:
                wirelen, data = body.original_packet_length, body.packet_data
                ticks = body.timestamp_upper << 32 | body.timestamp_lower
                ts = ticks * NS_PER_S // units + tsoffset * NS_PER_S
            if len(data) > max_snaplen(linktype):
                return records, False
            comments = [c.split(b"\0")[0].decode() for c in options.get(ng.OPT_COMMENT, [])]
            comment = "\n".join(comments) if comments else None
            n = len(records) + 1
            records.append(Record(n, ts, linktype, data, wirelen, section[number], comment))
        elif kind in (ng.CB_TYPE, ng.CB_NO_COPY_TYPE):
            n = len(records) + 1
            data = body.custom_data
            records.append(Record(n, 0, CUSTOM_BLOCK, data, len(data), CUSTOM_BLOCK))
    return records, True


# -- schemas ------------------------------------------------------------------------------

options_strategy = st.lists(
    st.tuples(st.integers(1, 0xFFFF), st.binary(max_size=20)).map(lambda o: opt(*o)), max_size=4
).map(lambda options: [*options, END] if options else [])


@given(st.sampled_from(ORDERS), u16, st.binary(max_size=50))
def test_option_round_trip(order: ByteOrder, code: int, value: bytes) -> None:
    built = ng.OPTION[order].build(opt(code, value))
    assert len(built) == 4 + len(value) + (-len(value) % 4)  # value padded to 32 bits
    parsed = ng.OPTION[order].parse(built)
    assert (parsed.option_code, parsed.option_length, parsed.option_value) == (
        code,
        len(value),
        value,
    )


def packet_body(block_type: int) -> st.SearchStrategy[dict[str, Any]]:
    common = {
        "timestamp_upper": u32,
        "timestamp_lower": u32,
        "original_packet_length": u32,
        "packet_data": st.binary(max_size=70),
        "options": options_strategy,
    }
    if block_type == ng.EPB_TYPE:
        return st.fixed_dictionaries({"interface_id": u32, **common})
    return st.fixed_dictionaries({"interface_id": u16, "drops_count": u16, **common})


BODIES = {
    ng.SHB_TYPE: st.fixed_dictionaries(
        {
            "major_version": u16,
            "minor_version": u16,
            "section_length": st.integers(-(2**63), 2**63 - 1),
            "options": options_strategy,
        }
    ),
    ng.IDB_TYPE: st.fixed_dictionaries(
        {"linktype": u16, "reserved": u16, "snaplen": u32, "options": options_strategy}
    ),
    ng.EPB_TYPE: packet_body(ng.EPB_TYPE),
    ng.PB_TYPE: packet_body(ng.PB_TYPE),
    ng.SPB_TYPE: st.fixed_dictionaries(
        {"original_packet_length": u32, "packet_data": st.binary(max_size=70)}
    ),
    ng.CB_TYPE: st.fixed_dictionaries(
        {"private_enterprise_number": u32, "custom_data": st.binary(max_size=70)}
    ),
}


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


@pytest.mark.parametrize("block_type", sorted(BODIES))
@given(data=st.data(), order=st.sampled_from(ORDERS))
def test_block_round_trip(block_type: int, order: ByteOrder, data: st.DataObject) -> None:
    body = data.draw(BODIES[block_type])
    schema = ng.BLOCKS[order][block_type]
    built = schema.build({"body": body})
    assert len(built) % 4 == 0
    parsed = schema.parse(built)
    assert parsed.block_total_length == parsed.block_total_length_trailer == len(built)
    for name, value in body.items():
        got = parsed.body[name]
        if name == "options":
            got = [opt(o.option_code, o.option_value) for o in got]
        elif name in ("packet_data", "custom_data") and block_type in (ng.SPB_TYPE, ng.CB_TYPE):
            value = padded(value)  # the data's length is implicit: padding reads as data
        assert got == value, name
    prefix = FixedLayout(schema)  # the reader's fast path, derived from the same schema
    flat = {**parsed, **parsed.body}
    assert prefix.struct.unpack_from(built) == tuple(flat[name] for name in prefix.names)


@pytest.mark.parametrize(
    "block_type", [ng.IDB_TYPE, ng.PB_TYPE, ng.SPB_TYPE, ng.EPB_TYPE, ng.CB_TYPE]
)
@given(data=st.data(), order=st.sampled_from(ORDERS))
def test_fast_block_prefix_is_the_schema(
    block_type: int, order: ByteOrder, data: st.DataObject
) -> None:
    schema = ng.BLOCKS[order][block_type]
    prefix = FixedLayout(schema)
    assert prefix.names[:2] == ["block_type", "block_total_length"]
    body = schema.subcons[2].subcon.subcon  # "body" / FixedSized(length, Struct(...))
    raw = data.draw(st.binary(min_size=prefix.size - 8, max_size=prefix.size - 8))
    fixed = cs.Struct(*body.subcons[: len(prefix.names) - 2]).parse(raw)
    values = prefix.struct.unpack(bytes(8) + raw)
    assert values[2:] == tuple(fixed[name] for name in prefix.names[2:])
    assert [prefix.offsets[name] for name in prefix.names[2:]] == [
        8 + sum(sub.sizeof() for sub in body.subcons[:i]) for i in range(len(prefix.names) - 2)
    ]


def test_enhanced_packet_block_bytes() -> None:
    built = epb(b"abcde", ts=(1 << 32) + 2, options=[opt(ng.OPT_COMMENT, b"hi"), END])
    assert built.hex() == (
        "06000000" "34000000" "00000000" "01000000" "02000000" "05000000" "05000000"
        "6162636465000000" "01000200" "68690000" "00000000" "34000000"
    )  # fmt: skip


def test_byte_order_of_magic() -> None:
    assert ng.byte_order_of(bytes.fromhex("4d3c2b1a")) == "little"
    assert ng.byte_order_of(bytes.fromhex("1a2b3c4d")) == "big"
    assert ng.byte_order_of(bytes.fromhex("00000000")) is None


# -- reader against the schemas -----------------------------------------------------------

TSRESOLS = (6, 9, 3, 0, 12, 0x80 | 10, 0x80 | 20)


@st.composite
def pcapng_files(draw: st.DrawFn) -> bytes:
    blob = b""
    for _ in range(draw(st.integers(1, 3))):
        order = draw(st.sampled_from(ORDERS))
        blob += shb(order)
        described = 0
        for _ in range(draw(st.integers(0, 12))):
            choice = draw(st.sampled_from(["idb", "epb", "pb", "spb", "custom", "unknown"]))
            if choice == "idb" or (choice in ("epb", "pb", "spb") and not described):
                options = [opt(ng.IF_TSRESOL, bytes([draw(st.sampled_from(TSRESOLS))]))]
                if draw(st.booleans()):
                    offset = draw(st.integers(-(2**40), 2**40))
                    options.append(opt(ng.IF_TSOFFSET, ng.IF_TSOFFSET_VALUE[order].build(offset)))
                options.append(END)
                snaplen = draw(st.sampled_from([0, 16, 1500]))
                blob += idb(draw(st.sampled_from([1, 101, 113])), snaplen, order, options)
                described += 1
                continue
            data = draw(st.binary(max_size=40))
            wirelen = len(data) + draw(st.integers(0, 30))
            if choice == "epb" or choice == "pb":
                comments = draw(st.lists(st.text(max_size=8).filter(lambda t: "\0" not in t)))
                options = [opt(ng.OPT_COMMENT, c.encode()) for c in comments]
                body = {
                    "interface_id": draw(st.integers(0, described - 1)),
                    "timestamp_upper": draw(st.integers(0, 2**20)),
                    "timestamp_lower": draw(u32),
                    "original_packet_length": wirelen,
                    "packet_data": data,
                    "options": [*options, END] if options else [],
                }
                if choice == "pb":
                    body["drops_count"] = 0
                blob += block(ng.EPB_TYPE if choice == "epb" else ng.PB_TYPE, order, **body)
            elif choice == "spb":
                blob += spb(data, wirelen, order)
            elif choice == "custom":
                blob += block(ng.CB_TYPE, order, private_enterprise_number=1, custom_data=data)
            else:
                blob += block(0x0BADBEEF, order, raw=padded(data))
    return blob


@settings(max_examples=150)
@given(pcapng_files())
def test_reader_matches_schema_on_random_files(blob: bytes) -> None:
    expected, complete = reference(blob)
    got, reader = read(blob)
    assert complete and reader.damage is None
    assert got == expected


def test_reader_walks_past_a_chunk_boundary() -> None:
    data = [bytes([i % 251]) * (1000 + i % 700) for i in range(2500)]  # about 3 MiB
    blob = shb() + idb() + b"".join(epb(d, ts=i) for i, d in enumerate(data))
    assert len(blob) > 2 * CHUNK_SIZE
    got, reader = read(blob)
    assert [r.data for r in got] == data
    assert [r.timestamp_ns for r in got] == [i * 1000 for i in range(2500)]
    assert reader.damage is None


@pytest.mark.parametrize(
    ("tsresol", "ticks", "ns"),
    [
        (6, 1_500_000, 1_500_000_000),  # the default: microseconds
        (9, 123, 123),
        (3, 7, 7_000_000),  # milliseconds
        (12, 123_456, 123),  # picoseconds, rounded down
        (0x80 | 10, 1024 + 1, 1_000_976_562),  # 2**-10 s
        (0x80 | 0, 3, 3 * NS_PER_S),  # whole seconds, power of two
    ],
)
def test_if_tsresol(tsresol: int, ticks: int, ns: int) -> None:
    options = [opt(ng.IF_TSRESOL, bytes([tsresol])), END]
    got, _ = read(shb() + idb(options=options) + epb(ts=ticks))
    assert got[0].timestamp_ns == ns


def test_if_tsoffset_is_added_in_seconds() -> None:
    offset = opt(ng.IF_TSOFFSET, (-10).to_bytes(8, "little", signed=True))
    got, reader = read(shb() + idb(options=[offset, END]) + epb(ts=30_000_000))
    assert got[0].timestamp_ns == 20 * NS_PER_S
    assert reader.interfaces[0].tsoffset == -10


def test_interfaces_reset_at_each_section_with_its_own_byte_order() -> None:
    blob = (
        shb("little")
        + idb(1, order="little")
        + idb(113, order="little")
        + epb(b"a", 1, order="little")
        + shb("big")
        + idb(101, order="big", options=[opt(ng.IF_NAME, b"wan0"), END])
        + epb(b"b", 0, order="big")
        + spb(b"c", 1, "big")
    )
    got, reader = read(blob)
    assert [(r.data, r.linktype, r.interface) for r in got] == [
        (b"a", 113, 1),
        (b"b", 101, 2),
        (b"c", 101, 2),
    ]
    assert [(i.linktype, i.name, i.section) for i in reader.interfaces] == [
        (1, None, 0),
        (113, None, 0),
        (101, "wan0", 1),
    ]
    assert (reader.format, reader.linktype) == ("pcapng", 1)


def test_comments() -> None:
    comments = [opt(ng.OPT_COMMENT, b"first"), opt(ng.OPT_COMMENT, b"second\0junk"), END]
    after_end = [END, opt(ng.OPT_COMMENT, b"ignored")]
    old = block(
        ng.PB_TYPE,
        interface_id=0,
        drops_count=0,
        timestamp_upper=0,
        timestamp_lower=0,
        original_packet_length=1,
        packet_data=b"x",
        options=[opt(ng.OPT_COMMENT, "obsolète".encode()), END],
    )
    got, _ = read(shb() + idb() + epb(options=comments) + epb(options=after_end) + old)
    assert [r.comment for r in got] == ["first\nsecond", None, "obsolète"]


def test_simple_packet_block_length_is_implicit() -> None:
    blob = shb() + idb(snaplen=3) + spb(b"abcde", 5) + shb() + idb() + spb(b"abcde", 9)
    got, _ = read(blob)
    # min(wire length, snap length, block space): the padding counts as space
    assert [(r.data, r.wirelen, r.timestamp_ns) for r in got] == [
        (b"abc", 5, 0),
        (b"abcde\0\0\0", 9, 0),
    ]


def test_unknown_blocks_are_skipped_and_custom_blocks_are_frames() -> None:
    unknown = block(0x12345678, raw=b"whatever")
    custom = block(ng.CB_NO_COPY_TYPE, private_enterprise_number=32473, custom_data=b"data")
    got, reader = read(shb() + unknown + idb() + unknown + custom + epb(b"x") + unknown)
    assert got == [
        Record(1, 0, CUSTOM_BLOCK, b"data", 4, CUSTOM_BLOCK),
        Record(2, 0, 1, b"x", 1, 0),
    ]
    assert reader.damage is None


# -- damage -------------------------------------------------------------------------------

HEAD = shb() + idb()  # 28 + 20 bytes
ONE = HEAD + epb()  # one 92-byte EPB after the head
AT = len(ONE)  # where the next block starts


def raw_block(block_type: int, length: int, body: bytes, trailer: int | None = None) -> bytes:
    """A block whose two length fields say whatever they are told."""
    end = length if trailer is None else trailer
    return (
        FixedLayout(ng.BLOCKS["little"][None]).struct.pack(block_type, length)
        + body
        + (end.to_bytes(4, "little"))
    )


def test_block_length_not_a_multiple_of_4() -> None:
    # Like wiretap, a lenient reader rounds it up: the padding was left out of the count.
    padded = raw_block(0x77, 18, b"abcdef\0\0", 19)  # trailers compare rounded up too
    got, reader = read(ONE + padded + epb())
    assert (len(got), reader.damage) == (2, None)
    with pytest.raises(CaptureFileError) as raised:
        read(ONE + padded + epb(), strict=True)
    assert (raised.value.field, raised.value.offset) == ("block_total_length", AT + 4)
    assert "not a multiple of 4" in raised.value.reason
    # Without the padding the trailer is not where the rounded length puts it.
    unpadded = raw_block(0x77, 14, b"ab") + epb()
    with pytest.warns(UserWarning):
        got, reader = read(ONE + unpadded)
    assert len(got) == 1 and reader.damage is not None
    assert (reader.damage.field, reader.damage.offset) == ("block_total_length", AT + 12)


def test_block_length_below_the_minimum() -> None:
    blob = ONE + patch(epb(), 4, 24) + epb()
    assert_damage(blob, CaptureFileError, "block_total_length", AT + 4, 1, kept=2)
    assert_damage(
        HEAD + patch(block(0x99, raw=b""), 4, 8), CaptureFileError, "block_total_length", 52, 0
    )


def test_trailing_length_disagrees() -> None:
    blob = ONE + patch(epb(), 88, 1000) + epb()
    assert_damage(blob, CaptureFileError, "block_total_length", AT + 88, 1, kept=2)


def test_block_past_the_end_of_the_file() -> None:
    assert_damage(
        ONE + patch(epb(), 4, 4000), CaptureTruncatedError, "block_total_length", AT + 4, 1
    )
    assert_damage(ONE + epb()[:50], CaptureTruncatedError, "block_total_length", AT + 4, 1)
    assert_damage(ONE + epb()[:6], CaptureTruncatedError, "block_total_length", AT + 4, 1)
    assert_damage(ONE + epb()[:3], CaptureTruncatedError, "block_type", AT, 1)
    assert_damage(ONE + shb()[:10], CaptureTruncatedError, "byte_order_magic", AT + 8, 1)


class LargestRead(io.BytesIO):
    """A file that remembers the largest read asked of it."""

    largest = 0

    def read(self, size: int | None = -1) -> bytes:
        self.largest = max(self.largest, size or 0)
        return super().read(size)


def test_huge_block_is_refused_before_reading_it() -> None:
    blob = ONE + patch(epb(), 4, 0xFFFFFFF0) + bytes(100)
    assert_damage(blob, CaptureFileError, "block_total_length", AT + 4, 1)
    spy = LargestRead(blob)
    with pytest.warns(UserWarning, match=f"exceeds the maximum block size {MAX_BLOCK_SIZE}"):
        assert len(list(read_capture(spy))) == 1
    assert spy.largest <= CHUNK_SIZE


def test_packet_data_larger_than_the_block() -> None:
    blob = ONE + patch(epb(), 20, 61)  # captured_packet_length 61 in a block with room for 60
    assert_damage(blob, CaptureFileError, "captured_packet_length", AT + 20, 1)


def test_record_larger_than_wiretap_reads() -> None:
    big = bytes(262_145)
    assert_damage(ONE + epb(big), CaptureFileError, "captured_packet_length", AT + 20, 1)
    assert len(read(shb() + idb(189) + epb(big), strict=True)[0]) == 1  # USB: 128 MiB


def test_strict_reader_holds_records_to_the_snap_length() -> None:
    blob = shb() + idb(snaplen=50) + epb(bytes(60))
    assert len(read(blob)[0]) == 1
    with pytest.raises(CaptureFileError, match="limit 50"):
        read(blob, strict=True)


def test_interface_that_does_not_exist() -> None:
    blob = ONE + epb(interface=1) + epb()
    assert_damage(blob, CaptureFileError, "interface_id", AT + 8, 1, kept=3)
    records, _ = read(blob)
    assert records[1].linktype == NO_INTERFACE and records[1].problem is not None
    assert records[1].problem.field == "interface_id" and records[2].linktype == 1
    # a new section forgets the interfaces of the last one
    assert_damage(ONE + shb() + epb(), CaptureFileError, "interface_id", AT + 28 + 8, 1, kept=2)


def test_interfaces_are_bounded() -> None:
    blob = shb() + idb() * MAX_INTERFACES + epb() + idb() + epb()
    assert_damage(blob, CaptureFileError, "block_type", 28 + 20 * MAX_INTERFACES + 92, 1)


def test_simple_packet_block_before_any_interface() -> None:
    assert_damage(shb() + spb(b"abcd", 4) + idb(), CaptureFileError, "block_type", 28, 0)


def test_option_running_past_its_block() -> None:
    bad = patch(epb(options=[opt(ng.OPT_COMMENT, b"hello!!!"), END]), 88, 200 << 16 | 1)
    assert_damage(ONE + bad + epb(), CaptureFileError, "option_length", AT + 90, 1, kept=3)


def test_damaged_interface_options_keep_the_interface_and_its_packets() -> None:
    bad_idb = patch(idb(options=[opt(ng.IF_NAME, b"eth0"), END]), 16, 200 << 16 | 2)
    blob = shb() + bad_idb + epb() + epb()
    with pytest.warns(HeaderkitWarning, match=r"option_length at byte 46: block 2:"):
        records, reader = read(blob)
    assert len(records) == 2 and reader.interfaces[0].linktype == 1
    assert all(r.linktype == 1 and r.problem is None for r in records)


def test_an_unknown_block_type_is_reported_and_passed_over() -> None:
    blob = ONE + block(0x77, raw=b"abcd") + epb()
    with pytest.warns(HeaderkitWarning, match="unknown type 0x00000077, skipped"):
        records, reader = read(blob)
    assert len(records) == 2 and reader.damage is None
    quiet = ONE + block(ng.ISB_TYPE, raw=bytes(12)) + block(0x80000001, raw=b"") + epb()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # defined and local-use blocks pass without a word
        assert len(read(quiet)[0]) == 2


def test_a_section_header_with_a_bad_length_is_passed_over() -> None:
    blob = patch(shb(), 4, 30) + idb() + epb() + epb()
    with pytest.warns(HeaderkitWarning, match="block_total_length at byte 28: block 1:"):
        records, reader = read(blob)
    assert len(records) == 2 and reader.damage is not None


def test_packets_out_equal_whole_records_in_whatever_the_damage() -> None:
    """Every intact packet block is read, whichever block before it is damaged."""
    intact = [epb(b"p%d" % i) for i in range(4)]
    damages = [
        patch(epb(), 4, 24),  # length below the minimum
        patch(epb(), 88, 1000),  # trailing copy disagrees
        epb(interface=3),  # names a missing interface: kept, without a link type
        block(0x99, raw=b"xyz!"),  # unknown type
    ]
    for damage in damages:
        blob = ONE + intact[0] + damage + intact[1] + intact[2] + damage + intact[3]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            records, _ = read(blob)
        datas = [r.data for r in records if r.linktype != NO_INTERFACE]
        assert datas[-4:] == [b"p0", b"p1", b"p2", b"p3"]


def test_bad_byte_order_magic() -> None:
    assert_damage(
        ONE + patch(shb(), 8, 0x12345678), CaptureFileError, "byte_order_magic", AT + 8, 1
    )


def test_unsupported_section_version() -> None:
    assert_damage(shb(version=(2, 0)) + idb() + epb(), CaptureFileError, "major_version", 12, 0)
    assert_damage(ONE + shb(version=(1, 1)), CaptureFileError, "minor_version", AT + 14, 1)
    assert len(read(shb(version=(1, 2)) + idb() + epb())[0]) == 1  # wiretap reads 1.2 too


# -- writer -------------------------------------------------------------------------------


def test_writer_round_trip_keeps_interfaces_and_comments() -> None:
    interfaces = [
        Interface(1, 1500, "eth0"),
        Interface(101, 0, tsresol=6, tsoffset=-5),
        Interface(113, tsresol=0x80 | 10),
    ]
    records = [
        Record(1, 1_700_000_000_123_456_789, 1, b"\x00" * 14, 60, 0, "hello"),
        Record(2, 1_700_000_000_000_001_000, 101, b"\x45", 1, 1),
        Record(3, 999_023_437, 113, b"sll", 3, 2),  # 1023 * 2**-10 s, rounded down
        Record(4, 0, CUSTOM_BLOCK, b"pen!", 4, CUSTOM_BLOCK),
    ]
    out = io.BytesIO()
    with PcapngWriter(out, interfaces=interfaces, byteorder="big") as writer:
        for r in records:
            writer.write(r)
    got, reader = read(out.getvalue())
    assert got == records
    assert reader.interfaces == interfaces
    assert out.getvalue()[8:12] == bytes.fromhex("1a2b3c4d")


def test_writer_rounds_timestamps_up_to_the_interface_resolution() -> None:
    out = io.BytesIO()
    with PcapngWriter(out, interfaces=[Interface(1, tsresol=6)]) as writer:
        writer.write(b"x", timestamp_ns=1_500)
    assert read(out.getvalue())[0][0].timestamp_ns == 2_000


def test_writer_refuses_what_a_reader_would_not_take() -> None:
    writer = PcapngWriter(io.BytesIO(), interfaces=[1, Interface(113, snaplen=10)])
    with pytest.raises(ValueError, match="no interface 2"):
        writer.write(b"", interface=2)
    with pytest.raises(ValueError, match="link type 1 on interface 1"):
        writer.write(Record(1, 0, 1, b"", 0, 1))
    with pytest.raises(ValueError, match="exceeds the limit 10"):
        writer.write(bytes(11), interface=1)
    with pytest.raises(ValueError, match="does not fit"):
        writer.write(b"", timestamp_ns=1 << 64)


def test_write_capture_describes_the_interfaces_the_records_use(tmp_path: Path) -> None:
    records = [
        Record(1, 5, 101, b"a", 1, 2),
        Record(2, 6, 1, b"b", 1, 0),
        Record(3, 7, 101, b"c", 1, 2),
        Record(4, 0, CUSTOM_BLOCK, b"cb!!", 4, CUSTOM_BLOCK),
    ]
    assert write_capture(tmp_path / "out.pcapng", records, "pcapng") == 4
    got, reader = read((tmp_path / "out.pcapng").read_bytes())
    assert [r.interface for r in got] == [0, 1, 0, CUSTOM_BLOCK]  # numbered as met
    assert [(r.data, r.linktype, r.timestamp_ns) for r in got] == [
        (r.data, r.linktype, r.timestamp_ns) for r in records
    ]
    assert [i.linktype for i in reader.interfaces] == [101, 1]


def test_writer_follows_a_reader_whose_interfaces_grow() -> None:
    blob = shb() + idb(1) + epb(b"a") + idb(113) + epb(b"b", 1) + shb() + idb(101) + epb(b"c")
    reader = read_capture(io.BytesIO(blob))
    assert len(reader.interfaces) == 1  # the rest are met while reading
    out = io.BytesIO()
    assert write_capture(out, reader, "pcapng") == 3
    again, _ = read(out.getvalue())
    assert [(r.data, r.linktype, r.interface) for r in again] == [
        (b"a", 1, 0),
        (b"b", 113, 1),
        (b"c", 101, 2),
    ]


# -- tshark, where installed, reads the crafted files the same --------------------------


CRAFTED = {
    "sections": shb() + idb() + epb(b"a" * 9) + shb("big") + idb(order="big") + epb(order="big"),
    "custom_and_unknown": HEAD
    + block(ng.CB_TYPE, private_enterprise_number=1, custom_data=b"12")
    + block(0x77, raw=b"abcd")
    + epb(),
    "comments": HEAD + epb(options=[opt(ng.OPT_COMMENT, b"c"), END]),
    "not_multiple_of_4": ONE + raw_block(0x77, 18, b"abcdef\0\0", 19) + epb(),
    "not_multiple_of_4_unpadded": ONE + raw_block(0x77, 14, b"ab") + epb(),
    "too_small": ONE + patch(epb(), 4, 24) + epb(),
    "trailer": ONE + patch(epb(), 88, 1000) + epb(),
    "past_eof": ONE + patch(epb(), 4, 4000),
    "cut": ONE + epb()[:50],
    "huge": ONE + patch(epb(), 4, 0xFFFFFFF0),
    "no_interface": ONE + epb(interface=1) + epb(),
    "option_overrun": ONE + patch(epb(options=[opt(1, b"hello!!!"), END]), 88, 200 << 16 | 1),
    "spb_before_idb": shb() + spb(b"abcd", 4) + idb() + epb(),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_tshark_reads_the_same_records(name: str, tmp_path: Path) -> None:
    assert_tshark_reads_the_same(tmp_path / f"{name}.pcapng", CRAFTED[name])


# -- the corpus: fast path against the schemas on real files -----------------------------


def corpus_pcapngs() -> list[Path | None]:
    pcaps = CORPUS / "pcaps"
    if not pcaps.is_dir():
        return [None]
    return [p for p in sorted(pcaps.iterdir()) if p.read_bytes()[:4] == b"\n\r\r\n"]


@pytest.mark.parametrize("path", corpus_pcapngs(), ids=lambda p: p.name if p else "missing")
def test_reader_matches_schema_on_corpus(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"shared corpus not found at {CORPUS}")
    blob = path.read_bytes()
    expected, complete = reference(blob)
    got, reader = read(blob)
    assert complete and reader.damage is None
    assert got == expected
