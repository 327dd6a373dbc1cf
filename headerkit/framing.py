"""Sans-IO message framers: the application's answer to "TCP has no message boundaries".

TCP delivers a byte stream: one ``send`` may arrive split over several ``recv`` calls or glued
to the next, so the receiver sees no message boundaries unless the application marks them.
These framers mark them with a delimiter or a length prefix and find them again in chunks cut
anywhere, in work linear in the bytes fed and never buffering much more than ``max_length``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Literal, TypeAlias

from headerkit.errors import (
    EncodeError,
    FramerClosedError,
    FramingError,
    IncompleteMessageError,
    InvalidLengthError,
    MessageTooLongError,
)

__all__ = [
    "DELIMITER_MAX_LENGTH",
    "LENGTH_PREFIX_MAX_LENGTH",
    "BytesLike",
    "DelimiterFramer",
    "EncodeError",
    "Framer",
    "FramerClosedError",
    "IncompleteMessageError",
    "InvalidLengthError",
    "LengthPrefixFramer",
    "MessageTooLongError",
]

BytesLike: TypeAlias = bytes | bytearray | memoryview

DELIMITER_MAX_LENGTH = 64 * 1024
"""Default ``max_length`` of :class:`DelimiterFramer`; pass a larger one to go above it."""

LENGTH_PREFIX_MAX_LENGTH = 16 * 1024 * 1024
"""Default ``max_length`` of :class:`LengthPrefixFramer`; pass a larger one to go above it."""


class Framer(ABC):
    """What both framers share: :meth:`feed`, :meth:`close`, :meth:`encode` and the counters.

    Counters: ``bytes_fed`` (every byte passed to :meth:`feed`), ``messages_returned`` and
    :attr:`bytes_pending` (the buffered start of a message not yet complete).  Once a call has
    raised a :class:`~headerkit.errors.FramingError`, or :meth:`close` was called, the framer is
    unusable: :meth:`feed` and :meth:`close` raise :class:`FramerClosedError`.
    """

    def __init__(self, max_length: int) -> None:
        if max_length < 0:
            raise ValueError(f"max_length must be >= 0, not {max_length}")
        self.max_length = max_length
        self.bytes_fed = 0
        self.messages_returned = 0
        self._buf = bytearray()
        self._base = 0  # stream offset of self._buf[0]
        self._closed = False
        self._error: FramingError | None = None

    @property
    def bytes_pending(self) -> int:
        """Bytes buffered that belong to no returned message yet."""
        return len(self._buf)

    def feed(self, chunk: BytesLike) -> list[bytes]:
        """Take the next chunk of the stream (any size) and return the messages it completed.

        Raises a :class:`~headerkit.errors.FramingError` if the stream breaks the framing
        rule; messages completed earlier in the same chunk are then discarded with it.
        """
        self._check_usable()
        out: list[bytes] = []
        with memoryview(chunk) as raw, raw.cast("B") as view:
            self.bytes_fed += len(view)
            pos = 0
            try:
                while pos < len(view):
                    # Never buffer more than the current message may still need, so a hostile
                    # length or a missing delimiter fails before any large allocation.
                    room = self._room()
                    self._buf += view[pos : pos + room]
                    pos += room
                    self._extract(out)
            except FramingError as exc:
                self._error = exc
                raise
        self.messages_returned += len(out)
        return out

    def close(self) -> None:
        """Declare the end of the stream; :class:`IncompleteMessageError` if it ends mid-message."""
        self._check_usable()
        self._closed = True
        if self._buf:
            self._error = IncompleteMessageError(
                self._base, len(self._buf), self._incomplete_reason()
            )
            raise self._error

    def _check_usable(self) -> None:
        if self._error is not None:
            raise FramerClosedError(
                f"framer is unusable after an earlier error: {self._error}"
            ) from self._error
        if self._closed:
            raise FramerClosedError("framer is closed: the end of the stream was declared")

    def _consume(self, end: int) -> None:
        """Drop the first ``end`` buffered bytes, which returned messages have used up."""
        # Called once per piece of a chunk, after every complete message was taken, so what
        # stays is the start of one message; it moves at most once, as the next call with
        # end > 0 means that message completed.  The copying work is linear.
        del self._buf[:end]
        self._base += end

    @abstractmethod
    def encode(self, message: BytesLike) -> bytes:
        """The bytes that frame ``message``; :class:`EncodeError` if it cannot be framed."""

    @abstractmethod
    def _room(self) -> int:
        """How many more bytes (at least 1) may be buffered before :meth:`_extract`."""

    @abstractmethod
    def _extract(self, out: list[bytes]) -> None:
        """Append the complete buffered messages to ``out`` and consume them."""

    @abstractmethod
    def _incomplete_reason(self) -> str:
        """Why the buffered bytes are not a message, for :class:`IncompleteMessageError`."""


class DelimiterFramer(Framer):
    """Messages that end with ``delimiter``; the returned messages do not include it.

    ``max_length`` bounds a message without its delimiter.  A stream fails as soon as the bytes
    pending prove the message longer: more than ``max_length`` of them, not counting a tail that
    could begin the delimiter (so at most ``max_length + len(delimiter)`` are ever buffered).
    ``bytes_searched`` counts the bytes the delimiter search examined: however the stream is
    chunked it stays between ``bytes_fed`` (unless an error left bytes unread) and
    ``len(delimiter) * bytes_fed``, as the search resumes where it stopped.
    """

    def __init__(
        self, delimiter: BytesLike = b"\n", max_length: int = DELIMITER_MAX_LENGTH
    ) -> None:
        super().__init__(max_length)
        self.delimiter = bytes(delimiter)
        if not self.delimiter:
            raise ValueError("delimiter must not be empty")
        self.bytes_searched = 0
        self._search_from = 0  # index in self._buf where no delimiter can start before

    def encode(self, message: BytesLike) -> bytes:
        """``message`` followed by the delimiter.

        Refuses a message over ``max_length`` or one the framer would cut short: one containing
        the delimiter, or ending so that it forms the delimiter early (``b"a"`` before
        ``b"aa"``).
        """
        framed = bytes(message) + self.delimiter
        length = len(framed) - len(self.delimiter)
        if length > self.max_length:
            raise EncodeError(f"message of {length} bytes is over max_length {self.max_length}")
        if framed.find(self.delimiter) != length:
            raise EncodeError(
                f"message of {length} bytes would be cut short: the delimiter "
                f"{self.delimiter!r} occurs in it or across its end"
            )
        return framed

    def _room(self) -> int:
        return self.max_length + len(self.delimiter) - len(self._buf)

    def _extract(self, out: list[bytes]) -> None:
        buf, delim = self._buf, self.delimiter
        start = 0
        while (idx := buf.find(delim, self._search_from)) >= 0:
            self.bytes_searched += idx + len(delim) - self._search_from
            out.append(bytes(buf[start:idx]))
            start = self._search_from = idx + len(delim)
        self.bytes_searched += len(buf) - self._search_from
        # A delimiter not found may still start in the last len(delim) - 1 bytes.
        self._search_from = max(start, len(buf) - len(delim) + 1) - start
        self._consume(start)
        if len(buf) > self.max_length:
            # The message runs at least up to the longest tail that could begin the delimiter.
            tail = next((k for k in range(len(delim) - 1, 0, -1) if buf.endswith(delim[:k])), 0)
            if len(buf) - tail > self.max_length:
                raise MessageTooLongError(
                    self._base,
                    len(buf) - tail,
                    self.max_length,
                    f"message has {len(buf) - tail} bytes and no delimiter {delim!r} yet",
                )

    def _incomplete_reason(self) -> str:
        return f"no delimiter {self.delimiter!r} yet"


class LengthPrefixFramer(Framer):
    """Messages preceded by their length as an unsigned ``width``-byte integer.

    With ``includes_header`` the prefix counts itself too.  The returned messages do not
    include the prefix.  ``max_length`` bounds the payload: a larger prefix fails as soon as it
    is read, before its payload is buffered (at most ``width + max_length`` bytes are held).
    """

    def __init__(
        self,
        width: Literal[1, 2, 4, 8] = 4,
        byteorder: Literal["big", "little"] = "big",
        includes_header: bool = False,
        max_length: int = LENGTH_PREFIX_MAX_LENGTH,
    ) -> None:
        super().__init__(max_length)
        if width not in (1, 2, 4, 8):
            raise ValueError(f"width must be 1, 2, 4 or 8, not {width!r}")
        if byteorder not in ("big", "little"):
            raise ValueError(f"byteorder must be 'big' or 'little', not {byteorder!r}")
        self.width = width
        self.byteorder: Literal["big", "little"] = byteorder
        self.includes_header = includes_header
        self._header = width if includes_header else 0  # what the prefix adds to the payload
        self._length: int | None = None  # payload length of the buffered message, once read

    def encode(self, message: BytesLike) -> bytes:
        """The length prefix followed by ``message``; refuses one too long for either limit."""
        payload = bytes(message)
        if len(payload) > self.max_length:
            raise EncodeError(
                f"message of {len(payload)} bytes is over max_length {self.max_length}"
            )
        value = len(payload) + self._header
        if value >= 1 << (8 * self.width):
            raise EncodeError(
                f"message of {len(payload)} bytes does not fit a {self.width}-byte length "
                f"prefix (largest payload {(1 << (8 * self.width)) - 1 - self._header})"
            )
        return value.to_bytes(self.width, self.byteorder) + payload

    def _room(self) -> int:
        need = self.width if self._length is None else self.width + self._length
        return need - len(self._buf)

    def _extract(self, out: list[bytes]) -> None:
        if self._length is None:
            if len(self._buf) < self.width:
                return
            self._length = self._read_prefix()
        end = self.width + self._length
        if len(self._buf) == end:
            out.append(bytes(self._buf[self.width :]))
            self._length = None
            self._consume(end)

    def _read_prefix(self) -> int:
        value = int.from_bytes(self._buf[: self.width], self.byteorder)
        if value < self._header:
            raise InvalidLengthError(self._base, value, self.width)
        length = value - self._header
        if length > self.max_length:
            header = f" ({value} with its {self.width}-byte header)" if self._header else ""
            raise MessageTooLongError(
                self._base,
                length,
                self.max_length,
                f"length prefix announces {length} bytes{header}",
            )
        return length

    def _incomplete_reason(self) -> str:
        if self._length is None:
            return f"length prefix incomplete ({len(self._buf)} of {self.width} bytes)"
        return f"length prefix announced {self._length} bytes of payload"


_WIDTHS: dict[str, Literal[1, 2, 4, 8]] = {"1": 1, "2": 2, "4": 4, "8": 8}


def framer_factory(spec: str) -> Callable[[], Framer]:
    """``lines`` (``\\n``-delimited) or ``length:N`` (an N-byte big-endian length, N = 1, 2,
    4 or 8; ``length`` alone is 4) as a function making a fresh framer."""
    if spec == "lines":
        return DelimiterFramer
    kind, colon, width = spec.partition(":")
    width = width if colon else "4"
    size = _WIDTHS.get(width)
    if kind == "length" and size is not None:
        return lambda: LengthPrefixFramer(width=size)
    raise ValueError(f"unknown framing {spec!r}: use 'lines' or 'length:N' with N in 1, 2, 4, 8")
