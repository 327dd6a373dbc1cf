"""A stream's outline, for putting a capture and its replays side by side: segments each way,
tshark's analysis flags, bytes delivered over time and the completion time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from headerkit.replay.segments import Seen

QUANTILES = (0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True, slots=True)
class Outline:
    segments: tuple[int, int]  # sent by a, by b
    flags: Counter[str]
    duration: float  # first to last segment, seconds
    delivered: tuple[tuple[float, int], ...]  # (time, bytes the receiver had acknowledged)

    def delivered_at(self, time: float) -> int:
        """Bytes acknowledged by ``time`` (seconds since the first segment)."""
        return max((b for when, b in self.delivered if when <= time), default=0)


def outline(segments: Sequence[Seen]) -> Outline:
    counts = Counter(s.side for s in segments)
    flags: Counter[str] = Counter(f for s in segments for f in s.analysis)
    sent = [sum(s.length for s in segments if s.side == side) for side in (0, 1)]
    receiver = 1 if sent[0] >= sent[1] else 0
    delivered = tuple((s.time, max(0, s.ack - 1)) for s in segments if s.side == receiver and s.ack)
    return Outline(
        (counts[0], counts[1]),
        flags,
        segments[-1].time - segments[0].time if segments else 0.0,
        delivered,
    )


def side_by_side(outlines: dict[str, Outline]) -> list[str]:
    """A table, one column per outline (``capture``, ``replay``, ``what-if`` ...)."""
    names = list(outlines)
    width = max(12, *(len(n) for n in names))
    rows: list[tuple[str, list[str]]] = [
        ("segments a→b", [str(o.segments[0]) for o in outlines.values()]),
        ("segments b→a", [str(o.segments[1]) for o in outlines.values()]),
        ("duration (s)", [f"{o.duration:.3f}" for o in outlines.values()]),
    ]
    first = next(iter(outlines.values()))
    for q in QUANTILES:
        at = first.duration * q
        rows.append((f"bytes by {at:.3f}s", [str(o.delivered_at(at)) for o in outlines.values()]))
    every = sorted({f for o in outlines.values() for f in o.flags})
    rows += [(f, [str(o.flags.get(f, 0)) for o in outlines.values()]) for f in every]
    label = max(len(r[0]) for r in rows)
    lines = [f"{'':{label}}  " + "  ".join(f"{n:>{width}}" for n in names)]
    lines += [f"{r:{label}}  " + "  ".join(f"{v:>{width}}" for v in vs) for r, vs in rows]
    return lines
