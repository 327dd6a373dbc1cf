"""Receive-buffer autotuning, as Linux's dynamic right-sizing (tcp_rcv_space_adjust).

The receiver measures its own round-trip time: from the timestamps it gets echoed, or else as
the time one advertised window of data takes to arrive.  Once per such round trip it looks
at how much the application took: if more than in the round trip before, the buffer grows to
hold twice that plus 16 segments (for losses), and as much again as the rate grew (for a
sender in slow start), up to the largest buffer the stack allows (tcp_rmem[2]).  A buffer the
application set with SO_RCVBUF does not grow.
"""

from __future__ import annotations

from typing import Final

LOSS_CUSHION: Final = 16  # segments of room beyond twice a round trip's data


class Autotuning:
    __slots__ = (
        "advmss",
        "copied",
        "limit",
        "rtt",
        "share",
        "space",
        "space_copied",
        "space_time",
        "window_end",
        "window_time",
    )

    def __init__(self, limit: int, share: float, advmss: int, space: int) -> None:
        self.limit = limit  # the largest buffer (bytes)
        self.share = share  # of the buffer, what the window offers
        self.advmss = advmss
        self.space = max(space, 1)  # what the application took in the last round trip
        self.copied = 0  # bytes the application has taken in all
        self.space_copied = 0  # ... when the round trip being measured began
        self.space_time = 0
        self.rtt = 0  # the receiver's smoothed RTT estimate, ns (0: none yet)
        self.window_end: int | None = None  # RTT by window: the sequence that ends it
        self.window_time = 0

    def rtt_sample(self, sample: int, by_window: bool) -> None:
        """One measurement: smoothed by 1/8 from timestamps; by window, the least is kept."""
        sample = max(sample, 1)
        if not self.rtt:
            self.rtt = sample
        elif by_window:
            self.rtt = min(self.rtt, sample)
        else:
            self.rtt += (sample - self.rtt) >> 3

    def data_arrived(self, rcv_nxt: int, rcv_wnd: int, now: int) -> None:
        """Without timestamps: a round trip is the time one advertised window takes."""
        end = self.window_end
        if end is not None and rcv_nxt < end:
            return
        if end is not None:
            self.rtt_sample(now - self.window_time, by_window=True)
        self.window_end = rcv_nxt + max(rcv_wnd, self.advmss)
        self.window_time = now

    def taken(self, n: int, now: int, rcvbuf: int) -> int:
        """The application took ``n`` bytes: the buffer size from now on."""
        self.copied += n
        if not self.rtt or now - self.space_time < self.rtt:
            return rcvbuf
        copied = self.copied - self.space_copied
        self.space_copied, self.space_time = self.copied, now
        if copied <= self.space:
            return rcvbuf
        window = 2 * copied + LOSS_CUSHION * self.advmss
        window += 2 * (window * (copied - self.space) // self.space)
        self.space = copied  # more than the last (>= 1)
        wanted = min(int(window / self.share), self.limit)
        return wanted if wanted > rcvbuf else rcvbuf
