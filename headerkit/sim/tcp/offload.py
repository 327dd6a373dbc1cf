"""Segmentation offload as Linux sizes it (tcp_tso_autosize): how many segments one packet
handed to the device may hold.  About a millisecond of data at the pacing rate (twice cwnd per
round trip in slow start, 1.2 times after), more on paths of a few microseconds, at most the
device's 64 KiB, and at least ``net.ipv4.tcp_min_tso_segs``."""

from __future__ import annotations

from typing import Final

from headerkit.sim.clock import NS

GSO_MAX_SIZE: Final = 65536  # the largest packet a stack hands a device with segmentation offload
PACING_SHIFT: Final = 10  # packets of 2**-10 s at the pacing rate (sk_pacing_shift)
TSO_RTT_LOG: Final = 9  # net.ipv4.tcp_tso_rtt_log: paths under 2**9 us get larger packets


def tso_segs(
    cwnd: int, ssthresh: int, mss: int, srtt: int | None, min_rtt: int | None, least: int
) -> int:
    """Segments per packet for a window of ``cwnd`` bytes and round trips in ns."""
    if not srtt:
        return max(GSO_MAX_SIZE // mss, least)
    ratio = 2.0 if cwnd < ssthresh // 2 else 1.2
    budget = int(ratio * cwnd * NS / srtt) >> PACING_SHIFT
    min_rtt_us = (min_rtt or srtt) // 1000
    if (shift := min_rtt_us >> TSO_RTT_LOG) < 32:
        budget += GSO_MAX_SIZE >> shift
    return max(min(budget, GSO_MAX_SIZE) // mss, least)
