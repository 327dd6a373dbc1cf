"""The ``tcp.analysis.*`` verdicts a segment can get, named after tshark's fields.

Flow analysis gives them to captured segments, the simulator to the segments its endpoints
send (what the sender knew it was doing); both read them here.
"""

from __future__ import annotations

import enum


class Analysis(enum.IntFlag):
    """The ``tcp.analysis.*`` flags, named after tshark's fields."""

    RETRANSMISSION = enum.auto()
    FAST_RETRANSMISSION = enum.auto()
    SPURIOUS_RETRANSMISSION = enum.auto()
    OUT_OF_ORDER = enum.auto()
    LOST_SEGMENT = enum.auto()
    ACK_LOST_SEGMENT = enum.auto()
    DUPLICATE_ACK = enum.auto()
    ZERO_WINDOW = enum.auto()
    ZERO_WINDOW_PROBE = enum.auto()
    ZERO_WINDOW_PROBE_ACK = enum.auto()
    WINDOW_FULL = enum.auto()
    WINDOW_UPDATE = enum.auto()
    KEEP_ALIVE = enum.auto()
    KEEP_ALIVE_ACK = enum.auto()
    REUSED_PORTS = enum.auto()

    @property
    def field_names(self) -> list[str]:
        """tshark's field names for the flags set; a fast or spurious one is a retransmission."""
        flags = self
        if flags & (Analysis.FAST_RETRANSMISSION | Analysis.SPURIOUS_RETRANSMISSION):
            flags |= Analysis.RETRANSMISSION
        return [f"tcp.analysis.{f.name.lower()}" for f in Analysis if f in flags and f.name]


NO_FLAGS = Analysis(0)
ANALYSIS_FIELDS = tuple(f"tcp.analysis.{f.name.lower()}" for f in Analysis if f.name)
