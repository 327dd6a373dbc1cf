"""Pictures of a simulation: flow control over time, and send() boundaries against recv()."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headerkit import seqnum
from headerkit.flows.flags import Analysis
from headerkit.sim.engine import Buffers, Result
from headerkit.sim.segment import Segment, flag_text
from headerkit.sim.trace import Kind


def flow_control(result: Result, sender: int = 0, ax: Any = None) -> Any:
    """Receive-buffer occupancy, rwnd, cwnd and bytes in flight over time for one direction.

    Zero-window segments from the receiver are marked with red crosses, the sender's
    zero-window probes with orange triangles.  Returns the Axes.
    """
    import matplotlib.pyplot as plt

    receiver = 1 - sender
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.5))
    flight: list[tuple[float, int]] = []
    cwnd: list[tuple[float, int]] = []
    rwnd: list[tuple[float, int]] = []
    buffered: list[tuple[float, int]] = []
    zero_windows: list[float] = []
    probes: list[float] = []
    for e in result.entries:
        t = e.time / 1e9
        if e.kind is Kind.SEND and isinstance(e.packet, Segment):
            if e.side == sender and e.view:
                flight.append((t, e.view[0]))
                cwnd.append((t, e.view[1]))
                if e.view[2] >= 0:  # known once the peer's SYN arrived
                    rwnd.append((t, e.view[2]))
                if Analysis.ZERO_WINDOW_PROBE in e.packet.labels:
                    probes.append(t)
            elif e.side == receiver:
                if e.view:
                    buffered.append((t, e.view[4]))
                if Analysis.ZERO_WINDOW in e.packet.labels:
                    zero_windows.append(t)
        elif e.kind is Kind.ARRIVE and e.side == receiver and e.view:
            buffered.append((t, e.view[0]))
    tops = [v for series in (buffered, rwnd, flight) for _, v in series]
    # a cwnd far above the window gets its own scale (right), so every line stays readable
    apart = bool(tops and cwnd and max(v for _, v in cwnd) > 2 * max(tops))
    right = ax.twinx() if apart else ax
    for series, label, style, on in (
        (buffered, "receive buffer used", {"color": "tab:blue", "lw": 2}, ax),
        (rwnd, "rwnd (sender's view)", {"color": "tab:green"}, ax),
        (
            cwnd,
            "cwnd (right axis)" if apart else "cwnd",
            {"color": "tab:purple", "ls": "--"},
            right,
        ),
        (flight, "bytes in flight", {"color": "tab:gray"}, ax),
    ):
        if series:
            xs, ys = zip(*series, strict=True)
            on.step(xs, ys, where="post", label=label, **style)
    if apart:
        right.set_ylabel("cwnd (bytes)", color="tab:purple")
        right.set_ylim(0, 1.1 * max(v for _, v in cwnd))
    if zero_windows:
        ax.plot(zero_windows, [0] * len(zero_windows), "x", color="red", ms=9, label="zero window")
    if probes:
        ax.plot(probes, [0] * len(probes), "^", color="orange", ms=8, label="zero-window probe")
    if tops:
        ax.set_ylim(0, 1.15 * max(tops))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("bytes")
    ax.set_title(f"Flow control, {'ab'[sender]} → {'ab'[receiver]}: {result.scenario.name}")
    handles = [h for a in {ax, right} for h in a.get_legend_handles_labels()[0]]
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    return ax


def boundaries(
    sends: Sequence[bytes],
    recvs: Sequence[bytes],
    segments: Sequence[int] = (),
    ax: Any = None,
    title: str = "send() boundaries against recv() chunks",
    segment_labels: Sequence[str] = (),
) -> Any:
    """The lesson in one image: ``send()`` calls as one bar of byte ranges, ``recv()``
    chunks as another, aligned on the byte stream (from byte 0), with the segments'
    payloads between, each labelled (``segment_labels``, or its byte range)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 2.8))
    rows = [("send()", list(sends), "tab:blue", 2.0)]
    if segments:
        rows.append(("segments", [b"\0" * n for n in segments], "tab:gray", 1.0))
    rows.append(("recv()", [r for r in recvs if r], "tab:orange", 0.0))
    for label, chunks, color, y in rows:
        at = 0
        for i, chunk in enumerate(chunks):
            ax.broken_barh(
                [(at, len(chunk))],
                (y, 0.8),
                facecolors=color,
                edgecolors="black",
                alpha=0.35 + 0.3 * (i % 2),
            )
            if label == "segments":
                name = segment_labels[i] if i < len(segment_labels) else ""
                text = name or f"{at}-{at + len(chunk) - 1}"
                ax.text(at + len(chunk) / 2, y + 0.4, text, ha="center", va="center", fontsize=7)
            elif len(chunk) <= 16:
                ax.text(
                    at + len(chunk) / 2,
                    y + 0.4,
                    chunk.decode("latin-1"),
                    ha="center",
                    va="center",
                    fontsize=9,
                )
            at += len(chunk)
    total = max(sum(len(s) for s in sends), sum(len(r) for r in recvs), 1)
    ax.set_yticks([y + 0.4 for _, _, _, y in rows], [label for label, _, _, _ in rows])
    ax.set_xlim(0, total * 1.02)
    ax.set_ylim(-0.3, 3.1)
    ax.set_xlabel("byte offset in the stream")
    ax.set_title(title)
    return ax


