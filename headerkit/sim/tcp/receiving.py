"""The receive side: RCV.NXT and the window advertised (RFC 9293), the receive buffer,
out-of-order pieces held until the gap before them fills, receiver silly-window avoidance
and when an ACK is due (delayed ACKs, RFC 9293 3.8.6.3).

Sans-IO with h11's promise: every byte that arrives is copied into the buffer once and out
once, and each held piece is looked at once when it is drained, so the work is linear in the
bytes received (out-of-order pieces cost a heap operation each).
"""

from __future__ import annotations

import heapq
from typing import Final

from headerkit.sim.tcp.autotuning import Autotuning
from headerkit.sim.tcp.bytequeue import ByteQueue
from headerkit.sim.tcp.config import DEFAULT_MSS, TcpConfig
from headerkit.sim.tcp.sack import MAX_BLOCKS, receiver_blocks

MAX_WINDOW_FIELD: Final = 0xFFFF


class Receiver:
    __slots__ = (
        "ack_now",
        "config",
        "eof",
        "irs",
        "keepalive_seen",
        "last_ack_sent",
        "last_win_sent",
        "mss",
        "ooo",
        "ooo_bytes",
        "ooo_recent",
        "ooo_starts",
        "peer_fin",
        "probe_seen",
        "quick",
        "rcv_adv",
        "rcv_nxt",
        "rcv_wscale",
        "rcvbuf",
        "rcvq",
        "tuning",
        "unacked_segments",
    )

    def __init__(self, config: TcpConfig, wscale: int) -> None:
        self.config = config
        self.mss = config.mss
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_adv = 0  # right edge of the window advertised; never moves left
        self.rcv_wscale = wscale
        self.rcvq = ByteQueue()  # received in order, not yet read
        self.rcvbuf = config.rcvbuf  # grows with autotuning, up to config.rcvbuf_max
        limit, mss = config.rcvbuf_max or 0, config.mss
        first = min(self.free_window(), 10 * mss)  # Linux: the first window, at most 10 MSS
        self.tuning = (
            Autotuning(limit, config.window_share, mss, first) if limit > config.rcvbuf else None
        )
        self.ooo: dict[int, bytes] = {}  # pieces after a gap, by first sequence number
        self.ooo_starts: list[int] = []  # their keys, as a heap
        self.ooo_bytes = 0  # bytes held in them
        self.ooo_recent: list[int] = []  # the last pieces to arrive, latest last (for SACK)
        self.peer_fin: int | None = None
        self.eof = False
        self.ack_now = False
        self.unacked_segments = 0  # in-order segments since the last ACK sent (delayed ACK)
        self.last_ack_sent = 0
        self.last_win_sent = -1
        self.probe_seen = False
        self.keepalive_seen = False  # the last segment was a keep-alive (one below RCV.NXT)
        self.quick: int | None = None  # quick ACKs left; counted at the first data

    @property
    def rcv_wnd(self) -> int:
        """The window this receiver has advertised, from rcv_nxt."""
        wnd = self.rcv_adv - self.rcv_nxt
        return wnd if wnd > 0 else 0

    def syn_received(self, seq: int) -> None:
        self.irs = seq
        self.rcv_nxt = self.rcv_adv = seq + 1

    def acceptable(self, seq: int, length: int, wnd: int) -> bool:
        """RFC 9293's segment acceptability test (3.10.7.4, the table of four cases)."""
        nxt = self.rcv_nxt
        if length == 0:
            return seq == nxt if wnd == 0 else nxt <= seq < nxt + wnd
        if wnd == 0:
            return False
        end = seq + length - 1
        return nxt <= seq < nxt + wnd or nxt <= end < nxt + wnd

    def accept(self, seq: int, payload: bytes) -> None:
        """Place in-window data in the receive buffer, holding out-of-order pieces."""
        off = self.rcv_nxt - seq
        if off > 0:
            payload = payload[off:]
            seq = self.rcv_nxt
        room = self.rcv_adv - seq
        if room < len(payload):
            payload = payload[: max(room, 0)]
        if not payload:
            self.ack_now = True  # a duplicate: tell the sender where we are
            return
        if seq != self.rcv_nxt:
            held = self.ooo.get(seq)
            if held is None:
                heapq.heappush(self.ooo_starts, seq)
                self.ooo[seq] = payload
                self.ooo_bytes += len(payload)
            elif len(payload) > len(held):
                self.ooo[seq] = payload
                self.ooo_bytes += len(payload) - len(held)
            recent = self.ooo_recent
            recent.append(seq)
            if len(recent) > MAX_BLOCKS:
                del recent[0]
            self.ack_now = True  # out of order: duplicate ACK at once
            return
        self.rcvq.append(payload)
        self.rcv_nxt = seq + len(payload)
        if self.ooo:
            self._drain()
            self.ack_now = True
        self.unacked_segments += 1
        if self.quick is None:
            self.quick = self._quick_acks(len(payload))
        if self.quick:
            self.quick -= 1
            self.ack_now = True
        elif not self.config.delayed_ack or self.unacked_segments >= self.config.ack_every:
            self.ack_now = True

    def _quick_acks(self, first: int) -> int:
        """How many segments a young connection acknowledges at once, as Linux counts them
        (tcp_incr_quickack): half the window in segments of the first data's size (or two if
        that is none), at most the configured number."""
        limit = self.config.quickack
        if not limit:
            return 0
        window = self.rcv_wnd + first  # what was open when the data came
        rcv_mss = max(min(self.mss, DEFAULT_MSS, window // 2), first)
        return min(window // (2 * rcv_mss) or 2, limit)

    def _drain(self) -> None:
        """Append the held pieces the new data reached, in order."""
        starts, ooo = self.ooo_starts, self.ooo
        while starts and starts[0] <= self.rcv_nxt:
            start = heapq.heappop(starts)
            data = ooo.pop(start)
            self.ooo_bytes -= len(data)
            end = start + len(data)
            if end > self.rcv_nxt:
                self.rcvq.append(memoryview(data)[self.rcv_nxt - start :])
                self.rcv_nxt = end

    def sack_blocks(self, limit: int) -> list[tuple[int, int]]:
        """The out-of-order data held, as SACK blocks (RFC 2018), at most ``limit``."""
        if not self.ooo:
            return []
        return receiver_blocks(self.ooo, self.ooo_recent, limit)

    def read(self, n: int, now: int) -> bytes:
        data = self.rcvq.pop(n)
        if self.tuning is not None:
            self.rcvbuf = self.tuning.taken(len(data), now, self.rcvbuf)
        return data

    def take_fin(self) -> bool:
        """The peer's FIN is next in sequence: take it (True) once."""
        if self.eof or self.peer_fin is None or self.peer_fin != self.rcv_nxt:
            return False
        self.rcv_nxt += 1
        if self.rcv_nxt > self.rcv_adv:
            self.rcv_adv = self.rcv_nxt
        self.eof = True
        self.ack_now = True
        return True

    def sws_threshold(self) -> int:
        """The least worth advertising: min(half the buffer, one MSS) (RFC 9293 3.8.6.2.2)."""
        half = self.rcvbuf >> 1
        return half if half < self.mss else self.mss

    def free_window(self) -> int:
        """The window the free buffer allows: all of it, or the share the stack advertises."""
        free = self.rcvbuf - len(self.rcvq)
        share = self.config.window_share
        return free if share == 1.0 else int(free * share)

    def window_opened(self) -> bool:
        """After the application read: is the window worth an update (it can grow by at
        least the SWS threshold, and what was advertised is a quarter of the buffer or less)?"""
        cur = self.rcv_wnd
        return self.free_window() - cur >= self.sws_threshold() and 4 * cur <= self.rcvbuf

    def advertise(self) -> int:
        """Move the window's right edge (receiver SWS avoidance); the window field's value."""
        free = self.free_window()
        shift = self.rcv_wscale
        if free > MAX_WINDOW_FIELD << shift:
            free = MAX_WINDOW_FIELD << shift
        nxt = self.rcv_nxt
        if nxt + free - self.rcv_adv >= self.sws_threshold():
            self.rcv_adv = nxt + free
        wnd = self.rcv_adv - nxt
        return wnd >> shift if wnd > 0 else 0

    def advertise_syn(self, own_mss: int) -> int:
        """The window a SYN carries: never scaled (RFC 7323 2.2); whole segments of the MSS
        this side offers if the stack rounds it so (and it is larger than one)."""
        window = min(self.free_window(), MAX_WINDOW_FIELD)
        if self.config.window_in_segments and window > own_mss:
            window -= window % own_mss
        if self.rcv_nxt + window > self.rcv_adv:
            self.rcv_adv = self.rcv_nxt + window
        return window

    def ack_sent(self, ack: int, scaled_window: int) -> None:
        self.last_ack_sent = ack
        self.last_win_sent = scaled_window
        self.ack_now = False
        self.unacked_segments = 0
