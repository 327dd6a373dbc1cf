"""CUBIC (RFC 9438), Linux's default: after a loss the window grows as a cubic function of
the time since, back to the size it had (W_max) and then beyond, never slower than Reno
would grow it; the window falls to beta = 0.7 of itself on loss, with fast convergence."""

from __future__ import annotations

from typing import Final

from headerkit.sim.clock import NS
from headerkit.sim.tcp.congestion.newreno import INITIAL_SSTHRESH

C: Final = 0.4  # segments per second cubed
BETA: Final = 0.7
# Reno-friendly growth per RTT, in segments (RFC 9438 4.3)
ALPHA: Final = 3 * (1 - BETA) / (1 + BETA)


class Cubic:
    __slots__ = (
        "cwnd",
        "epoch",
        "frac",
        "initial",
        "k",
        "mss",
        "origin",
        "ssthresh",
        "w_est",
        "w_max",
    )
    name = "cubic"

    def __init__(self, mss: int, initial_cwnd: int) -> None:
        self.mss = mss
        self.initial = initial_cwnd
        self.cwnd = initial_cwnd * mss
        self.ssthresh = INITIAL_SSTHRESH
        self.frac = 0.0  # the window's fraction of a byte, and the Reno estimate's excess
        self.w_max = 0.0  # bytes: the window before the last reduction
        self.epoch: int | None = None  # when the current growth period began
        self.k = 0.0  # seconds until the cubic curve is back at w_max
        self.origin = 0.0  # bytes: the curve's plateau
        self.w_est = 0.0  # bytes: the window Reno would have now (RFC 9438 4.3)

    def restart(self, mss: int) -> None:
        self.mss = mss
        self.cwnd = self.initial * mss

    def on_ack(self, acked: int, now: int, srtt: int | None) -> None:
        if self.cwnd < self.ssthresh:  # slow start, as Linux: up to ssthresh, the rest below
            step = min(acked, self.ssthresh - self.cwnd)
            self.cwnd += step
            acked -= step
            if not acked:
                return
        mss = self.mss
        cwnd = self.cwnd + self.frac
        if self.epoch is None:
            self.epoch = now
            self.w_est = cwnd
            if cwnd < self.w_max:
                self.k = ((self.w_max - cwnd) / mss / C) ** (1 / 3)
                self.origin = self.w_max
            else:
                self.k, self.origin = 0.0, cwnd
        t = (now - self.epoch + (srtt or 0)) / NS - self.k
        target = min(self.origin + C * t * t * t * mss, 1.5 * cwnd)
        self.w_est += ALPHA * mss * acked / cwnd
        if target < self.w_est:  # the Reno-friendly region: grow as Reno would
            window = max(cwnd, self.w_est)
        else:
            window = cwnd + (target - cwnd) * acked / cwnd if target > cwnd else cwnd
        self.cwnd = int(window)
        self.frac = window - self.cwnd

    def on_loss(self, flight: int, now: int) -> None:
        cwnd = float(self.cwnd)
        # fast convergence: a flow whose plateau dropped releases bandwidth sooner
        self.w_max = cwnd * (1 + BETA) / 2 if cwnd < self.w_max else cwnd
        self.ssthresh = max(int(cwnd * BETA), 2 * self.mss)
        self.epoch = None
        self.frac = 0.0

    def on_timeout(self, flight: int, first: bool) -> None:
        if first:
            self.on_loss(flight, 0)
        self.cwnd = self.mss
        self.epoch = None
        self.frac = 0.0
