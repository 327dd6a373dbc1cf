"""Stream reassembly: placement, wrap-around, overlaps (which copy wins, conflicts), gaps with
their sequence numbers, the buffer limit; messages recovered by framers; ``headerkit follow``."""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headerkit.cli import follow as follow_cli
from headerkit.flows.follow import follow
from headerkit.flows.messages import FramingBreak, Message, MessageSplitter
from headerkit.flows.reassembly import Chunk, Event, Gap, Overlap, Reassembler, Refused
from headerkit.framing import LengthPrefixFramer, framer_factory
from tests.test_flows import Talk

E = TypeVar("E", Chunk, Gap, Overlap, Refused)


def stream(events: list[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Chunk))


def of(kind: type[E], events: list[Event]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def test_syn_takes_one_sequence_number_and_chunks_keep_their_frames() -> None:
    r = Reassembler()
    assert r.segment(999, b"", syn=True, frame=1) == []
    events = r.segment(1000, b"hello ", frame=3) + r.segment(1006, b"world", frame=4)
    assert events == [Chunk(0, 1000, b"hello ", 3), Chunk(6, 1006, b"world", 4)]
    assert r.rcv_nxt == 1011


def test_data_in_the_syn_is_the_first_byte() -> None:
    r = Reassembler()
    assert r.segment(41, b"GET", syn=True, frame=1) == [Chunk(0, 42, b"GET", 1)]


def test_wrap_around_at_2_32() -> None:
    r = Reassembler()
    isn = 2**32 - 4
    events = r.segment(isn, b"", syn=True)
    for i, part in enumerate([b"abc", b"defgh", b"ijk"]):
        seq = (isn + 1 + sum(len(p) for p in [b"abc", b"defgh", b"ijk"][:i])) % 2**32
        events += r.segment(seq, part, frame=i)
    assert stream(events) == b"abcdefghijk"
    assert [e.offset for e in of(Chunk, events)] == [0, 3, 8]
    assert [e.seq for e in of(Chunk, events)] == [2**32 - 3, 0, 5]
    # a segment from before the wrap still lands before it, not 4 GiB later
    late = r.segment(2**32 - 3, b"abc", frame=9)
    assert late == [Overlap(0, 3, 2**32 - 3, 9, 0, False)]


def test_out_of_order_segments_wait_for_the_hole() -> None:
    r = Reassembler()
    r.segment(0, b"", syn=True)
    assert r.segment(6, b"world", frame=2) == []
    assert r.buffered > 0
    events = r.segment(1, b"hello", frame=1)
    assert events == [Chunk(0, 1, b"hello", 1), Chunk(5, 6, b"world", 2)]
    assert r.buffered == 0


def test_overlapping_retransmission_with_different_bytes_keeps_the_first_copy() -> None:
    r = Reassembler()
    r.segment(0, b"", syn=True)
    first = r.segment(1, b"abcdef", frame=1)
    again = r.segment(4, b"XYZghi", frame=2)  # 3 old bytes that differ, 3 new ones
    assert stream(first + again) == b"abcdefghi"
    assert again[0] == Overlap(3, 3, 4, 2, 1, True)
    assert again[1] == Chunk(6, 7, b"ghi", 2)
    same = r.segment(1, b"abc", frame=3)
    assert same == [Overlap(0, 3, 1, 3, 1, False)]


def test_overlap_with_a_buffered_segment() -> None:
    r = Reassembler()
    r.segment(0, b"", syn=True)
    r.segment(11, b"KLMNO", frame=2)  # waits: bytes 10..14
    events = r.segment(1, b"0123456789klm", frame=3)  # reaches into it, disagreeing
    assert of(Overlap, events) == [Overlap(10, 3, 11, 3, 2, True)]
    assert stream(events) == b"0123456789KLMNO"
    assert [c.frame for c in of(Chunk, events)] == [3, 2]


def test_an_acknowledged_hole_is_a_gap_with_its_sequence_numbers() -> None:
    r = Reassembler()
    r.segment(100, b"", syn=True)
    r.segment(101, b"a" * 10, frame=1)
    assert r.segment(131, b"b" * 10, frame=3) == []  # 20 bytes never captured
    events = r.ack(141)
    assert events == [
        Gap(10, 20, 111, "acknowledged by the peer but not captured"),
        Chunk(30, 131, b"b" * 10, 3),
    ]
    assert of(Gap, events)[0].end_seq == 131


def test_a_hole_left_at_the_end_is_reported_then_skipped() -> None:
    r = Reassembler()
    r.segment(0, b"x", frame=1)
    r.segment(5, b"y", frame=2)
    assert r.finish() == [Gap(1, 4, 1, "not captured (the capture ends)"), Chunk(5, 5, b"y", 2)]


def test_acks_of_the_fin_and_bogus_acks_skip_nothing() -> None:
    r = Reassembler()
    r.segment(0, b"", syn=True)
    r.segment(1, b"data", fin=True, frame=1)
    assert r.fin_offset == 4
    assert r.ack(6) == []  # data and FIN
    assert r.ack(2**31) == []  # past anything captured
    assert r.rcv_nxt == 5


def test_snap_length_cut_is_a_gap_where_it_falls() -> None:
    r = Reassembler()
    r.segment(0, b"", syn=True)
    events = r.segment(1, b"abc", length=10, frame=1) + r.segment(11, b"next", frame=2)
    assert events == [
        Chunk(0, 1, b"abc", 1),
        Gap(3, 7, 4, "cut by the snap length"),
        Chunk(10, 11, b"next", 2),
    ]


def test_the_buffer_limit_refuses_and_says_what() -> None:
    r = Reassembler(max_buffer=200)
    r.segment(0, b"", syn=True)
    assert r.segment(1001, b"k" * 100, frame=1) == []
    refused = r.segment(2001, b"r" * 100, frame=2)
    assert refused == [Refused(2000, 100, 2001, 2, "out-of-order buffer full (200 bytes)")]
    assert r.buffered <= 200
    # in-order bytes are never refused: they are delivered, not held
    assert stream(r.segment(1, b"i" * 1000, frame=3)) == b"i" * 1000 + b"k" * 100


def test_comparisons_need_the_bytes_still_kept() -> None:
    r = Reassembler(history=4)
    r.segment(0, b"", syn=True)
    r.segment(1, b"abcdefgh", frame=1)
    r.segment(9, b"ijklmnop", frame=2)  # over twice the history: the oldest bytes go
    assert r.segment(1, b"abcd", frame=3) == [Overlap(0, 4, 1, 3, None, None)]
    assert r.segment(13, b"mnoX", frame=4) == [Overlap(12, 4, 13, 4, 2, True)]


def test_messages_from_lines_name_the_frames_they_span() -> None:
    r, split = Reassembler(), MessageSplitter(framer_factory("lines"))
    out: list[Message | FramingBreak] = []
    for frame, (seq, data) in enumerate([(0, b"GET / HT"), (8, b"TP/1.0\r\nHost"), (20, b": x\n")]):
        for ev in r.segment(seq, data, frame=frame + 1):
            out += split.feed(ev)
    assert out == [
        Message(b"GET / HTTP/1.0\r", 0, 16, (1, 2)),
        Message(b"Host: x", 16, 24, (2, 3)),
    ]
    assert split.close() is None


def test_length_prefixed_messages_and_a_cut_one() -> None:
    r, split = Reassembler(), MessageSplitter(framer_factory("length:2"))
    framer = LengthPrefixFramer(width=2)
    data = framer.encode(b"one") + framer.encode(b"three") + b"\x00\x09par"
    out = [m for ev in r.segment(0, data, frame=7) for m in split.feed(ev)]
    assert out == [Message(b"one", 0, 5, (7,)), Message(b"three", 5, 12, (7,))]
    assert split.close() == FramingBreak(12, "stream ends inside a message (5 bytes)")


def test_a_gap_breaks_the_framing() -> None:
    lines, prefixed = (
        MessageSplitter(framer_factory("lines")),
        MessageSplitter(framer_factory("length:4")),
    )
    gap = Gap(3, 10, 3, "acknowledged by the peer but not captured")
    assert lines.feed(Chunk(0, 0, b"abc", 1)) == []
    assert lines.feed(gap) == [FramingBreak(0, "a gap cut the message (3 bytes lost)")]
    assert lines.feed(Chunk(13, 13, b"tail\nnext\n", 2)) == [
        Message(b"tail", 13, 18, (2,), after_gap=True),
        Message(b"next", 18, 23, (2,)),
    ]
    assert prefixed.feed(gap) == [FramingBreak(3, "a gap: length prefixes cannot resynchronise")]
    assert prefixed.feed(Chunk(13, 13, b"\x00\x00\x00\x01x", 2)) == []


def test_a_framing_error_stops_that_direction() -> None:
    split = MessageSplitter(framer_factory("length:1"))
    split.framer = LengthPrefixFramer(width=1, max_length=3)
    (stopped,) = split.feed(Chunk(0, 0, b"\x09toolong", 1))
    assert isinstance(stopped, FramingBreak) and "max_length 3" in stopped.reason
    assert split.feed(Chunk(9, 9, b"\x01a", 2)) == []


@pytest.mark.parametrize("spec", ["words", "length:3", "length:"])
def test_unknown_framings_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="unknown framing"):
        framer_factory(spec)


