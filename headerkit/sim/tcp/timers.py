"""The endpoint's timers as deadlines in ns (None: not running): retransmission (RFC 6298),
persist (zero-window probes, with their own backoff), delayed ACK, keep-alive (RFC 1122
4.2.3.6, with the probes sent unanswered) and TIME-WAIT."""

from __future__ import annotations


class Timers:
    __slots__ = (
        "delack_at",
        "keepalive_at",
        "keepalive_probes",
        "persist_at",
        "persist_backoff",
        "rto_at",
        "timewait_at",
    )

    def __init__(self) -> None:
        self.rto_at: int | None = None
        self.persist_at: int | None = None
        self.persist_backoff = 0
        self.delack_at: int | None = None
        self.timewait_at: int | None = None
        self.keepalive_at: int | None = None
        self.keepalive_probes = 0

    def next_deadline(self) -> int | None:
        soonest = None
        for t in (
            self.rto_at,
            self.persist_at,
            self.delack_at,
            self.timewait_at,
            self.keepalive_at,
        ):
            if t is not None and (soonest is None or t < soonest):
                soonest = t
        return soonest

    def stop_sending(self) -> None:
        """TIME-WAIT: nothing is retransmitted or probed any more."""
        self.rto_at = self.persist_at = self.keepalive_at = None

    def stop(self) -> None:
        """CLOSED: every timer stops."""
        self.rto_at = self.persist_at = self.delack_at = self.timewait_at = None
        self.keepalive_at = None
