"""NewReno's window (RFC 5681): slow start with appropriate byte counting (RFC 3465, L = 2),
congestion avoidance by one segment per window of acknowledged bytes, half the flight on loss."""

from __future__ import annotations

from typing import Final

INITIAL_SSTHRESH: Final = 1 << 30  # "arbitrarily high" (RFC 5681 section 3.1)


class NewReno:
    __slots__ = ("acc", "cwnd", "initial", "mss", "ssthresh")
    name = "newreno"

    def __init__(self, mss: int, initial_cwnd: int) -> None:
        self.mss = mss
        self.initial = initial_cwnd
        self.cwnd = initial_cwnd * mss
        self.ssthresh = INITIAL_SSTHRESH
        self.acc = 0  # bytes acknowledged toward the next congestion-avoidance increase

    def restart(self, mss: int) -> None:
        self.mss = mss
        self.cwnd = self.initial * mss

    def on_ack(self, acked: int, now: int, srtt: int | None) -> None:
        if self.cwnd < self.ssthresh:
            self.cwnd += min(acked, 2 * self.mss)
        else:
            self.acc += acked
            if self.acc >= self.cwnd:
                self.acc -= self.cwnd
                self.cwnd += self.mss

    def on_loss(self, flight: int, now: int) -> None:
        self.ssthresh = max(flight // 2, 2 * self.mss)

    def on_timeout(self, flight: int, first: bool) -> None:
        if first:
            self.ssthresh = max(flight // 2, 2 * self.mss)
        self.cwnd = self.mss
        self.acc = 0
