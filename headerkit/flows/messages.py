"""Messages a framer recovers from a reassembled stream, each with the packets it spans.

A :class:`MessageSplitter` takes one node's stream events (:class:`Chunk` and :class:`Gap`)
and feeds the bytes to a framer from :mod:`headerkit.framing`.  It knows the stream offset
where each message starts and ends, so it can name the frames whose bytes it holds.  A gap
breaks the framing: the message in progress is lost; a delimited stream resynchronises on the
next delimiter (the first message after the gap is marked ``after_gap``, it may be the tail
of a longer one), a length-prefixed one cannot and stops.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from headerkit.errors import FramingError
from headerkit.flows.reassembly import Chunk, Event, Gap
from headerkit.framing import DelimiterFramer, Framer, LengthPrefixFramer


@dataclass(frozen=True, slots=True)
class Message:
    """One message: its payload (framing removed), its stream offsets and frames."""

    data: bytes
    offset: int  # where its framing starts in the stream
    end: int  # where its framing ends
    frames: tuple[int, ...]
    after_gap: bool = False


@dataclass(frozen=True, slots=True)
class FramingBreak:
    """The framing broke at stream offset ``offset``: an error, a gap, or the end of the
    stream inside a message.  Only a delimited stream goes on, after a gap."""

    offset: int
    reason: str


class MessageSplitter:
    """The messages of one node's stream; :meth:`feed` it that node's events in order."""

    def __init__(self, make_framer: Callable[[], Framer]) -> None:
        self.make_framer = make_framer
        self.framer: Framer | None = make_framer()
        self.overhead = _overhead(self.framer)
        self._pos = 0  # stream offset of the next byte the framer consumes
        self._fed = 0  # stream offset after the last byte fed
        self._frames: deque[tuple[int, int, int | None]] = deque()  # (start, end, frame)
        self._after_gap = False

    def feed(self, event: Event) -> list[Message | FramingBreak]:
        """Take a chunk (its messages come back) or a gap (the framing breaks)."""
        if self.framer is None:
            return []
        if isinstance(event, Gap):
            return self._gap(event)
        if not isinstance(event, Chunk):
            return []
        end = event.offset + len(event.data)
        self._frames.append((event.offset, end, event.frame))
        self._fed = end
        try:
            payloads = self.framer.feed(event.data)
        except FramingError as err:
            self.framer = None
            return [FramingBreak(self._pos, str(err))]
        return [self._message(p) for p in payloads]

    def close(self) -> FramingBreak | None:
        """The stream ended: a message in progress is reported as cut."""
        if self.framer is None or self.framer.bytes_pending == 0:
            return None
        pending = self.framer.bytes_pending
        self.framer = None
        return FramingBreak(self._fed - pending, f"stream ends inside a message ({pending} bytes)")

    def _message(self, payload: bytes) -> Message:
        start, end = self._pos, self._pos + len(payload) + self.overhead
        self._pos = end
        frames = tuple(
            dict.fromkeys(
                f for lo, hi, f in self._frames if lo < end and hi > start and f is not None
            )
        )
        while self._frames and self._frames[0][1] <= end:
            self._frames.popleft()
        after_gap, self._after_gap = self._after_gap, False
        return Message(payload, start, end, frames, after_gap)

    def _gap(self, gap: Gap) -> list[Message | FramingBreak]:
        lost = self.framer.bytes_pending if self.framer else 0
        self._frames.clear()
        self._pos = self._fed = gap.offset + gap.length
        if isinstance(self.framer, LengthPrefixFramer):
            self.framer = None
            return [FramingBreak(gap.offset - lost, "a gap: length prefixes cannot resynchronise")]
        self.framer = self.make_framer()
        self._after_gap = True
        if not lost:
            return []
        return [FramingBreak(gap.offset - lost, f"a gap cut the message ({lost} bytes lost)")]


def _overhead(framer: Framer) -> int:
    """What the framing adds to each message: the delimiter, or the length prefix."""
    if isinstance(framer, DelimiterFramer):
        return len(framer.delimiter)
    if isinstance(framer, LengthPrefixFramer):
        return framer.width
    raise TypeError(f"unsupported framer {type(framer).__name__}")
