"""A capture and its replays on one time-sequence graph: each run's data segments (sequence
numbers over time) and the receiver's ACK line, one colour per run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from headerkit.replay.segments import Seen

COLOURS = ("black", "tab:blue", "tab:orange", "tab:green")


def replay_time_sequence(runs: Mapping[str, Sequence[Seen]], ax: Any = None) -> Any:
    """Draw ``runs`` (name -> segments of one stream) over each other; return the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5))
    for (name, segments), colour in zip(runs.items(), COLOURS, strict=False):
        sent = [sum(s.length for s in segments if s.side == side) for side in (0, 1)]
        sender = 0 if sent[0] >= sent[1] else 1
        data = [s for s in segments if s.side == sender and s.length]
        ax.vlines(
            [s.time for s in data],
            [s.seq for s in data],
            [s.seq + s.length for s in data],
            colors=colour,
            linewidth=2,
            label=f"{name}: data",
        )
        acks = [s for s in segments if s.side != sender and s.ack]
        ax.step(
            [s.time for s in acks],
            [s.ack for s in acks],
            where="post",
            color=colour,
            linewidth=0.8,
            alpha=0.7,
            label=f"{name}: ACK",
        )
    ax.set_xlabel("time since the first segment (s)")
    ax.set_ylabel("relative sequence number")
    ax.set_title("capture and replay, time-sequence")
    ax.legend(loc="upper left", fontsize="small")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    return ax