def test_length_alone_means_a_four_byte_prefix() -> None:
    framer = framer_factory("length")()
    assert isinstance(framer, LengthPrefixFramer) and framer.width == 4


def conversation() -> Talk:
    talk = Talk().handshake()
    talk.c(1001, 5001, "PA", b"HELO a\r\n", at=300)
    talk.c(1017, 5001, "PA", b"QUIT\r\n", at=301)  # arrives before the segment it follows
    talk.c(1009, 5001, "PA", b"MAIL b\r\n", at=302)
    talk.s(5001, 1023, "PA", b"250 ok\r\n250 ok\r\n", at=303)
    talk.s(5017, 1023, "PA", b"221 bye", at=304)
    talk.s(5017, 1023, "PA", b"221 BYE\r\n", at=305)  # overlaps with different bytes
    talk.c(1023, 5026, "FA", at=306)
    return talk


def test_follow_places_both_directions() -> None:
    followed = follow(conversation().packets, 0)
    events = list(followed)
    assert followed.flow is not None and str(followed.flow.b) == "10.0.0.2:80"
    client = [e.event for e in events if e.node == 0]
    server = [e.event for e in events if e.node == 1]
    assert stream(client) == b"HELO a\r\nMAIL b\r\nQUIT\r\n"
    assert stream(server) == b"250 ok\r\n250 ok\r\n221 bye\r\n"
    assert of(Overlap, server) == [Overlap(16, 7, 5017, 9, 8, True)]
    assert list(follow(conversation().packets, 5)) == []


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    follow_cli.register(parser.add_subparsers())
    args = parser.parse_args(["follow", *argv])
    status = args.run(args)
    out = capsys.readouterr()
    return status, out.out, out.err


