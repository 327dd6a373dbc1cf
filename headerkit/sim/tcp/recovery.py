"""Loss detection by duplicate ACKs and NewReno fast recovery (RFC 5681 section 3.2,
RFC 6582): the third duplicate ACK retransmits the first unacknowledged segment; until the
data outstanding then (``recover``) is acknowledged, each duplicate ACK inflates cwnd by one
segment and each partial ACK retransmits the next hole and deflates it."""

from __future__ import annotations

from typing import Final

from headerkit.sim.tcp.congestion import CongestionControl

DUPACK_THRESHOLD: Final = 3


class Recovery:
    __slots__ = ("dupacks", "recover")

    def __init__(self) -> None:
        self.dupacks = 0
        self.recover: int | None = None  # the highest sequence sent when recovery began

    def duplicate(
        self,
        cc: CongestionControl,
        mss: int,
        flight: int,
        snd_max: int,
        now: int,
        lost: bool = False,
    ) -> bool:
        """One more duplicate ACK; True when it starts fast recovery (retransmit, then
        :meth:`inflate` without SACK).  ``lost``: the SACK scoreboard already shows the
        first segment lost (RFC 6675), whatever the count."""
        self.dupacks += 1
        if self.recover is not None:
            cc.cwnd += mss
            return False
        if self.dupacks != DUPACK_THRESHOLD and not lost:
            return False
        cc.on_loss(flight, now)
        self.recover = snd_max
        return True

    def inflate(self, cc: CongestionControl, mss: int) -> None:
        """After the fast retransmission: the three segments that left the network."""
        cc.cwnd = cc.ssthresh + DUPACK_THRESHOLD * mss

    def partial(self, ack: int) -> bool:
        """In recovery, an ACK of new data below ``recover`` (a partial ACK)?"""
        return self.recover is not None and ack < self.recover

    def deflate(self, cc: CongestionControl, mss: int, acked: int) -> None:
        """After retransmitting the next hole: take back what the partial ACK acknowledged."""
        cc.cwnd = max(cc.cwnd - acked + mss, mss)

    def leave(self, cc: CongestionControl) -> None:
        """Everything outstanding at the loss is acknowledged: cwnd to ssthresh."""
        cc.cwnd = cc.ssthresh
        self.recover = None

    def reset(self) -> None:
        """A retransmission timeout ends any recovery."""
        self.dupacks = 0
        self.recover = None
