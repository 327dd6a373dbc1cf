"""Typed errors: every problem names the layer, the field, the byte offset and the reason."""

from __future__ import annotations


class HeaderkitError(Exception):
    """Base of every error headerkit raises on purpose."""


class DecodeError(HeaderkitError, ValueError):
    """Bytes that do not decode as the layout says.

    ``offset`` counts from the start of the packet (or of the file, for capture files).
    """

    def __init__(self, layer: str, field: str, offset: int, reason: str) -> None:
        self.layer = layer
        self.field = field
        self.offset = offset
        self.reason = reason
        super().__init__(f"{layer}.{field} at byte {offset}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str, int, str]]:
        return (type(self), (self.layer, self.field, self.offset, self.reason))


class TruncatedError(DecodeError):
    """The data ends before the field does."""


class InvalidFieldError(DecodeError):
    """A field holds a value the layout forbids (IHL < 5, data offset < 5, UDP length < 8, ...)."""


class OptionError(DecodeError):
    """A TCP, IPv4 or IPv6 option whose length is impossible or runs past the option space."""


class CaptureFileError(DecodeError):
    """A pcap or pcapng file whose structure is damaged (layer is "pcap" or "pcapng")."""


class FramingError(HeaderkitError, ValueError):
    """A byte stream that breaks its framing rule (message too long, stream ends mid-message)."""
