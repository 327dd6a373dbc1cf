"""One captured frame as a capture file stores it."""

from __future__ import annotations

from dataclasses import dataclass

from headerkit.errors import CaptureFileError


@dataclass(slots=True)
class Record:
    """A frame read from (or to be written to) a pcap or pcapng file (not frozen: a frozen
    dataclass takes five times as long to make, and a reader makes one per frame).

    ``number`` is the 1-based frame number in file order (as tshark counts), ``timestamp_ns``
    the capture time in nanoseconds since the epoch, ``data`` the captured bytes
    (``len(data)`` is the captured length) and ``wirelen`` the length the frame had on the wire.
    """

    number: int
    timestamp_ns: int
    linktype: int
    data: bytes
    wirelen: int
    interface: int = 0
    comment: str | None = None
    problem: CaptureFileError | None = None

    @property
    def timestamp(self) -> float:
        """Capture time in seconds since the epoch."""
        return self.timestamp_ns / 1e9
