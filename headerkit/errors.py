"""Typed errors: every problem names the layer, the field, the byte offset and the reason.

How a problem marks a packet follows tshark: a header cut short by the capture's snap length
(:class:`TruncatedError`) leaves the packet *short*; a header that runs past the length its
own enclosing layer reports (:class:`BoundsError`) makes it *malformed*; a forbidden field
value (:class:`InvalidFieldError`, :class:`OptionError`) is an error that stops decoding the
layer but, like tshark's expert errors, does not by itself mark the packet malformed.
"""

from __future__ import annotations


class HeaderkitError(Exception):
    """Base of every error headerkit raises on purpose."""


class DecodeError(HeaderkitError, ValueError):
    """Bytes that do not decode as the layout says.

    ``offset`` counts from the start of the packet (or of the file, for capture files).
    """

    malformed = False

    def __init__(self, layer: str, field: str, offset: int, reason: str) -> None:
        self.layer = layer
        self.field = field
        self.offset = offset
        self.reason = reason
        super().__init__(f"{layer}.{field} at byte {offset}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str, int, str]]:
        return (type(self), (self.layer, self.field, self.offset, self.reason))


class TruncatedError(DecodeError):
    """The captured data ends before the field does (the snap length cut it)."""


class BoundsError(DecodeError):
    """A header runs past the length that its enclosing layer reports: malformed."""

    malformed = True


class InvalidFieldError(DecodeError):
    """A field holds a value the layout forbids (IHL < 5, data offset < 5, UDP length < 8, ...)."""


class OptionError(DecodeError):
    """A TCP, IPv4 or IPv6 option whose length is impossible or runs past the option space."""


class CaptureFileError(DecodeError):
    """A pcap or pcapng file whose structure is damaged (layer is "pcap" or "pcapng")."""


class HeaderkitWarning(HeaderkitError, UserWarning):
    """The category of every warning headerkit gives (damage read past, a guess it made):
    filter or escalate it as usual, ``warnings.simplefilter("error", HeaderkitWarning)``."""


class FramingError(HeaderkitError, ValueError):
    """A byte stream that breaks its framing rule (message too long, stream ends mid-message)."""


class ScriptError(HeaderkitError, ValueError):
    """A packetdrill script that cannot be read: names the file, the line and the column."""

    def __init__(self, path: str, line: int, reason: str, *, column: int | None = None) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}" if line else f"{path}: {reason}")


class ScriptUnsupported(ScriptError):
    """A script that needs something the model does not have; ``feature`` names it."""

    def __init__(self, path: str, line: int, feature: str) -> None:
        self.feature = feature
        super().__init__(path, line, f"unsupported: {feature}")


class ScriptMismatch(ScriptError):
    """The model did not do what the script expects at ``line``."""


class MessageTooLongError(FramingError):
    """A message, or the length its prefix announces, is over ``max_length``.

    ``offset`` is where the message (its prefix, for a length-prefixed stream) starts, counted
    from the start of the stream; ``length`` is the announced payload length, or for a
    delimited stream the bytes seen so far without a delimiter.
    """

    def __init__(self, offset: int, length: int, max_length: int, reason: str) -> None:
        self.offset = offset
        self.length = length
        self.max_length = max_length
        self.reason = reason
        super().__init__(f"stream offset {offset}: {reason}, over max_length {max_length}")

    def __reduce__(self) -> tuple[type, tuple[int, int, int, str]]:
        return (type(self), (self.offset, self.length, self.max_length, self.reason))


class InvalidLengthError(FramingError):
    """A length prefix that includes its header but is smaller than the header."""

    def __init__(self, offset: int, value: int, width: int) -> None:
        self.offset = offset
        self.value = value
        self.width = width
        super().__init__(
            f"stream offset {offset}: length prefix {value} is smaller than "
            f"the {width}-byte header it includes"
        )

    def __reduce__(self) -> tuple[type, tuple[int, int, int]]:
        return (type(self), (self.offset, self.value, self.width))


class IncompleteMessageError(FramingError):
    """The stream ended inside a message; ``pending`` bytes of it, from ``offset``, are lost."""

    def __init__(self, offset: int, pending: int, reason: str) -> None:
        self.offset = offset
        self.pending = pending
        self.reason = reason
        super().__init__(
            f"stream ended inside the message at stream offset {offset}: "
            f"{pending} bytes pending, {reason}"
        )

    def __reduce__(self) -> tuple[type, tuple[int, int, str]]:
        return (type(self), (self.offset, self.pending, self.reason))


class FramerClosedError(FramingError):
    """The framer was used after :meth:`Framer.close` or after it raised an error."""


class EncodeError(FramingError):
    """A message the encoder refuses, because the matching framer could not decode it."""


class SpecError(HeaderkitError, ValueError):
    """A packet spec that does not describe packets."""


class SocketError(HeaderkitError):
    """A socket call that fails; ``errno`` is the symbolic name (ECONNRESET, EPIPE, ...)."""

    def __init__(self, errno: str) -> None:
        self.errno = errno
        super().__init__(errno)


class ScenarioError(HeaderkitError, ValueError):
    """A scenario that cannot be built: unknown name, key or value."""


class BuildError(HeaderkitError, ValueError):
    """Layers that cannot be put together (a transport header without an IP header, ...)."""


class ReplayError(HeaderkitError, ValueError):
    """A stream that cannot be replayed: absent, not TCP, or without data."""


class FilterError(HeaderkitError, ValueError):
    """A display filter that does not parse or names what headerkit does not have; says
    where: ``column`` counts from 1, as tshark points at the offending place."""

    def __init__(self, text: str, column: int, reason: str) -> None:
        self.text = text
        self.column = column
        self.reason = reason
        super().__init__(f"{reason}, at column {column} of the filter {text!r}")

    def __reduce__(self) -> tuple[type, tuple[str, int, str]]:
        return (type(self), (self.text, self.column, self.reason))

    def pointer(self) -> str:
        """The filter with a caret under the offending column, as tshark shows it."""
        return f"{self.text}\n{' ' * (self.column - 1)}^"


class TransitionError(HeaderkitError):
    """An event that the transition table does not allow in the current state."""


class CaptureError(HeaderkitError, OSError):
    """A live capture that could not start: no such interface, a filter that does not compile."""


class CapturePermissionError(CaptureError, PermissionError):
    """Capturing was refused: it needs root or CAP_NET_RAW."""


class CaptureTruncatedError(CaptureFileError, TruncatedError):
    """A capture file that ends inside a header, record or block."""
