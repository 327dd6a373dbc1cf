"""Properties of the message framers: any chunking gives back the messages, hostile input fails
early with the right offset, and the work stays linear in the bytes fed."""

from __future__ import annotations

import array
import itertools
import pickle
from collections.abc import Sequence
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headerkit.errors import FramingError
from headerkit.framing import (
    DELIMITER_MAX_LENGTH,
    LENGTH_PREFIX_MAX_LENGTH,
    BytesLike,
    DelimiterFramer,
    EncodeError,
    Framer,
    FramerClosedError,
    IncompleteMessageError,
    InvalidLengthError,
    LengthPrefixFramer,
    MessageTooLongError,
)

MIB = 1 << 20
DELIMITERS = [b"\n", b"\r\n", b"\x00", b"aa", b"aba", b"\r\n\r\n", b"--sep--"]
Width = Literal[1, 2, 4, 8]
ByteOrder = Literal["big", "little"]
WIDTHS: list[Width] = [1, 2, 4, 8]
BYTEORDERS: list[ByteOrder] = ["big", "little"]
HUGE_PREFIXES: list[tuple[Width, int]] = [(4, 2**32 - 1), (8, 2**64 - 1)]

delimiters = st.one_of(st.sampled_from(DELIMITERS), st.binary(min_size=1, max_size=4))
# Bytes drawn often from the delimiters' alphabet, so messages collide with them often.
payloads = st.one_of(
    st.binary(max_size=40),
    st.lists(st.sampled_from(b"ab\r\n\x00-"), max_size=40).map(bytes),
)


class PeakDelimiterFramer(DelimiterFramer):
    """Records the largest buffer held, measured right after each append."""

    peak = 0

    def _extract(self, out: list[bytes]) -> None:
        self.peak = max(self.peak, self.bytes_pending)
        super()._extract(out)


class PeakLengthPrefixFramer(LengthPrefixFramer):
    """Records the largest buffer held, measured right after each append."""

    peak = 0

    def _extract(self, out: list[bytes]) -> None:
        self.peak = max(self.peak, self.bytes_pending)
        super()._extract(out)


class RescanningFramer(DelimiterFramer):
    """The mistake the linear-work test must catch: searching from the start every time."""

    def _extract(self, out: list[bytes]) -> None:
        self._search_from = 0
        super()._extract(out)


@st.composite
def chunkings(draw: st.DrawFn, stream: bytes) -> list[BytesLike]:
    """``stream`` cut into chunks: one byte at a time, at random points (empty chunks
    included), or whole; as bytes, bytearray or memoryview."""
    mode = draw(st.sampled_from(["drip", "cuts", "whole"]))
    if mode == "drip":
        pieces = [stream[i : i + 1] for i in range(len(stream))]
    elif mode == "cuts":
        points = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=20)))
        bounds = [0, *points, len(stream)]
        pieces = [stream[a:b] for a, b in itertools.pairwise(bounds)]
    else:
        pieces = [stream]
    kind = draw(st.sampled_from([bytes, bytearray, memoryview]))
    return [kind(p) for p in pieces]


def feed_all(framer: Framer, chunks: Sequence[BytesLike]) -> list[bytes]:
    out: list[bytes] = []
    for chunk in chunks:
        got = framer.feed(chunk)
        assert all(type(m) is bytes for m in got)
        out.extend(got)
    return out


def drip(stream: bytes) -> list[bytes]:
    return [stream[i : i + 1] for i in range(len(stream))]


def encodable(framer: Framer, messages: list[bytes]) -> list[bytes]:
    kept = []
    for m in messages:
        try:
            framer.encode(m)
        except EncodeError:
            continue
        kept.append(m)
    return kept


def feed_until_error(framer: Framer, chunks: Sequence[BytesLike]) -> tuple[FramingError, int]:
    """Feed until the framer raises; the error and ``bytes_fed`` before the raising chunk."""
    for chunk in chunks:
        before = framer.bytes_fed
        try:
            framer.feed(chunk)
        except FramingError as exc:
            return exc, before
    raise AssertionError("the framer accepted a hostile stream")


# --- round trips -----------------------------------------------------------------------------


