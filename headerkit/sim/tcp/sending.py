"""The send side: the send buffer and the send sequence variables of RFC 9293 (SND.UNA,
SND.NXT, SND.WND, SND.WL1, SND.WL2), and how much the next segment may carry (the usable
window, sender silly-window avoidance, Nagle).

Sequence numbers here are stream offsets that never wrap (``iss`` on); the endpoint turns
them into the 32-bit numbers on the wire and back (:mod:`headerkit.seqnum`).
"""

from __future__ import annotations

from collections import deque

from headerkit.sim.tcp.bytequeue import ByteQueue
from headerkit.sim.tcp.config import DEFAULT_MSS, TcpConfig


def bound_to_half_window(mss: int, max_window: int, header: int) -> int:
    """Linux's tcp_bound_to_half_wnd, applied when the handshake sets the MSS: a peer with a
    small window gets segments of half of it (all of it under 536 bytes), so that two can
    be in flight; never less than 68 bytes of packet (``header``: the TCP header's size)."""
    cutoff = max_window >> 1 if max_window > DEFAULT_MSS else max_window
    if cutoff and mss > cutoff:
        return max(cutoff, 68 - header)
    return mss


class Sender:
    __slots__ = (
        "config",
        "fin_acked",
        "fin_queued",
        "fin_seq",
        "iss",
        "max_snd_wnd",
        "more",
        "mss",
        "peer_ack",
        "peer_win",
        "push_once",
        "snd_high",
        "snd_max",
        "snd_nxt",
        "snd_right",
        "snd_sml",
        "snd_una",
        "snd_wl1",
        "snd_wl2",
        "snd_wnd",
        "snd_wscale",
        "sndq",
        "sndq_seq",
        "write_ends",
    )

    def __init__(self, config: TcpConfig, iss: int) -> None:
        self.config = config
        self.mss = config.mss
        self.iss = iss
        self.snd_una = iss
        self.snd_nxt = iss
        self.snd_max = iss  # highest sequence number sent, zero-window probes included
        self.snd_high = iss  # highest sent by segments that are not probes (tshark's nextseq)
        self.snd_wnd = 0
        self.snd_sml = iss  # end of the last segment smaller than the MSS (Minshall's Nagle)
        self.snd_right = iss  # right edge of the peer's window (left only if shrink_window)
        self.snd_wl1 = 0
        self.snd_wl2 = 0
        self.snd_wscale = 0
        self.max_snd_wnd = 0
        self.peer_ack = 0
        self.peer_win = 0  # last window (scaled) the peer advertised, as tshark tracks it
        self.sndq = ByteQueue()  # bytes from snd_una (or iss + 1) on, sent or not
        self.sndq_seq = iss + 1
        self.fin_queued = False
        self.fin_seq: int | None = None
        self.fin_acked = False
        self.more = False  # the send() call in progress has MSG_MORE: hold a partial segment
        self.push_once = False  # the next pass sends partial segments whatever holds them
        self.write_ends: deque[int] = deque()  # where unsent send() calls end, for PSH

    @property
    def flight(self) -> int:
        """Bytes (and SYN/FIN) sent and not yet acknowledged, probes excluded."""
        return self.snd_nxt - self.snd_una

    @property
    def packets_out(self) -> int:
        """The flight in segments of the MSS, as Linux counts it (a partial one counts)."""
        return -(-self.flight // self.mss)

    @property
    def rwnd(self) -> int:
        """The peer's window as this sender may use it, from snd_una."""
        return self.snd_right - self.snd_una

    @property
    def unsent(self) -> int:
        return self.sndq_seq + len(self.sndq) - self.snd_nxt

    def write(self, data: bytes | memoryview, more: bool = False) -> int:
        """Copy as much of ``data`` as the send buffer has room for; return how much.
        Unless ``more`` follows (MSG_MORE), the call's end is where PSH goes."""
        n = min(self.config.sndbuf - len(self.sndq), len(data))
        if n <= 0:
            return 0
        self.sndq.append(data[:n])
        if not more and self.config.push_per_write:
            self.write_ends.append(self.sndq_seq + len(self.sndq))
        return n

    def pushes(self, seq: int, n: int, last: bool) -> bool:
        """Does the segment of ``n`` bytes from ``seq`` carry PSH?  Where a send() call's data
        ends in it (push_per_write), else where it empties the send buffer (``last``)."""
        if not self.config.push_per_write:
            return last
        ends, end = self.write_ends, seq + n
        pushed = False
        while ends and ends[0] <= end:
            if ends.popleft() > seq:
                pushed = True
        return pushed

    def usable(self, cwnd: int) -> int:
        """New bytes the windows allow now: min(cwnd, rwnd) less what is in flight."""
        limit = self.snd_una + cwnd
        right = self.snd_right
        return (limit if limit < right else right) - self.snd_nxt

    def next_size(self, cwnd: int) -> int:
        """Bytes the next new segment carries, or 0 when none may go now (the usable window
        is closed, or sender SWS avoidance or Nagle holds a small segment back)."""
        nxt, mss = self.snd_nxt, self.mss
        unsent = self.sndq_seq + len(self.sndq) - nxt
        if unsent <= 0:
            return 0
        n = self.usable(cwnd)
        if n <= 0:
            return 0
        if unsent < n:
            n = unsent
        if mss < n:
            n = mss
        config = self.config
        if (
            n == unsent < mss
            and (config.cork or self.more)
            and not (self.push_once or self.fin_queued)
        ):
            return 0  # TCP_CORK or MSG_MORE: a partial segment waits for more data
        if n < mss and nxt != self.snd_una:
            if n < unsent and n < self.max_snd_wnd // 2:
                return 0  # sender silly-window avoidance
            if config.nodelay or self.fin_queued or self.push_once:
                return n
            if not config.minshall or self.snd_sml > self.snd_una:
                return 0  # Nagle: wait while data is unacknowledged (Minshall: small data)
        return n

    def data(self, seq: int, n: int) -> bytes:
        """``n`` bytes of the stream from ``seq`` (fewer at the end of the buffer)."""
        off = seq - self.sndq_seq
        return self.sndq.peek(off, n)

    def is_last(self, seq: int, n: int) -> bool:
        """Does a segment of ``n`` bytes from ``seq`` empty the send buffer?"""
        return seq + n - self.sndq_seq == len(self.sndq)

    def fin_due(self) -> bool:
        """A queued FIN may go now (all data sent, and not already sent unless resent)."""
        return (
            self.fin_queued
            and self.sndq_seq + len(self.sndq) == self.snd_nxt
            and (self.fin_seq is None or self.snd_nxt == self.fin_seq)
        )

    def resent(self, seq: int, n: int) -> bool:
        """Is a segment of ``n`` bytes from ``seq`` a retransmission, as tshark judges it (a
        keep-alive-like byte before nextseq is not)?"""
        high = self.snd_high
        return seq < high and not (n > 1 and high - seq == 1)

    def fills_window(self, seq: int, n: int) -> bool:
        """Does the segment end exactly at the peer's advertised right edge?"""
        return n > 0 and seq + n - self.peer_ack == self.peer_win

    def sent_to(self, end: int) -> None:
        if end > self.snd_high:
            self.snd_high = end
        if end > self.snd_max:
            self.snd_max = end

    def syn_received(self, seq: int, ack: int | None, window: int) -> None:
        """The peer's SYN: its window (unscaled in a SYN) and where it starts."""
        self.snd_wnd = window
        self.snd_wl1 = seq
        self.snd_wl2 = ack if ack is not None else 0
        self.peer_win = window
        self.peer_ack = ack if ack is not None else 0
        self.max_snd_wnd = window
        self.snd_right = ack + window if ack is not None else self.iss

    def window_update(self, seq: int, ack: int, win: int, force: bool) -> None:
        """RFC 9293 3.10.7.4: take the window from a segment newer than the last that set it."""
        self.peer_ack = ack
        self.peer_win = win
        wl1 = self.snd_wl1
        if force or wl1 < seq or (wl1 == seq and self.snd_wl2 <= ack):
            self.snd_wnd = win
            self.snd_wl1 = seq
            self.snd_wl2 = ack
            if ack + win > self.snd_right or self.config.shrink_window:
                self.snd_right = ack + win
            if win > self.max_snd_wnd:
                self.max_snd_wnd = win

    def acked(self, ack: int) -> int:
        """New data acknowledged up to ``ack``: free its buffer; return how many bytes."""
        acked = ack - self.snd_una
        drop = min(max(0, ack - self.sndq_seq), len(self.sndq))
        if drop:
            self.sndq.drop(drop)
            self.sndq_seq += drop
        self.snd_una = ack
        if self.snd_nxt < ack:
            self.snd_nxt = ack  # a probe byte (or go-back-N data) that got in
        return acked
