"""Fuzz targets: each takes arbitrary bytes and must never fail except as the policy says.

Lenient decoding never raises; strict decoding raises only headerkit's own errors.  Any
other exception, a hang or a crash is a finding.
"""

from __future__ import annotations

import contextlib
import io
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from headerkit.captures import read_capture
from headerkit.errors import (
    CaptureFileError,
    FilterError,
    FramingError,
    HeaderkitError,
    ScenarioError,
    ScriptError,
)
from headerkit.flows import Reassembler
from headerkit.framing import DelimiterFramer, LengthPrefixFramer
from headerkit.packet.decode import decode
from headerkit.packetdrill import parse_script
from headerkit.schemas.linktypes import LinkType
from headerkit.sim import scenario_from_toml
from headerkit.tables.filter import compile_filter
from headerkit.tables.tshark import tshark_fields

LINKTYPES = [int(x) for x in LinkType] + [147]


def decode_target(data: bytes) -> None:
    """The first byte picks the link type; the rest is the frame."""
    if not data:
        return
    linktype = LINKTYPES[data[0] % len(LINKTYPES)]
    frame = data[1:]
    pkt = decode(frame, linktype, wirelen=len(frame) + (data[0] >> 4))
    tshark_fields(pkt)
    with contextlib.suppress(HeaderkitError):
        decode(frame, linktype, strict=True)


def capture_target(data: bytes) -> None:
    """A capture file: read leniently to the end, then strictly.

    Bytes that are not a capture at all are refused when the reader opens, in either mode.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lenient damage reports; the target checks no raise
        try:
            reader = read_capture(io.BytesIO(data))
        except CaptureFileError:
            return
        for record in reader:  # decoded whole (reading its problems does all the work)
            _ = decode(record.data, record.linktype, wirelen=record.wirelen).problems
    with contextlib.suppress(HeaderkitError):
        for _ in read_capture(io.BytesIO(data), strict=True):
            pass


def scenario_target(data: bytes) -> None:
    """A scenario file: TOML text that only ever loads or is refused as a ScenarioError
    (an unknown key, a wrong type, a size or time out of range), never anything else."""
    with contextlib.suppress(ScenarioError):
        scenario_from_toml(data.decode("utf-8", "replace"))


def packetdrill_target(data: bytes) -> None:
    """A packetdrill script: parsed, or refused as a ScriptError naming line and column."""
    with contextlib.suppress(ScriptError):
        parse_script(data.decode("utf-8", "replace"))


_RECORD = {
    "frame.number": 1,
    "ip.src": "10.0.0.1",
    "ipv6.dst": "::1",
    "tcp.srcport": 80,
    "tcp.flags": 0x12,
    "tcp.option_kind": [2, 1],
    "frame": b"GET / HTTP/1.1",
}


def filter_target(data: bytes) -> None:
    """A display filter: compiled and run on a record, or refused as a FilterError naming
    the column."""
    with contextlib.suppress(FilterError):
        compile_filter(data.decode("utf-8", "replace")).matches(_RECORD)


MESSAGE_LIMIT = 64  # the framers' max_length: the stream holds many messages past it


def framing_target(data: bytes) -> None:
    """A stream cut into chunks by its own bytes, fed to both framers with a small limit.

    Only framing errors may escape, and a framer never holds more than its limit allows.
    """
    if len(data) < 2:
        return
    width = (1, 2, 4, 8)[data[0] % 4]
    cut = max(1, data[1])
    framers = [
        DelimiterFramer(b"\r\n", max_length=MESSAGE_LIMIT),
        LengthPrefixFramer(
            width, "little" if data[0] & 4 else "big", bool(data[0] & 8), MESSAGE_LIMIT
        ),
    ]
    for framer in framers:
        with contextlib.suppress(FramingError):
            for at in range(2, len(data), cut):
                for message in framer.feed(data[at : at + cut]):
                    assert len(message) <= MESSAGE_LIMIT
                assert framer.bytes_pending <= MESSAGE_LIMIT + 8
            framer.close()


BUFFER_LIMIT = 256  # the reassembler's max_buffer: the segments overrun it several times


def reassembly_target(data: bytes) -> None:
    """Segments read off the input (seq, length, flags, payload), with ACKs, into one
    direction's reassembler: it never raises and never buffers past its limit."""
    reassembler = Reassembler(max_buffer=BUFFER_LIMIT, history=64)
    at, frame = 0, 0
    while at + 7 <= len(data):
        seq, size, flags = struct.unpack_from(">IHB", data, at)
        at += 7
        payload = data[at : at + min(size, 64)]
        at += len(payload)
        frame += 1
        if flags & 0x80:
            reassembler.ack(seq)
        else:
            reassembler.segment(seq, payload, frame=frame, syn=bool(flags & 2), fin=bool(flags & 1))
        assert reassembler.buffered <= reassembler.max_buffer
    reassembler.finish()


@dataclass(frozen=True)
class Target:
    """A fuzz target and the longest input libFuzzer makes for it: past that length an input
    only repeats structure a shorter one already reaches (more records, options, lines), and
    the run spends its executions on copying bytes.  Inputs longer than that are the hostile
    input tests' job (``tests/test_hostile.py``: work linear in the input)."""

    run: Callable[[bytes], None]
    max_len: int


TARGETS: dict[str, Target] = {
    "decode": Target(decode_target, 4096),
    "capture": Target(capture_target, 4096),
    "framing": Target(framing_target, 16 * MESSAGE_LIMIT),
    "reassembly": Target(reassembly_target, 4 * BUFFER_LIMIT),
    "scenario": Target(scenario_target, 8192),
    "packetdrill": Target(packetdrill_target, 4096),  # a hundred statements or more
    "filter": Target(filter_target, 1024),
}
