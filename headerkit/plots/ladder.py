"""The ladder (sequence) diagram of one connection: two timelines, one slanted arrow per
segment from its sending to its arrival, lost segments ending mid-way, each side's state
changes and (for a simulation) its socket calls beside its timeline.

A :class:`Ladder` is built from a simulation (:func:`simulation_ladder`: every send and
arrival is known) or from a capture's stream (:func:`capture_ladder`: one capture point sees
each segment once, so the other end's times are shifted by the one-way delay the replay
infers from the handshake).  It is drawn with matplotlib (:func:`draw_ladder`) or as text
(:func:`ladder_text`).  Time runs down, one row per event, so idle gaps take no room.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from headerkit import seqnum
from headerkit.flows.state import Connection
from headerkit.packet.decode import Packet
from headerkit.replay.infer import infer
from headerkit.replay.segments import Seen, stream_segments
from headerkit.schemas.tcp import ACK, FIN, FLAG_NAMES, SYN
from headerkit.sim.engine import Result
from headerkit.sim.segment import Segment
from headerkit.sim.trace import Kind, label_names

# At one instant: what arrives is taken in, then states change and calls return, then
# segments leave (the order a kernel works in).
_ARRIVE, _NOTE, _SEND = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Rung:
    """One segment: who sent it, when it left and arrived (None: lost), and its label."""

    sender: int
    sent: float
    arrived: float | None
    label: str


@dataclass(frozen=True, slots=True)
class Note:
    """A state change or a socket call beside one side's timeline."""

    side: int
    time: float
    text: str


@dataclass(slots=True)
class Ladder:
    names: tuple[str, str]
    rungs: list[Rung] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    title: str = ""

    def rows(self) -> list[tuple[float, int, Rung | Note]]:
        """Every event in time order: (time, what, the rung or note), ``what`` being
        arrival, note or sending."""
        rows: list[tuple[float, int, Rung | Note]] = []
        for rung in self.rungs:
            rows.append((rung.sent, _SEND, rung))
            if rung.arrived is not None:
                rows.append((rung.arrived, _ARRIVE, rung))
        rows.extend((note.time, _NOTE, note) for note in self.notes)
        return sorted(rows, key=lambda row: (row[0], row[1]))


def segment_label(flags: int, seq: int, ack: int | None, length: int, window: int) -> str:
    """``SYN, ACK seq=0 ack=1 len=0 win=65535``: what a ladder writes on a segment's arrow."""
    names = ", ".join(name for bit, name in FLAG_NAMES if flags & bit) or "<none>"
    acked = f" ack={ack}" if ack is not None else ""
    return f"{names} seq={seq}{acked} len={length} win={window}"


# ----------------------------------------------------------------------------- sources


def simulation_ladder(result: Result) -> Ladder:
    """The ladder of a simulated connection, sequence numbers relative to each ISN."""
    ladder = Ladder(("a (connects)", "b (listens)"), title=result.scenario.name)
    pending: dict[int, list[int]] = {}  # id(segment) -> rungs still to arrive
    arrivals: dict[int, float] = {}
    sends: list[tuple[int, Segment, float, str]] = []
    for entry in result.entries:
        seconds = entry.time / 1e9
        pkt = entry.packet
        if entry.kind is Kind.SEND and isinstance(pkt, Segment):
            pending.setdefault(id(pkt), []).append(len(sends))
            sends.append((entry.side, pkt, seconds, entry.text))
        elif entry.kind is Kind.ARRIVE and isinstance(pkt, Segment) and pending.get(id(pkt)):
            arrivals[pending[id(pkt)].pop(0)] = seconds
        elif entry.kind in (Kind.STATE, Kind.RETURN):
            ladder.notes.append(Note(entry.side, seconds, entry.text))
    for index, (side, seg, sent, fate) in enumerate(sends):
        own, peer = result.iss[side], result.iss[1 - side]
        ack = seqnum.add(seg.ack, -peer) if seg.flags & ACK else None
        seq = seqnum.add(seg.seq, -own)
        label = segment_label(seg.flags, seq, ack, len(seg.payload), seg.window)
        shown = label_names(seg.labels)
        if shown:
            label += f" [{', '.join(shown)}]"
        if fate and fate not in ("lost", "dropped"):
            label += f" ({fate})"
        ladder.rungs.append(Rung(side, sent, arrivals.get(index), label))
    return ladder


