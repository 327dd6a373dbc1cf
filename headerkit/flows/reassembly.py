"""One direction of a TCP connection reassembled into its byte stream, sans-IO.

:meth:`Reassembler.segment` takes the segments of one direction in capture order and
returns what they change in the stream, as events:

* :class:`Chunk`: bytes placed in the stream, in stream order, each with its frame;
* :class:`Gap`: a range of the stream the capture does not hold, with its sequence
  numbers and the reason it is known to be missing;
* :class:`Overlap`: a segment repeating bytes already held (a retransmission, a
  repacketisation).  The copy seen first wins; ``conflict`` tells whether the bytes differ;
* :class:`Refused`: bytes not buffered because the out-of-order buffer was full.

Offsets count the bytes of the stream from 0 (the first byte after the SYN, or the first
sequence number seen when the SYN was not captured), so a stream longer than 4 GiB or one
crossing sequence number 2**32 keeps increasing offsets.  Memory is bounded: at most
``max_buffer`` bytes wait out of order, and the last ``history`` to ``2 * history`` bytes
delivered are kept to compare retransmissions with.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from headerkit import seqnum

MAX_BUFFER = 1 << 20
HISTORY = 64 << 10
_PIECE_COST = 64  # what a buffered piece costs beyond its bytes, so that counts stay bounded


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes placed in the stream at ``offset``; ``seq`` is the first byte's sequence number."""

    offset: int
    seq: int
    data: bytes
    frame: int | None


@dataclass(frozen=True, slots=True)
class Gap:
    """``length`` bytes of the stream, from ``offset`` (sequence number ``seq``), not captured."""

    offset: int
    length: int
    seq: int
    reason: str

    @property
    def end_seq(self) -> int:
        return seqnum.add(self.seq, self.length)


@dataclass(frozen=True, slots=True)
class Overlap:
    """Frame ``frame`` repeated ``length`` bytes already held; the earlier copy was kept.

    ``conflict`` is True when the bytes differ, False when they match, None when the earlier
    copy is no longer held (delivered more than ``history`` bytes ago, or never captured).
    """

    offset: int
    length: int
    seq: int
    frame: int | None
    kept_frame: int | None
    conflict: bool | None


@dataclass(frozen=True, slots=True)
class Refused:
    """Bytes of frame ``frame`` not buffered, and why."""

    offset: int
    length: int
    seq: int
    frame: int | None
    reason: str


Event = Chunk | Gap | Overlap | Refused


@dataclass(slots=True)
class _Piece:
    start: int
    data: bytes | None  # None: bytes a segment carried but the capture cut (snap length)
    length: int
    frame: int | None

    @property
    def end(self) -> int:
        return self.start + self.length


