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