def capture_ladder(packets: Iterable[Packet], stream: int) -> Ladder:
    """The ladder of TCP stream ``stream`` of a capture (relative numbers, as tshark)."""
    segments = stream_segments(packets, stream)
    inference = infer(segments)
    near = 0 if inference.capture == "a" else 1  # the side the capture was taken next to
    delay = inference.rtt / 2
    ladder = Ladder(("A (opened)", "B"), title=f"stream {stream}")
    resent = {(s.side, s.seq) for s in segments if _retransmitted(s)}
    connection = Connection()
    sent_near: list[tuple[int, int]] = []  # (sequence end, rung) of the near side's segments
    taken = 0
    for seg in segments:
        if seg.side == near:
            sent, arrived = seg.time, seg.time + delay
            end = seg.seq + seg.length + bool(seg.flags & (SYN | FIN))
            sent_near.append((end, len(ladder.rungs)))
        else:
            sent, arrived = max(0.0, seg.time - delay), seg.time
            # what it acknowledges had reached it: no arrow arrives after its answer leaves
            while seg.flags & ACK and taken < len(sent_near) and sent_near[taken][0] <= seg.ack:
                index = sent_near[taken][1]
                answered = ladder.rungs[index]
                if answered.arrived is not None and answered.arrived > sent:
                    latest = min(answered.arrived, seg.time)
                    sent = max(sent, latest)
                    ladder.rungs[index] = replace(answered, arrived=min(answered.arrived, sent))
                taken += 1
        original = not _retransmitted(seg) and (seg.side, seg.seq) in resent
        lost = original and seg.side == near and seg.length > 0
        label = segment_label(
            seg.flags, seg.seq, seg.ack if seg.flags & ACK else None, seg.length, seg.window
        )
        ladder.rungs.append(Rung(seg.side, sent, None if lost else arrived, label))
        before = (len(connection.path(0)), len(connection.path(1)))
        connection.update(seg.side, seg.flags, seg.seq, seg.ack, seg.length)
        for side in (0, 1):
            # the sender moves as it sends; its peer as the segment arrives
            at = arrived if side != seg.side and not lost else sent
            for step in connection.path(side)[before[side] :]:
                ladder.notes.append(Note(side, at, str(step)))
    ladder.notes.sort(key=lambda note: note.time)
    return ladder


def _retransmitted(seg: Seen) -> bool:
    return bool(seg.analysis & {"retransmission", "fast_retransmission"})


# ----------------------------------------------------------------------------- renderers


def draw_ladder(ladder: Ladder, ax: Any = None, limit: int = 120) -> Any:
    """Draw the first ``limit`` rows on ``ax`` (a new figure if None); return the axes."""
    import matplotlib.pyplot as plt

    rows = ladder.rows()[:limit]
    row_of: dict[tuple[int, int], int] = {}  # (id(rung), what) -> row
    for number, (_, what, item) in enumerate(rows):
        row_of[id(item), what] = number
    if ax is None:
        _, ax = plt.subplots(figsize=(14, max(4.0, 0.28 * len(rows) + 1.5)))
    bottom = len(rows)
    for x in (0, 1):
        ax.plot([x, x], [-0.5, bottom], color="0.2", linewidth=2)
    for number, (time, what, item) in enumerate(rows):
        ax.text(
            -1.3, number, f"{time:.6f}", fontsize=7, va="center", color="0.4", family="monospace"
        )
        if isinstance(item, Note):
            left = item.side == 0
            colour = "tab:purple" if "->" in item.text else "tab:green"
            ax.text(
                -0.03 if left else 1.03,
                number,
                item.text,
                fontsize=7.5,
                va="center",
                ha="right" if left else "left",
                color=colour,
            )
            continue
        if what != _SEND:
            continue
        start_x, end_x = (0.0, 1.0) if item.sender == 0 else (1.0, 0.0)
        end_row = row_of.get((id(item), _ARRIVE))
        lost = item.arrived is None
        if end_row is None:  # lost, or arriving after the rows shown
            end_row = number + 1
            end_x = 0.5 if lost else end_x
        colour = "tab:red" if lost else "tab:blue" if item.sender == 0 else "tab:orange"
        ax.annotate(
            "",
            xy=(end_x, end_row),
            xytext=(start_x, number),
            arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 1.2},
        )
        if lost:
            ax.plot([end_x], [end_row], marker="x", color="tab:red", markersize=9, mew=2)
        mid = ((start_x + end_x) / 2, (number + end_row) / 2)
        ax.text(
            *mid,
            item.label + (" (lost)" if lost else ""),
            fontsize=6.5,
            ha="center",
            va="bottom",
            color=colour,
            rotation=0,
            bbox={
                "boxstyle": "round,pad=0.1",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.85,
            },
        )
    ax.set_xlim(-1.32, 1.9)
    ax.set_ylim(bottom + 0.5, -1.5)
    ax.axis("off")
    for x, name in zip((0, 1), ladder.names, strict=True):
        ax.text(x, -1.2, name, ha="center", fontsize=10, fontweight="bold")
    shown = f" (first {limit} of {len(ladder.rows())} events)" if len(ladder.rows()) > limit else ""
    ax.set_title(f"Ladder of {ladder.title}{shown}", fontsize=11)
    return ax


def ladder_text(ladder: Ladder, width: int = 56) -> Iterator[str]:
    """The ladder as text: a row per event, arrows across the middle column."""
    side_width = 30
    yield f"{'time':>10}  {ladder.names[0]:<{side_width}}{'':{width}}  {ladder.names[1]}"
    for time, what, item in ladder.rows():
        stamp = f"{time:10.6f}  "
        if isinstance(item, Note):
            if item.side == 0:
                yield stamp + item.text
            else:
                yield stamp + " " * (side_width + width) + "  " + item.text
            continue
        if what == _ARRIVE:
            continue
        lost = item.arrived is None
        label = f" {item.label} "
        body = label.center(width - 2, "─")
        if lost:
            half = body[: width // 2 + len(label) // 2]
            arrow = (half + "✕").ljust(width) if item.sender == 0 else ("✕" + half).rjust(width)
        else:
            arrow = body + "─▶" if item.sender == 0 else "◀─" + body
        arrival = "lost" if lost else f"arrives {item.arrived:.6f}"
        yield f"{stamp}{'':{side_width}}{arrow}  ({arrival})"
