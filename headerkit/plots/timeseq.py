"""The time-sequence graph, in the style of tcptrace and Stevens, for one direction of a stream.

Each data segment is a vertical bar from its first to its last sequence number at the time it
was sent; the other side's acknowledgments draw the ACK line and, with the advertised window
added, the window's right edge.  Retransmissions are red, duplicate ACKs green diamonds and zero
windows red crosses on the ACK line, and SACK blocks are olive bars.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headerkit.captures.decoded import decode_capture
from headerkit.flows import annotate
from headerkit.packet.decode import Packet
from headerkit.schemas import tcp as t

_RETRANSMISSIONS = ("retransmission", "fast_retransmission", "spurious_retransmission")


@dataclass
class Direction:
    """What the graph draws, in relative sequence numbers of the sending side."""

    segments: list[tuple[float, int, int, bool]] = field(default_factory=list)  # t, lo, hi, rexmit
    acks: list[tuple[float, int]] = field(default_factory=list)
    window_edge: list[tuple[float, int]] = field(default_factory=list)
    zero_windows: list[tuple[float, int]] = field(default_factory=list)
    duplicate_acks: list[tuple[float, int]] = field(default_factory=list)
    sacks: list[tuple[float, int, int]] = field(default_factory=list)


def collect(packets: Iterable[Packet], stream: int, direction: int = 0) -> Direction:
    """Gather one direction of TCP stream ``stream``; direction 0 sends the stream's first
    packet (tshark's node 0)."""
    out = Direction()
    sender: tuple[str | None, int | None] | None = None
    base: int | None = None
    t0: int | None = None
    for pkt, f in annotate(packets):
        seg, ip = pkt.tcp, pkt.ip
        if f.get("tcp.stream") != stream or seg is None or ip is None or seg.seq is None:
            continue
        here = (ip.src, seg.srcport)
        if sender is None:
            first = here
            sender = first if direction == 0 else (ip.dst, seg.dstport)
        t0 = pkt.timestamp_ns if t0 is None else t0
        when = ((pkt.timestamp_ns or 0) - (t0 or 0)) / 1e9
        if here == sender:
            base = seg.seq - f["tcp.seq"] if base is None else base
            length = (seg.payload_length or 0) + seg.has(t.SYN) + seg.has(t.FIN)
            if length:
                rexmit = any(f.get(f"tcp.analysis.{name}") for name in _RETRANSMISSIONS)
                out.segments.append((when, f["tcp.seq"], f["tcp.seq"] + length, rexmit))
        elif seg.has(t.ACK) and "tcp.ack" in f:
            out.acks.append((when, f["tcp.ack"]))
            if "tcp.window_size" in f:
                out.window_edge.append((when, f["tcp.ack"] + f["tcp.window_size"]))
            if f.get("tcp.analysis.zero_window"):
                out.zero_windows.append((when, f["tcp.ack"]))
            if f.get("tcp.analysis.duplicate_ack"):
                out.duplicate_acks.append((when, f["tcp.ack"]))
            sack = seg.option(t.SACK)
            if sack is not None and base is not None and isinstance(sack.value, tuple):
                for le, re in sack.value:
                    out.sacks.append((when, (le - base) % 2**32, (re - base) % 2**32))
    return out


def time_sequence(
    packets: Iterable[Packet], stream: int = 0, direction: int | None = None, ax: Any = None
) -> Any:
    """Draw the time-sequence graph of one direction of a TCP stream; return the Axes.

    ``direction`` None picks the direction that sent more sequence space.
    """
    import matplotlib.pyplot as plt

    packets = list(packets)
    if direction is None:
        sizes = [
            sum(hi - lo for _, lo, hi, _ in collect(packets, stream, d).segments) for d in (0, 1)
        ]
        direction = 0 if sizes[0] >= sizes[1] else 1
    d = collect(packets, stream, direction)
    if not d.segments and not d.acks:
        raise ValueError(f"TCP stream {stream} has no segments in direction {direction}")
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5))
    for rexmit in (False, True):
        bars = [(w, lo, hi) for w, lo, hi, r in d.segments if r is rexmit]
        if bars:
            ax.vlines(
                [b[0] for b in bars],
                [b[1] for b in bars],
                [b[2] for b in bars],
                colors="tab:red" if rexmit else "black",
                linewidth=3 if rexmit else 1.2,
                label="retransmission" if rexmit else "segment",
            )
    resent = [(w, (lo + hi) / 2) for w, lo, hi, r in d.segments if r]
    if resent:  # a bar one segment high is hard to see on a long transfer
        xs, ys = zip(*resent, strict=True)
        ax.plot(xs, ys, "o", markerfacecolor="none", color="tab:red", markersize=10)
    if d.acks:
        xs, ys = zip(*d.acks, strict=True)
        ax.step(xs, ys, where="post", color="tab:green", label="ACK")
    if d.window_edge:
        xs, ys = zip(*d.window_edge, strict=True)
        ax.step(xs, ys, where="post", color="tab:orange", label="window edge (ACK + rwnd)")
    if d.duplicate_acks:
        xs, ys = zip(*d.duplicate_acks, strict=True)
        ax.plot(xs, ys, "d", color="tab:green", markersize=4, label="duplicate ACK")
    if d.zero_windows:
        xs, ys = zip(*d.zero_windows, strict=True)
        ax.plot(xs, ys, "x", color="tab:red", markersize=9, label="zero window")
    if d.sacks:
        ax.vlines(
            [s[0] for s in d.sacks],
            [s[1] for s in d.sacks],
            [s[2] for s in d.sacks],
            colors="tab:olive",
            linewidth=4,
            alpha=0.6,
            label="SACK block",
        )
    data_top = max([hi for _, _, hi, _ in d.segments] + [a for _, a in d.acks] + [1])
    if d.window_edge and max(e for _, e in d.window_edge) > 3 * data_top:
        ax.set_ylim(0, 1.5 * data_top)  # a window far above the data runs off the top
    ax.set_xlabel("time (s)")
    ax.set_ylabel("relative sequence number")
    ax.set_title(f"Time-sequence graph, TCP stream {stream}, direction {direction}")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def simulation_time_sequence(result: Any, direction: int | None = None, ax: Any = None) -> Any:
    """:func:`time_sequence` of a simulation, through the capture it writes."""
    from headerkit.sim.pcap import write_pcap

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "simulation.pcap"
        write_pcap(result, path)
        return time_sequence(list(decode_capture(path)), 0, direction, ax)
