"""Socket options and stack parameters of one modeled TCP endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

CONGESTION_CONTROLS = ("newreno", "cubic")
"""The congestion controllers the model has (``headerkit.sim.tcp.congestion``)."""
PROBES = ("data", "stale")
"""Zero-window probes: one byte of new data (RFC 9293), or no data at SND.UNA - 1 (Linux)."""
CHOICES = {"congestion": CONGESTION_CONTROLS, "zero_window_probe": PROBES}
DEFAULT_MSS: Final = 536  # the MSS to assume when a SYN carries none (RFC 9293 3.7.1)
KEEPALIVE_TIME: Final = 7200.0  # seconds idle before SO_KEEPALIVE's first probe (Linux's default)


@dataclass(frozen=True)
class TcpConfig:
    """Socket options and stack parameters of one endpoint (times in seconds).

    Defaults follow Linux where RFCs leave a choice: 16 KiB send and 128 KiB receive buffer,
    initial window of 10 segments, 40 ms delayed-ACK timer, 200 ms minimum RTO, 2*MSL = 60 s.
    """

    mss: int = 1460
    sndbuf: int = 16384
    rcvbuf: int = 131072
    rcvbuf_max: int | None = None  # the buffer may grow to this (autotuning); None: fixed
    window_share: float = 1.0  # of the free receive buffer, what is advertised
    window_in_segments: bool = False  # a SYN's window is rounded down to whole segments
    nodelay: bool = False
    minshall: bool = False  # Nagle holds a small segment only while a small one is in flight
    cork: bool = False  # TCP_CORK: hold a segment until it is full (or uncorked, or ~RTO)
    push_per_write: bool = False  # PSH where a send() call's data ends (Linux), not when
    # the send buffer empties (BSD)
    delayed_ack: bool = True
    delack_timeout: float = 0.040
    ack_every: int = 2
    quickack: int = 0  # at most this many first segments are acknowledged at once
    ack_on_read: bool = False  # a pending ACK goes out when the application reads
    keepalive: float | None = None  # SO_KEEPALIVE: idle seconds before the first probe
    keepalive_interval: float = 75.0  # seconds between unanswered probes (Linux)
    keepalive_probes: int = 9  # unanswered probes before the connection is dropped (Linux)
    slow_start_after_idle: bool = False  # RFC 5681 4.1, as Linux: cwnd decays over idle RTOs
    shrink_window: bool = False  # a window the peer shrinks is taken (Linux), not its old edge
    rto_min_variance: bool = False  # RTO = SRTT + max(4 RTTVAR, rto_min), as Linux computes it
    limited_transmit: bool = False  # RFC 3042: new data for the first duplicate ACKs
    half_window_mss: bool = False  # segments at most half the window the peer's SYN offered
    cwnd_validation: bool = False  # cwnd grows only while the sender uses it (Linux)
    min_tso_segs: int = 0  # segmentation offload: packets of at least this many segments; 0: off
    wakeup: float = 0.0  # seconds from a blocked call's socket being ready to its return
    window_scaling: bool = True
    sack: bool = False
    timestamps: bool = False
    zero_window_probe: str = "data"
    initial_cwnd: int = 10
    congestion: str = "newreno"
    rto_initial: float = 1.0
    rto_min: float = 0.2
    rto_max: float = 120.0
    persist_max: float = 60.0
    max_retries: int = 15
    msl: float = 30.0
    iss: int | None = None
    wscale: int | None = None  # the scale to offer; None: the least that fits the largest buffer

    def __post_init__(self) -> None:
        for name, known in CHOICES.items():
            value = getattr(self, name)
            if value not in known:
                raise ValueError(f"{name} must be one of {', '.join(known)}, not {value!r}")


def wscale_for(rcvbuf: int) -> int:
    """The least shift that brings ``rcvbuf`` within the 16-bit window field (RFC 7323;
    Linux computes its choice the same way, as ilog2 less 15, from the largest buffer the
    socket may grow to, or the largest window a buffer fixed by SO_RCVBUF offers)."""
    shift = 0
    while (rcvbuf >> shift) > 0xFFFF and shift < 14:
        shift += 1
    return shift
