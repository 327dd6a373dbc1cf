"""The retransmission timeout (RFC 6298): SRTT and RTTVAR from one timed segment at a time,
Karn's rule (no sample from a retransmitted segment) and exponential backoff."""

from __future__ import annotations

from typing import Final

from headerkit.sim.clock import ns

CLOCK_GRANULARITY: Final = 1_000_000  # G of RFC 6298, in ns (Linux's jiffy-based clock: about 1 ms)


class RttEstimator:
    """SRTT, RTTVAR and RTO (ns); ``timed`` is the segment being timed: (its first sequence
    number, when it was sent)."""

    __slots__ = (
        "floor",
        "min_rtt",
        "retries",
        "rto",
        "rto_max",
        "rto_min",
        "rttvar",
        "srtt",
        "timed",
    )

    def __init__(
        self, initial: float, minimum: float, maximum: float, min_variance: bool = False
    ) -> None:
        self.srtt: int | None = None
        self.min_rtt: int | None = None  # the least sample (Linux keeps it for pacing)
        self.rttvar = 0
        self.rto = ns(initial)
        self.rto_min = ns(minimum)
        self.rto_max = ns(maximum)
        # Linux bounds the variance term, not the sum: RTO = SRTT + max(4 RTTVAR, rto_min)
        self.floor = self.rto_min if min_variance else CLOCK_GRANULARITY
        self.timed: tuple[int, int] | None = None
        self.retries = 0  # timeouts in a row, reset by an ACK of new data

    def time(self, seq: int, now: int) -> None:
        """Time the segment starting at ``seq`` unless one is being timed already."""
        if self.timed is None:
            self.timed = (seq, now)

    def forget(self) -> None:
        """Karn's rule: a retransmission makes the pending measurement ambiguous."""
        self.timed = None

    def acked(self, ack: int, now: int) -> None:
        """New data acknowledged up to ``ack``: take the sample if it covers the timed segment;
        the backoff ends."""
        timed = self.timed
        if timed is not None and timed[0] < ack:
            self.sample(now - timed[1])
            self.timed = None
        self.retries = 0

    def sample(self, rtt: int) -> None:
        """RFC 6298 section 2: the first measurement, then the smoothed ones."""
        if self.min_rtt is None or rtt < self.min_rtt:
            self.min_rtt = rtt
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt // 2
        else:
            self.rttvar = (3 * self.rttvar + abs(self.srtt - rtt)) // 4
            self.srtt = (7 * self.srtt + rtt) // 8
        rto = self.srtt + max(self.floor, 4 * self.rttvar)
        self.rto = min(max(rto, self.rto_min), self.rto_max)

    def back_off(self) -> None:
        """The timer expired (RFC 6298 section 5.5): double the RTO, up to the maximum."""
        self.retries += 1
        self.rto = min(self.rto * 2, self.rto_max)
        self.timed = None
