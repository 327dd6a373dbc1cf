"""Whether the congestion window is in use (Linux's tcp_cwnd_validate, in the spirit of
RFC 7661): cwnd grows on an ACK only while the sender is limited by it, so an application
that sends less than the window allows does not inflate it.

Linux tracks, per window of data, whether a send stopped because cwnd was full and the most
packets that were out.  In slow start cwnd may grow to twice that most; after slow start only
while the window was full."""

from __future__ import annotations

from headerkit.sim.tcp.congestion import CongestionControl


class CwndValidation:
    __slots__ = ("cwnd_limited", "max_packets_out", "usage_seq")

    def __init__(self) -> None:
        self.cwnd_limited = False
        self.max_packets_out = 0
        self.usage_seq = 0  # the window being tracked ends here (SND.NXT when it began)

    def sent(self, packets_out: int, cwnd: int, snd_una: int, snd_nxt: int, any_sent: bool) -> None:
        """After a pass of sending: ``packets_out`` in flight against ``cwnd`` (packets)."""
        limited = packets_out >= cwnd
        if not (any_sent or limited):
            return
        if (
            snd_una >= self.usage_seq
            or limited
            or (not self.cwnd_limited and packets_out > self.max_packets_out)
        ):
            self.cwnd_limited = limited
            self.max_packets_out = packets_out
            self.usage_seq = snd_nxt

    def may_grow(self, cwnd: int, ssthresh: int) -> bool:
        """May an ACK grow cwnd (both in packets)?"""
        if cwnd < ssthresh:  # slow start
            return cwnd < 2 * self.max_packets_out
        return self.cwnd_limited


def restart_after_idle(cc: CongestionControl, idle: int, rto: int, initial: int) -> None:
    """Data after ``idle`` ns without any: a window older than an RTO is stale (RFC 5681
    4.1).  As Linux (tcp_cwnd_restart): cwnd halves for each RTO idle, not below the initial
    window; ssthresh keeps at least three quarters of the old cwnd."""
    if idle <= rto:
        return
    restart = min(initial, cc.cwnd)
    cc.ssthresh = max(cc.ssthresh, cc.cwnd * 3 // 4)
    cwnd = cc.cwnd
    while (idle := idle - rto) > 0 and cwnd > restart:
        cwnd >>= 1
    cc.cwnd = max(cwnd, restart)
