"""Selective acknowledgment (RFC 2018) and the loss recovery it allows (RFC 6675).

The receiver reports the out-of-order data it holds as blocks; the sender keeps them in a
scoreboard and, in recovery, retransmits only what is missing: a hole counts as lost once
more than (DupThresh - 1) * SMSS bytes above it are SACKed, and the bytes in flight
("pipe") are those sent, not SACKed and not lost, plus what was retransmitted.
Sequence numbers are stream offsets (see :mod:`headerkit.sim.tcp.sending`).
"""

from __future__ import annotations

import bisect
from typing import Final

DUPTHRESH: Final = 3
MAX_BLOCKS: Final = 4  # blocks that fit the option space (3 beside timestamps)


class Scoreboard:
    """The SACKed ranges above SND.UNA, as sorted disjoint [start, end) pairs."""

    __slots__ = ("blocks",)

    def __init__(self) -> None:
        self.blocks: list[tuple[int, int]] = []

    def update(self, una: int, reported: list[tuple[int, int]]) -> None:
        """Merge the blocks an ACK reported; forget what SND.UNA has passed."""
        blocks = [b for b in self.blocks if b[1] > una]
        for start, end in reported:
            start = max(start, una)
            if end <= start:
                continue  # a D-SACK or a block below SND.UNA
            i = bisect.bisect_left(blocks, (start, start))
            if i and blocks[i - 1][1] >= start:
                i -= 1
            while i < len(blocks) and blocks[i][0] <= end:
                start, end = min(start, blocks[i][0]), max(end, blocks[i][1])
                del blocks[i]
            blocks.insert(i, (start, end))
        if blocks and blocks[0][0] < una:
            blocks[0] = (una, blocks[0][1])
        self.blocks = blocks

    def clear(self) -> None:
        self.blocks = []

    @property
    def sacked(self) -> int:
        return sum(end - start for start, end in self.blocks)

    def sacked_below(self, point: int) -> int:
        """SACKed bytes before ``point``: delivered already when an ACK covers them."""
        return sum(min(end, point) - start for start, end in self.blocks if start < point)

    def loss_point(self, mss: int) -> int | None:
        """Every byte not SACKed below this point is lost: more than (DupThresh - 1) * SMSS
        bytes above it are SACKed (RFC 6675 IsLost)."""
        above = 0
        for start, end in reversed(self.blocks):
            above += end - start
            if above > (DUPTHRESH - 1) * mss:
                return start
        return None

    def unsacked(self, lo: int, hi: int) -> int:
        """Bytes in [lo, hi) that are not SACKed."""
        if hi <= lo:
            return 0
        covered = sum(max(0, min(end, hi) - max(start, lo)) for start, end in self.blocks)
        return hi - lo - covered

    def next_hole(self, start: int, limit: int) -> tuple[int, int] | None:
        """The first range at or after ``start`` and below ``limit`` that is not SACKed."""
        for lo, hi in self.blocks:
            if hi <= start:
                continue
            if lo > start:
                return (start, min(lo, limit)) if start < limit else None
            start = hi
        return (start, limit) if start < limit else None

    def pipe(self, una: int, nxt: int, high_rxt: int, point: int | None) -> int:
        """RFC 6675 SetPipe, in bytes: sent and neither SACKed nor lost (below ``point``, the
        :meth:`loss_point`), plus the lost bytes already retransmitted."""
        outstanding = nxt - una - self.sacked
        if point is None:
            return outstanding
        lost = self.unsacked(max(una, high_rxt), point)
        return outstanding - lost


def receiver_blocks(
    pieces: dict[int, bytes], recent: list[int], limit: int
) -> list[tuple[int, int]]:
    """The SACK blocks a receiver reports (RFC 2018 section 4): the out-of-order data it
    holds, merged into ranges, the one holding the most recently received piece first and
    the others by how recently they grew; at most ``limit``."""
    ranges: list[list[int]] = []
    for start in sorted(pieces):
        end = start + len(pieces[start])
        if ranges and start <= ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], end)
        else:
            ranges.append([start, end])
    order: list[tuple[int, int]] = []
    for start in reversed(recent):
        for lo, hi in ranges:
            if lo <= start < hi and (lo, hi) not in order:
                order.append((lo, hi))
    order += [(lo, hi) for lo, hi in ranges if (lo, hi) not in order]
    return order[:limit]
