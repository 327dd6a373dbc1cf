"""Decode a whole capture file as a stream of packets, in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from headerkit.captures import CaptureReader, read_capture
from headerkit.errors import CaptureFileError
from headerkit.packet.decode import Packet


class DecodedCapture:
    """Iterate the decoded packets of a pcap or pcapng file, one at a time.

    Every record the file holds comes out as a packet, a malformed one included; damage in
    the file is reported (a :class:`~headerkit.errors.HeaderkitWarning`, and ``damage``) and
    reading goes on at the next intact block or record where one can be found (strict mode
    raises it instead).
    """

    def __init__(self, source: str | Path | BinaryIO, *, strict: bool = False) -> None:
        self.reader: CaptureReader = read_capture(source, strict=strict)
        self.strict = strict

    def __iter__(self) -> Iterator[Packet]:
        strict = self.strict
        packet = Packet
        for rec in self.reader:
            problem = rec.problem
            pkt = packet(
                rec.data,
                rec.linktype,
                rec.wirelen,
                number=rec.number,
                timestamp_ns=rec.timestamp_ns,
                problems=None if problem is None else [problem],
                strict=strict,
            )
            if strict:
                pkt.problems  # noqa: B018  (decoded now: the first problem raises here)
            yield pkt

    def close(self) -> None:
        """Close the file, if it was opened from a path (reading may stop early)."""
        self.reader.close()

    def __enter__(self) -> DecodedCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def damage(self) -> CaptureFileError | None:
        damage: CaptureFileError | None = self.reader.damage
        return damage


def decode_capture(source: str | Path | BinaryIO, *, strict: bool = False) -> DecodedCapture:
    """The packets of a capture file, decoded lazily (see :class:`DecodedCapture`)."""
    return DecodedCapture(source, strict=strict)
