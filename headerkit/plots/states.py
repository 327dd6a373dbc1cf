"""The RFC 9293 state diagram, drawn from the transition table itself, with the paths the
two sides of one connection took marked on it.

Every arrow is a rule of :data:`headerkit.tcp_states.TRANSITIONS`, labelled as RFC 9293's
Figure 5 labels it: the event, then the segment sent ("rcv SYN / snd SYN,ACK").  Aborts, a
RST received and giving up on retransmissions (each leads any state to CLOSED) are named in
a note instead of as arrows, unless a marked path took one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from headerkit.tcp_states import TRANSITIONS, Event, Step, TcpState

S = TcpState

# Where each state sits, (column, row) as in RFC 9293's Figure 5: opening at the top,
# the active close down the left, the passive close down the right.  CLOSED is drawn twice,
# as the figure does: where connections start, and where the closes end.
_PLACES: dict[TcpState, tuple[float, float]] = {
    S.CLOSED: (1.5, 0),
    S.LISTEN: (1.5, 1),
    S.SYN_RECEIVED: (0, 2),
    S.SYN_SENT: (3, 2),
    S.ESTABLISHED: (1.5, 3),
    S.FIN_WAIT_1: (0, 4),
    S.CLOSE_WAIT: (3, 4),
    S.FIN_WAIT_2: (0, 5.5),
    S.CLOSING: (1.5, 5),
    S.LAST_ACK: (3, 5.5),
    S.TIME_WAIT: (1.5, 6.5),
}
_END = (3, 6.5)  # the second CLOSED box
_ANYWHERE = frozenset({Event.ABORT, Event.RCV_RST, Event.TIMEOUT})
_SIDE_COLOURS = ("tab:blue", "tab:orange")


def arrow_label(event: Event, send: str) -> str:
    """An arrow's label in RFC 9293's words: what happens, then what is sent."""
    what = f"rcv {event.value}" if event.name.startswith("RCV_") else event.value
    if event is Event.TIMEOUT:
        what = "timeout (2MSL)"
    return f"{what}\n/ snd {send}" if send else what


def drawn_rules() -> list[tuple[TcpState, Event, TcpState, str]]:
    """The rules drawn as arrows: all but those that lead anywhere to CLOSED (see above)."""
    return [
        (state, event, rule.to, rule.send)
        for state, rules in TRANSITIONS.items()
        for event, rule in rules.items()
        if event not in _ANYWHERE or (state is S.TIME_WAIT and event is Event.TIMEOUT)
    ]


def _place(state: TcpState, arriving: bool, before: TcpState | None) -> tuple[float, float]:
    """Where an arrow starts or ends: an arrival in CLOSED from a synchronized state goes to
    the lower CLOSED box."""
    if state is S.CLOSED and arriving and before not in (S.LISTEN, S.SYN_SENT, None):
        return _END
    return _PLACES[state]


def state_diagram(
    paths: Mapping[str, Sequence[Step]] | None = None, ax: Any = None, title: str = ""
) -> Any:
    """Draw the diagram on ``ax`` (a new figure if None) and return the axes.  ``paths``
    maps a label (such as "a (client)") to the transitions that side took; each is drawn
    over the diagram in its own colour, its steps numbered."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(13, 12))
    ax.set_xlim(-0.9, 3.9)
    ax.set_ylim(7.2, -0.6)
    ax.axis("off")
    boxes = [(state.value, place) for state, place in _PLACES.items()]
    for name, (x, y) in [*boxes, (S.CLOSED.value, _END)]:
        ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize=11,
            fontweight="bold",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.5", "facecolor": "#eef3fa", "edgecolor": "0.3"},
        )
    pairs = {(a, b) for a, _, b, _ in drawn_rules()}
    for state, event, to, send in drawn_rules():
        start, end, bend = _geometry(state, to, pairs)
        _arrow(ax, start, end, bend, color="0.35", mutation_scale=14, shrinkA=24, shrinkB=24)
        middle = _along(start, end, bend, 0.5)
        backing = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"}
        ax.text(
            *middle,
            arrow_label(event, send),
            ha="center",
            va="center",
            fontsize=7.5,
            zorder=3,
            bbox=backing,
        )
    for index, (label, steps) in enumerate((paths or {}).items()):
        colour = _SIDE_COLOURS[index % len(_SIDE_COLOURS)]
        for number, step in enumerate(steps, 1):
            (x1, y1), (x2, y2), bend = _geometry(step.before, step.after, pairs)
            # each side beside the arrow, on its own side of it
            length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-9)
            shift = (0.06 if index else -0.06) / length
            dx, dy = -(y2 - y1) * shift, (x2 - x1) * shift
            start, end = (x1 + dx, y1 + dy), (x2 + dx, y2 + dy)
            _arrow(
                ax,
                start,
                end,
                bend,
                color=colour,
                mutation_scale=16,
                shrinkA=26,
                shrinkB=26,
                zorder=5,
                alpha=0.8,
                linewidth=2.5,
                linestyle="-" if step.event is not None else ":",
            )
            spot = _along(start, end, bend, 0.6)
            ax.text(
                *spot,
                str(number),
                color="white",
                fontsize=8,
                fontweight="bold",
                zorder=6,
                ha="center",
                va="center",
                bbox={"boxstyle": "circle,pad=0.2", "facecolor": colour, "edgecolor": "none"},
            )
        ax.plot([], [], color=colour, linewidth=2.5, label=f"{label}: {_path_text(steps)}")
    ax.text(
        -0.85,
        7.05,
        "From any state, a RST received, an abort (close() with unread data; "
        "snd RST when synchronized) or giving up on retransmissions leads to CLOSED.",
        fontsize=8,
        style="italic",
    )
    if paths:
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_title(title or "TCP connection states (RFC 9293)", fontsize=13)
    return ax


def _geometry(
    before: TcpState, after: TcpState, pairs: set[tuple[TcpState, TcpState]]
) -> tuple[tuple[float, float], tuple[float, float], float]:
    """An arrow's ends, and its bend: arrows both ways between two states curve apart."""
    start, end = _place(before, False, None), _place(after, True, before)
    return start, end, 0.25 if (after, before) in pairs else 0.0


def _along(
    start: tuple[float, float], end: tuple[float, float], bend: float, t: float
) -> tuple[float, float]:
    """The point a share ``t`` of the way along an arrow (matplotlib's arc3 is a quadratic
    Bezier curve whose control point is ``bend`` times the chord off its middle, turned in
    display coordinates: the diagram's y axis points down)."""
    (x1, y1), (x2, y2) = start, end
    cx, cy = (x1 + x2) / 2 - bend * (y2 - y1), (y1 + y2) / 2 + bend * (x2 - x1)
    a, b, c = (1 - t) ** 2, 2 * t * (1 - t), t**2
    return a * x1 + b * cx + c * x2, a * y1 + b * cy + c * y2


def _arrow(
    ax: Any, start: tuple[float, float], end: tuple[float, float], bend: float, **style: Any
) -> None:
    from matplotlib.patches import FancyArrowPatch

    style.setdefault("zorder", 2)
    connection = f"arc3,rad={bend}"
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", connectionstyle=connection, **style))


def _path_text(steps: Sequence[Step]) -> str:
    if not steps:
        return "no transitions"
    return " → ".join([steps[0].before.value, *(step.after.value for step in steps)])