@given(delimiters, st.lists(payloads, max_size=12), st.data())
def test_delimiter_round_trip_any_chunking(
    delimiter: bytes, raw: list[bytes], data: st.DataObject
) -> None:
    messages = encodable(DelimiterFramer(delimiter, max_length=64), raw)
    stream = b"".join(DelimiterFramer(delimiter, max_length=64).encode(m) for m in messages)
    for chunks in (drip(stream), data.draw(chunkings(stream))):
        framer = DelimiterFramer(delimiter, max_length=64)
        assert feed_all(framer, chunks) == messages
        framer.close()
        assert framer.bytes_fed == len(stream)
        assert framer.messages_returned == len(messages)
        assert framer.bytes_pending == 0
        assert len(stream) <= framer.bytes_searched <= len(delimiter) * len(stream)


@given(delimiters, payloads)
def test_delimiter_encode_refuses_exactly_what_would_not_round_trip(
    delimiter: bytes, message: bytes
) -> None:
    try:
        framed = DelimiterFramer(delimiter).encode(message)
    except EncodeError:
        assert DelimiterFramer(delimiter).feed(message + delimiter) != [message]
    else:
        assert framed == message + delimiter
        framer = DelimiterFramer(delimiter)
        assert framer.feed(framed) == [message]
        assert framer.bytes_pending == 0


@given(
    st.sampled_from(WIDTHS),
    st.sampled_from(BYTEORDERS),
    st.booleans(),
    st.lists(st.binary(max_size=300), max_size=8),
    st.data(),
)
def test_length_prefix_round_trip_any_chunking(
    width: Width, byteorder: ByteOrder, includes_header: bool, raw: list[bytes], data: st.DataObject
) -> None:
    def make() -> LengthPrefixFramer:
        return LengthPrefixFramer(width, byteorder, includes_header)

    messages = encodable(make(), raw)
    stream = b"".join(make().encode(m) for m in messages)
    for chunks in (drip(stream), data.draw(chunkings(stream))):
        framer = make()
        assert feed_all(framer, chunks) == messages
        framer.close()
        assert framer.bytes_fed == len(stream)
        assert framer.messages_returned == len(messages)
        assert framer.bytes_pending == 0


def test_length_prefix_layout() -> None:
    assert LengthPrefixFramer(2).encode(b"abc") == b"\x00\x03abc"
    assert LengthPrefixFramer(2, "little", includes_header=True).encode(b"abc") == b"\x05\x00abc"
    assert LengthPrefixFramer(1).encode(b"") == b"\x00"
    assert LengthPrefixFramer(8).feed(b"\x00" * 7 + b"\x02hi" + b"\x00" * 8) == [b"hi", b""]


def test_multi_byte_delimiter_split_across_chunks() -> None:
    framer = DelimiterFramer(b"\r\n")
    assert framer.feed(b"GET / HTTP/1.1\r") == []
    assert framer.feed(b"\nHost: x\r") == [b"GET / HTTP/1.1"]
    assert framer.feed(b"") == []
    assert framer.feed(bytearray(b"\n\r\n")) == [b"Host: x", b""]
    assert framer.bytes_searched <= 2 * framer.bytes_fed


def test_feed_accepts_any_buffer_format() -> None:
    words = array.array("H", [0x0A0A, 0x4142, 0x0A0A])  # 2-byte items, read as their bytes
    framer = DelimiterFramer()
    assert framer.feed(memoryview(words)) == DelimiterFramer().feed(words.tobytes())
    assert (framer.bytes_fed, framer.messages_returned) == (6, 4)


# --- truncated streams -----------------------------------------------------------------------


def boundaries(framer: Framer, messages: list[bytes]) -> list[int]:
    ends, total = [0], 0
    for m in messages:
        total += len(framer.encode(m))
        ends.append(total)
    return ends


@given(
    st.one_of(
        st.sampled_from(DELIMITERS).map(DelimiterFramer),
        st.sampled_from(WIDTHS).map(LengthPrefixFramer),
    ),
    st.lists(payloads, min_size=1, max_size=6),
    st.data(),
)
def test_close_inside_a_message_says_where_and_how_much(
    framer: Framer, raw: list[bytes], data: st.DataObject
) -> None:
    messages = encodable(framer, raw)
    stream = b"".join(framer.encode(m) for m in messages)
    ends = boundaries(framer, messages)
    cut = data.draw(st.integers(0, len(stream)))
    feed_all(framer, data.draw(chunkings(stream[:cut])))
    start = max(e for e in ends if e <= cut)
    if cut == start:
        framer.close()
    else:
        with pytest.raises(IncompleteMessageError) as info:
            framer.close()
        assert (info.value.offset, info.value.pending) == (start, cut - start)
        assert f"stream offset {start}" in str(info.value)
        assert f"{cut - start} bytes pending" in str(info.value)
    with pytest.raises(FramerClosedError):
        framer.feed(b"")
    with pytest.raises(FramerClosedError):
        framer.close()


