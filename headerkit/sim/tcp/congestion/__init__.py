"""Congestion control behind one small interface, as Linux's ``tcp_congestion_ops``: a
controller owns cwnd and ssthresh, grows cwnd as new data is acknowledged, and says how far
to fall back when a loss is detected.  Loss detection and fast recovery (RFC 6582) are the
endpoint's (``recovery``), the same whichever controller runs."""

from __future__ import annotations

from typing import Protocol

from headerkit.sim.tcp.congestion.cubic import Cubic
from headerkit.sim.tcp.congestion.newreno import NewReno


class CongestionControl(Protocol):
    """What the endpoint asks of a controller; windows in bytes, times in ns."""

    name: str
    cwnd: int
    ssthresh: int

    def restart(self, mss: int) -> None:
        """The handshake fixed the MSS: the initial window, in segments of that size."""

    def on_ack(self, acked: int, now: int, srtt: int | None) -> None:
        """``acked`` bytes of new data acknowledged outside recovery: grow cwnd."""

    def on_loss(self, flight: int, now: int) -> None:
        """Duplicate ACKs told of a loss: set ssthresh (recovery then sets cwnd from it)."""

    def on_timeout(self, flight: int, first: bool) -> None:
        """The retransmission timer expired (``first`` of a series): cwnd to one segment."""


def controller(name: str, mss: int, initial_cwnd: int) -> CongestionControl:
    """A new controller by its Linux name (``TcpConfig.congestion``)."""
    if name == "cubic":
        return Cubic(mss, initial_cwnd)
    return NewReno(mss, initial_cwnd)