def simulation_boundaries(result: Result, sender: int = 0, ax: Any = None) -> Any:
    """:func:`boundaries` for one direction of a simulation, each segment labelled with its
    flags and relative sequence range (``P. 1:6``)."""
    receiver = 1 - sender
    segments = [
        e.packet
        for e in result.entries
        if e.kind is Kind.SEND
        and e.side == sender
        and isinstance(e.packet, Segment)
        and e.packet.payload
        and Analysis.RETRANSMISSION not in e.packet.labels
    ]
    iss = result.iss[sender]
    labels = []
    for seg in segments:
        assert isinstance(seg, Segment)
        first = seqnum.add(seg.seq, -iss)
        size = len(seg.payload)
        labels.append(f"{flag_text(seg.flags)} {first}:{first + size}({size})")
    return boundaries(
        result.streams[sender].sends,
        result.streams[receiver].recvs,
        [len(seg.payload) for seg in segments],
        ax,
        f"{result.scenario.name}: send() boundaries against recv() chunks",
        labels,
    )


def socket_buffers(result: Result, side: int = 0, ax: Any = None) -> Any:
    """One side's socket over time, stacked: the bytes its application still has to hand
    to send(), its send buffer (unsent, then in flight) and its receive buffer's unread
    bytes; below the axis, what each recv() copied out to the application."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4))
    samples = [b for b in result.buffers if b.side == side]
    if not samples:
        raise ValueError("the simulation has no socket buffers to draw (UDP?)")
    times = [b.time / 1e9 for b in samples]
    layers = (
        ("application, not yet taken by send()", [b.app for b in samples], "tab:gray"),
        ("send buffer: unsent", [b.unsent for b in samples], "tab:blue"),
        ("send buffer: in flight", [b.in_flight for b in samples], "tab:cyan"),
        ("receive buffer: unread", [b.unread for b in samples], "tab:orange"),
    )
    ax.stackplot(
        times,
        *(values for _, values, _ in layers),
        labels=[label for label, _, _ in layers],
        colors=[colour for _, _, colour in layers],
        step="post",
        alpha=0.6,
    )
    copies = [(t, b.copied) for t, b in zip(times, samples, strict=True) if b.copied]
    if copies:
        xs, ys = zip(*copies, strict=True)
        ax.vlines(xs, [-y for y in ys], 0, color="tab:red", linewidth=2, label="recv() copied out")
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.set_xlim(0, _busy_until(result))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("bytes")
    ax.set_title(f"Socket buffers of {'ab'[side]}: {result.scenario.name}")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def usable_window(result: Result, sender: int = 0, ax: Any = None) -> Any:
    """What the sender may have in flight, min(cwnd, rwnd), over time: the binding limit
    drawn thick in its own colour, each change of limit marked, the bytes in flight below."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4))
    samples = [b for b in result.buffers if b.side == sender and b.rwnd >= 0]
    if not samples:
        raise ValueError("the simulation has no window to draw (UDP?)")
    times = [b.time / 1e9 for b in samples]
    colours = {"cwnd": "tab:purple", "rwnd": "tab:green"}
    for limit, label in (("cwnd", "cwnd"), ("rwnd", "rwnd (the peer's window)")):
        values = [getattr(b, limit) for b in samples]
        ax.step(times, values, where="post", color=colours[limit], lw=0.8, ls="--", label=label)
    ax.step(
        times, [b.in_flight for b in samples], where="post", color="0.4", lw=1, label="in flight"
    )
    for start, stop, limit in binding_runs(samples):
        xs = [*times[start:stop], times[stop] if stop < len(times) else times[-1]]
        ys = [min(b.cwnd, b.rwnd) for b in samples[start:stop]]
        ax.step(xs, [*ys, ys[-1]], where="post", color=colours[limit], lw=3)
        if start:
            ax.axvline(times[start], color=colours[limit], ls=":", lw=1)
            ax.annotate(
                f"{limit} binds",
                (times[start], ys[0]),
                xytext=(4, 6),
                textcoords="offset points",
                fontsize=8,
                color=colours[limit],
            )
    for limit, colour in colours.items():
        ax.plot([], [], color=colour, lw=3, label=f"min(cwnd, rwnd) while {limit} binds")
    usable = [min(b.cwnd, b.rwnd) for b in samples]
    top = 1.5 * max(max(usable), max(b.in_flight for b in samples), 1)
    if max(max(b.cwnd for b in samples), max(b.rwnd for b in samples)) > top:
        ax.set_ylim(0, top)  # the limit that does not bind may run off the top
    ax.set_xlim(0, _busy_until(result))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("bytes")
    ax.set_title(f"Usable window, {'ab'[sender]} → {'ab'[1 - sender]}: {result.scenario.name}")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def _busy_until(result: Result) -> float:
    """A little past the last moment either socket held or moved data (TIME-WAIT and idle
    ends would squeeze the story into the left edge)."""
    busy = [
        b.time for b in result.buffers if b.app or b.unsent or b.in_flight or b.unread or b.copied
    ]
    return 1.05 * max(busy, default=result.end) / 1e9 or 1.0


def binding_runs(samples: Sequence[Buffers]) -> list[tuple[int, int, str]]:
    """(first, past-last, "cwnd" or "rwnd"): the runs of samples in which one limit binds."""
    runs: list[tuple[int, int, str]] = []
    for index, sample in enumerate(samples):
        limit = "cwnd" if sample.cwnd < sample.rwnd else "rwnd"
        if runs and runs[-1][2] == limit:
            runs[-1] = (runs[-1][0], index + 1, limit)
        else:
            runs.append((index, index + 1, limit))
    return runs