# --- hostile streams -------------------------------------------------------------------------


@given(
    st.sampled_from(HUGE_PREFIXES),
    st.sampled_from(BYTEORDERS),
    st.booleans(),
    st.lists(st.binary(max_size=50), max_size=5),
    st.data(),
)
def test_huge_length_prefix_fails_on_the_prefix(
    width_value: tuple[Width, int],
    byteorder: ByteOrder,
    includes_header: bool,
    good: list[bytes],
    data: st.DataObject,
) -> None:
    width, value = width_value
    framer = PeakLengthPrefixFramer(width, byteorder, includes_header, max_length=MIB)
    head = b"".join(framer.encode(m) for m in good)
    stream = head + value.to_bytes(width, byteorder) + b"\xff" * 1000
    error, fed_before = feed_until_error(framer, data.draw(chunkings(stream)))
    assert isinstance(error, MessageTooLongError)
    assert error.offset == len(head)
    assert error.length == value - (width if includes_header else 0)
    assert error.max_length == MIB
    assert f"stream offset {len(head)}" in str(error)
    assert f"max_length {MIB}" in str(error)
    # The raising chunk held the prefix's last byte, and nothing after it was buffered.
    assert fed_before < len(head) + width <= framer.bytes_fed
    assert framer.bytes_pending == width
    assert framer.peak <= MIB + width
    with pytest.raises(FramerClosedError) as again:
        framer.feed(b"x")
    assert again.value.__cause__ is error


def test_huge_length_prefix_in_one_big_chunk_is_not_buffered() -> None:
    framer = PeakLengthPrefixFramer(4, max_length=MIB)
    with pytest.raises(MessageTooLongError):
        framer.feed(b"\xff\xff\xff\xff" + bytes(8 * MIB))
    assert framer.peak == 4


@given(st.sampled_from(WIDTHS), st.lists(st.binary(max_size=50), max_size=5), st.data())
def test_length_prefix_smaller_than_its_header(
    width: Width, good: list[bytes], data: st.DataObject
) -> None:
    framer = LengthPrefixFramer(width, includes_header=True)
    value = data.draw(st.integers(0, width - 1))
    head = b"".join(framer.encode(m) for m in good)
    stream = head + value.to_bytes(width, "big") + b"rest"
    error, _ = feed_until_error(framer, data.draw(chunkings(stream)))
    assert isinstance(error, InvalidLengthError)
    assert (error.offset, error.value, error.width) == (len(head), value, width)
    assert f"stream offset {len(head)}" in str(error)


@given(
    st.sampled_from(DELIMITERS),
    st.integers(0, 60),
    st.lists(payloads, max_size=5),
    st.data(),
)
def test_missing_delimiter_fails_once_max_length_is_exceeded(
    delimiter: bytes, max_length: int, raw: list[bytes], data: st.DataObject
) -> None:
    framer = PeakDelimiterFramer(delimiter, max_length=max_length)
    good = encodable(framer, raw)
    head = b"".join(framer.encode(m) for m in good)
    # "z" is in no delimiter, so the last message never ends: it is too long, and provably so,
    # once max_length + 1 of its bytes are in.
    fail_at = len(head) + max_length + 1
    stream = head + b"z" * (max_length + len(delimiter) + 100)
    error, fed_before = feed_until_error(framer, data.draw(chunkings(stream)))
    assert isinstance(error, MessageTooLongError)
    assert error.offset == len(head)
    assert error.length == framer.bytes_pending  # no tail of z's can begin the delimiter
    assert max_length < error.length <= max_length + len(delimiter)
    assert error.max_length == max_length
    assert f"stream offset {len(head)}" in str(error)
    assert f"max_length {max_length}" in str(error)
    assert fed_before < fail_at <= framer.bytes_fed
    assert framer.peak <= max_length + len(delimiter)
    with pytest.raises(FramerClosedError):
        framer.close()


def test_a_drip_fails_on_the_exact_byte() -> None:
    framer = DelimiterFramer(b"\r\n", max_length=10)
    for _ in range(10):
        assert framer.feed(b"z") == []
    assert framer.feed(b"\r") == []  # 10 bytes and a "\r": still a possible 10-byte message
    with pytest.raises(MessageTooLongError) as info:
        framer.feed(b"\r")  # "\r\r" cannot begin b"\r\n" at the first "\r"
    assert (info.value.offset, info.value.length) == (0, 11)
    assert framer.bytes_pending == 12