class Reassembler:
    """Place the segments of one direction in sequence order.

    ``rcv_nxt`` is the next sequence number the stream expects (RFC 9293's RCV.NXT as the
    receiver would have it, had it seen only this capture).
    """

    def __init__(self, *, max_buffer: int = MAX_BUFFER, history: int = HISTORY) -> None:
        self.max_buffer = max_buffer
        self.history = history
        self.origin: int | None = None  # sequence number of stream offset 0
        self.next_offset = 0
        self.fin_offset: int | None = None
        self.buffered = 0  # bytes (and per-piece costs) waiting out of order
        self.highest = 0  # end of the furthest byte any segment carried
        self._pieces: list[_Piece] = []  # sorted, disjoint, all at or after next_offset
        self._starts: list[int] = []
        # The last bytes delivered (at least ``history`` of them, at most twice that), to
        # compare retransmissions with, and where each chunk among them starts.
        self._tail = bytearray()
        self._tail_start = 0
        self._tail_offsets: list[int] = []
        self._tail_frames: list[int | None] = []

    @property
    def rcv_nxt(self) -> int | None:
        return None if self.origin is None else self.seq_at(self.next_offset)

    def seq_at(self, offset: int) -> int:
        """The sequence number of stream offset ``offset``."""
        return seqnum.add(self.origin or 0, offset)

    def offset_of(self, seq: int) -> int:
        """The stream offset of ``seq``: the one nearest the next expected byte."""
        return seqnum.unwrap(seq, self.seq_at(self.next_offset), self.next_offset)

    def segment(
        self,
        seq: int,
        payload: bytes,
        *,
        frame: int | None = None,
        syn: bool = False,
        fin: bool = False,
        length: int | None = None,
    ) -> list[Event]:
        """Take one segment; ``length`` is its payload length on the wire if the capture cut it.

        A SYN's sequence number comes before the data (the SYN takes one), as does a FIN's
        after it; neither carries a byte of the stream.
        """
        if self.origin is None:
            self.origin = seqnum.add(seq, syn)
        start = self.offset_of(seqnum.add(seq, syn))
        wire = len(payload) if length is None else max(length, len(payload))
        if fin and self.fin_offset is None:
            self.fin_offset = start + wire
        self.highest = max(self.highest, start + wire)
        events: list[Event] = []
        if payload:
            self._place(_Piece(start, payload, len(payload), frame), events)
        if wire > len(payload):
            cut = _Piece(start + len(payload), None, wire - len(payload), frame)
            self._place(cut, events)
        return events

    def ack(self, ack: int) -> list[Event]:
        """The peer acknowledged up to ``ack``: what it holds and the capture does not is a gap.

        Only bytes up to the furthest one a segment has shown count, so a bogus ACK cannot
        skip the stream ahead of what was captured.
        """
        if self.origin is None:
            return []
        upto = self.offset_of(ack)
        if self.fin_offset is not None and upto == self.fin_offset + 1:
            upto = self.fin_offset  # the FIN's sequence number
        events: list[Event] = []
        self._skip_to(min(upto, self.highest), "acknowledged by the peer but not captured", events)
        return events

    def finish(self) -> list[Event]:
        """The capture ended: deliver what waits behind gaps, reporting each gap."""
        events: list[Event] = []
        while self._pieces:
            self._skip_to(self._pieces[0].start, "not captured (the capture ends)", events)
        return events

    # ------------------------------------------------------------------ placing bytes
    def _place(self, piece: _Piece, events: list[Event]) -> None:
        if piece.start < self.next_offset:
            old = min(piece.end, self.next_offset) - piece.start
            if piece.data is not None:
                self._compare_delivered(piece, piece.data, old, events)
            piece = _trim(piece, old)
            if not piece.length:
                return
        for new in self._uncovered(piece, events):
            if new.start != self.next_offset and self.buffered + _cost(new) > self.max_buffer:
                events.append(
                    Refused(
                        new.start,
                        new.length,
                        self.seq_at(new.start),
                        new.frame,
                        f"out-of-order buffer full ({self.max_buffer} bytes)",
                    )
                )
                continue
            self._insert(new)
            self._drain(events)

    def _uncovered(self, piece: _Piece, events: list[Event]) -> list[_Piece]:
        """The parts of ``piece`` no held piece covers, reporting overlaps on the way.

        Captured bytes take the place of a range a snap length cut; otherwise the piece
        already held wins.
        """
        out: list[_Piece] = []
        pos = piece.start
        i = max(bisect.bisect_right(self._starts, piece.start) - 1, 0)
        while i < len(self._pieces) and pos < piece.end:
            held = self._pieces[i]
            if held.end <= pos:
                i += 1
                continue
            if held.start >= piece.end:
                break
            if held.start > pos:
                out.append(_slice(piece, pos, held.start))
                pos = held.start
            end = min(held.end, piece.end)
            if held.data is None and piece.data is not None:
                self._remove(i)
                if held.start < pos:
                    self._insert(_slice(held, held.start, pos))
                if end < held.end:
                    self._insert(_slice(held, end, held.end))
                out.append(_slice(piece, pos, end))
                i = max(bisect.bisect_right(self._starts, end) - 1, 0)
            elif piece.data is not None:
                ours, theirs = _bytes(piece, pos, end), _bytes(held, pos, end)
                events.append(
                    Overlap(
                        pos,
                        end - pos,
                        self.seq_at(pos),
                        piece.frame,
                        held.frame,
                        ours != theirs if theirs is not None else None,
                    )
                )
            pos = end
        if pos < piece.end:
            out.append(_slice(piece, pos, piece.end))
        return out

    def _compare_delivered(
        self, piece: _Piece, data: bytes, length: int, events: list[Event]
    ) -> None:
        """Report bytes that repeat delivered ones, compared where they are still kept."""
        end = piece.start + length
        lo = max(piece.start, self._tail_start)
        hi = min(end, self._tail_start + len(self._tail))
        conflict: bool | None = None
        kept_frame: int | None = None
        if lo < hi:
            kept = self._tail[lo - self._tail_start : hi - self._tail_start]
            conflict = data[lo - piece.start : hi - piece.start] != kept
            kept_frame = self._tail_frames[bisect.bisect_right(self._tail_offsets, lo) - 1]
        if hi - lo < length and not conflict:
            conflict = None  # part of it is no longer kept, or was never captured
        events.append(
            Overlap(
                piece.start, length, self.seq_at(piece.start), piece.frame, kept_frame, conflict
            )
        )

    def _insert(self, piece: _Piece) -> None:
        i = bisect.bisect_left(self._starts, piece.start)
        self._pieces.insert(i, piece)
        self._starts.insert(i, piece.start)
        self.buffered += _cost(piece)

    def _remove(self, i: int) -> _Piece:
        piece = self._pieces.pop(i)
        del self._starts[i]
        self.buffered -= _cost(piece)
        return piece

    def _drain(self, events: list[Event]) -> None:
        """Deliver the pieces that now continue the stream."""
        while self._pieces and self._pieces[0].start == self.next_offset:
            piece = self._remove(0)
            seq = self.seq_at(piece.start)
            if piece.data is None:
                events.append(Gap(piece.start, piece.length, seq, "cut by the snap length"))
            else:
                chunk = Chunk(piece.start, seq, piece.data, piece.frame)
                events.append(chunk)
                self._keep(chunk)
            self.next_offset = piece.end

    def _skip_to(self, offset: int, reason: str, events: list[Event]) -> None:
        """Declare the bytes up to ``offset`` that no piece holds a gap, and go on past them."""
        while self.next_offset < offset:
            hole_end = min(offset, self._pieces[0].start) if self._pieces else offset
            if hole_end > self.next_offset:
                events.append(
                    Gap(
                        self.next_offset,
                        hole_end - self.next_offset,
                        self.seq_at(self.next_offset),
                        reason,
                    )
                )
                self.next_offset = hole_end
            self._drain(events)

    def _keep(self, chunk: Chunk) -> None:
        if chunk.offset != self._tail_start + len(self._tail):  # after a gap: start afresh
            self._tail, self._tail_start = bytearray(), chunk.offset
            self._tail_offsets, self._tail_frames = [], []
        self._tail += chunk.data
        self._tail_offsets.append(chunk.offset)
        self._tail_frames.append(chunk.frame)
        excess = len(self._tail) - self.history
        if excess > self.history:  # trimmed in batches, so the copying stays linear
            del self._tail[:excess]
            self._tail_start += excess
            first = bisect.bisect_right(self._tail_offsets, self._tail_start) - 1
            del self._tail_offsets[:first], self._tail_frames[:first]


def _cost(piece: _Piece) -> int:
    return (piece.length if piece.data is not None else 0) + _PIECE_COST


def _bytes(piece: _Piece, lo: int, hi: int) -> bytes | None:
    if piece.data is None:
        return None
    return piece.data[lo - piece.start : hi - piece.start]


def _slice(piece: _Piece, lo: int, hi: int) -> _Piece:
    data = None if piece.data is None else piece.data[lo - piece.start : hi - piece.start]
    return _Piece(lo, data, hi - lo, piece.frame)


def _trim(piece: _Piece, n: int) -> _Piece:
    return _slice(piece, piece.start + n, piece.end)