def test_follow_cli_raw_and_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = conversation().write(tmp_path / "smtp.pcap")
    status, out, err = cli(capsys, str(path), "--stream", "0")
    assert status == 0
    assert out.splitlines()[2:6] == [
        "Follow: tcp,raw",
        "Filter: tcp.stream eq 0",
        "Node 0: 10.0.0.1:40000",
        "Node 1: 10.0.0.2:80",
    ]
    assert out.splitlines()[6:9] == [b"HELO a\r\n".hex(), b"MAIL b\r\n".hex(), b"QUIT\r\n".hex()]
    assert "frame 9 repeats 7 bytes at seq 5017 (different bytes)" in err
    status, out, _ = cli(capsys, str(path), "--stream", "0", "--frame", "lines")
    assert out.splitlines()[6:12] == [
        "#1 frame 4 offset 0, 7 bytes: b'HELO a\\r'",
        "#2 frame 6 offset 8, 7 bytes: b'MAIL b\\r'",
        "#3 frame 5 offset 16, 5 bytes: b'QUIT\\r'",
        "\t#1 frame 7 offset 0, 7 bytes: b'250 ok\\r'",
        "\t#2 frame 7 offset 8, 7 bytes: b'250 ok\\r'",
        "\t#3 frames 8-9 offset 16, 8 bytes: b'221 bye\\r'",
    ]