def test_messages_before_an_error_in_the_same_chunk_are_discarded() -> None:
    framer = DelimiterFramer(max_length=4)
    with pytest.raises(MessageTooLongError):
        framer.feed(b"ok\n" + b"z" * 10)
    assert framer.messages_returned == 0
    assert framer.bytes_fed == 13


# --- linear work -----------------------------------------------------------------------------


def drip_stream(messages: list[bytes], delimiter: bytes) -> bytes:
    return b"".join(m + delimiter for m in messages)


@pytest.mark.parametrize("delimiter", [b"\n", b"\r\n", b"--sep--"])
def test_drip_does_linear_work_and_holds_one_partial_message(delimiter: bytes) -> None:
    messages = [b"x" * 100_000] + [b"short %d" % i for i in range(5_000)] + [b"y" * 50_000]
    stream = drip_stream(messages, delimiter)
    framer = DelimiterFramer(delimiter, max_length=MIB)
    got: list[bytes] = []
    since_boundary = 0
    for i in range(len(stream)):
        done = framer.feed(stream[i : i + 1])
        got.extend(done)
        since_boundary = 0 if done else since_boundary + 1
        assert framer.bytes_pending == since_boundary  # consumed bytes were dropped
    assert got == messages
    assert len(stream) <= framer.bytes_searched <= len(delimiter) * len(stream)


def test_the_work_counter_catches_a_rescanning_search() -> None:
    stream = b"x" * 5_000 + b"\n"
    framer = RescanningFramer(max_length=MIB)
    assert feed_all(framer, drip(stream)) == [stream[:-1]]
    assert framer.bytes_searched > 100 * len(stream)


def test_length_prefix_drip_holds_only_the_current_message() -> None:
    framer = PeakLengthPrefixFramer(4)
    stream = b"".join(framer.encode(bytes(n)) for n in (70_000, 0, 3, 10_000))
    assert [len(m) for m in feed_all(framer, drip(stream))] == [70_000, 0, 3, 10_000]
    assert framer.peak == 4 + 70_000


# --- limits, errors, API ---------------------------------------------------------------------


def test_default_limits_and_explicit_larger_ones() -> None:
    assert DelimiterFramer().max_length == DELIMITER_MAX_LENGTH == 64 * 1024
    assert LengthPrefixFramer().max_length == LENGTH_PREFIX_MAX_LENGTH == 16 * MIB
    big = b"x" * (DELIMITER_MAX_LENGTH + 1)
    with pytest.raises(MessageTooLongError):
        DelimiterFramer().feed(big + b"\n")
    assert DelimiterFramer(max_length=len(big)).feed(big + b"\n") == [big]
    with pytest.raises(EncodeError, match="max_length 65536"):
        DelimiterFramer().encode(big)


def test_length_prefix_encode_refusals() -> None:
    with pytest.raises(EncodeError, match="over max_length 10"):
        LengthPrefixFramer(4, max_length=10).encode(bytes(11))
    with pytest.raises(EncodeError, match="1-byte length prefix"):
        LengthPrefixFramer(1).encode(bytes(256))
    with pytest.raises(EncodeError, match="largest payload 254"):
        LengthPrefixFramer(1, includes_header=True).encode(bytes(255))
    assert len(LengthPrefixFramer(1, includes_header=True).encode(bytes(254))) == 255


def test_bad_configuration() -> None:
    with pytest.raises(ValueError, match="delimiter"):
        DelimiterFramer(b"")
    with pytest.raises(ValueError, match="width"):
        LengthPrefixFramer(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="byteorder"):
        LengthPrefixFramer(2, "middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_length"):
        DelimiterFramer(max_length=-1)


@pytest.mark.parametrize(
    "error",
    [
        MessageTooLongError(7, 99, 10, "length prefix announces 99 bytes"),
        InvalidLengthError(7, 1, 4),
        IncompleteMessageError(7, 3, "no delimiter b'\\n' yet"),
        FramerClosedError("framer is closed"),
        EncodeError("message of 3 bytes is over max_length 2"),
    ],
)
def test_errors_are_framing_errors_and_pickle(error: FramingError) -> None:
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)


def test_callers_buffer_is_released_even_after_an_error() -> None:
    chunk = bytearray(b"zzzzzz")
    framer = DelimiterFramer(max_length=2)
    with pytest.raises(MessageTooLongError):
        framer.feed(chunk)
    chunk.extend(b"more")  # would raise BufferError if a memoryview were still exported
    assert framer.bytes_pending <= 3