def test_follow_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = conversation().write(tmp_path / "smtp.pcap")
    assert cli(capsys, str(path), "--stream", "3")[0] == 1
    status, _, err = cli(capsys, str(path), "--stream", "0", "--frame", "words")
    assert status == 2 and "unknown framing" in err


segments = st.lists(
    st.tuples(st.integers(0, 150), st.integers(1, 40), st.integers(0, 5)), min_size=1, max_size=20
)


@given(
    data=st.binary(min_size=200, max_size=200),
    isn=st.sampled_from([0, 12345, 2**32 - 70, 2**32 - 1]),
    parts=segments,
    order=st.randoms(use_true_random=False),
)
def test_any_order_of_consistent_segments_gives_the_stream_back(
    data: bytes, isn: int, parts: list[tuple[int, int, int]], order: random.Random
) -> None:
    """Chunks and gaps tile the stream and chunks hold the sender's bytes, whatever the order,
    the overlaps and the cuts; no byte a segment carried is lost, unless a copy of it cut by
    the snap length reached the front of the stream first."""
    order.shuffle(parts)
    r = Reassembler()
    events = r.segment(isn, b"", syn=True)
    seen = set()
    for frame, (start, length, cut) in enumerate(parts):
        seq = (isn + 1 + start) % 2**32
        captured = max(length - cut, 0)
        payload = data[start : start + captured]
        events += r.segment(seq, payload, frame=frame, length=length)
        seen.update(range(start, start + captured))
        assert r.buffered <= r.max_buffer
    events += r.finish()
    pos = 0
    for ev in events:
        if isinstance(ev, Chunk):
            assert ev.offset == pos and ev.data == data[pos : pos + len(ev.data)]
            assert ev.seq == (isn + 1 + pos) % 2**32
            pos += len(ev.data)
        elif isinstance(ev, Gap):
            # bytes a copy did carry are missing only where a cut copy came first
            lost = seen & set(range(pos, pos + ev.length))
            assert ev.offset == pos and (not lost or ev.reason == "cut by the snap length")
            pos += ev.length
        else:
            assert isinstance(ev, Overlap) and ev.conflict is not True
    assert pos == max(start + length for start, length, _ in parts)


@given(parts=segments, limit=st.integers(0, 300))
def test_the_buffer_never_grows_past_its_limit(
    parts: list[tuple[int, int, int]], limit: int
) -> None:
    r = Reassembler(max_buffer=limit, history=16)
    r.segment(0, b"", syn=True)
    for start, length, cut in parts:
        r.segment(1 + start, bytes([start % 251]) * max(length - cut, 0), length=length)
        assert r.buffered <= limit


@given(
    parts=st.lists(st.tuples(st.integers(0, 60), st.binary(min_size=1, max_size=30)), max_size=15)
)
def test_the_first_copy_of_each_byte_wins_and_differences_are_flagged(
    parts: list[tuple[int, bytes]],
) -> None:
    r = Reassembler()
    events = r.segment(2**32 - 5, b"", syn=True)
    first: dict[int, int] = {}
    for start, payload in parts:
        events += r.segment((2**32 - 4 + start) % 2**32, payload)
        for i, byte in enumerate(payload):
            first.setdefault(start + i, byte)
    events += r.finish()
    for chunk in (e for e in events if isinstance(e, Chunk)):
        assert list(chunk.data) == [first[chunk.offset + i] for i in range(len(chunk.data))]
    flagged = any(isinstance(e, Overlap) and e.conflict for e in events)
    differs = any(
        payload[i] != first[start + i] for start, payload in parts for i in range(len(payload))
    )
    assert flagged == differs
