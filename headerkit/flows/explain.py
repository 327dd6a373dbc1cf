"""Why tshark flags a segment: each ``tcp.analysis.*`` flag of a frame, the rule as tshark
applies it, in words, with the earlier frames it relied on; and what the capture cannot
tell (where it was taken, a window scale it never saw, checksums left to the NIC).

:func:`explain` runs flow tracking up to each frame asked about and reads the analyzer's
state just before that frame, so every number quoted is the one the rule compared.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from headerkit import seqnum
from headerkit.flows.analysis import (
    DEFAULT_OOO_NS,
    FAST_RETRANSMISSION_NS,
    UNKNOWN_SCALE,
    DirectionState,
    SegmentAnalysis,
)
from headerkit.flows.flags import Analysis
from headerkit.flows.table import FlowTable
from headerkit.packet.decode import OFFLOAD, Packet
from headerkit.schemas import tcp as t

A = Analysis


@dataclass(slots=True)
class Explanation:
    """One frame: its flags, a sentence per flag, and what the capture cannot tell."""

    frame: int
    stream: int
    flags: list[str]
    reasons: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)


def explain(
    packets: Iterable[Packet], frames: Iterable[int] = (), stream: int | None = None
) -> Iterator[Explanation]:
    """Explain the frames numbered in ``frames``, or every flagged frame of ``stream``."""
    wanted = set(frames)
    table = FlowTable(keep=False)
    first_rtt: dict[int, int | None] = {}
    for pkt in packets:
        number = pkt.number or 0
        before = None
        flow = table.lookup(pkt) if pkt.tcp is not None else None
        asked = number in wanted or (flow is not None and flow.index == stream)
        if asked and flow is not None and flow.analyzer is not None:
            # the numbers the rules compare, as they stood before this frame (the
            # unacknowledged list, which no explanation reads, stays shared)
            before = tuple(copy.copy(side) for side in flow.analyzer.sides)
            first_rtt[flow.index] = flow.analyzer.first_rtt_ns
        seen = table.add(pkt)
        if seen is None or seen.analysis is None or pkt.tcp is None:
            continue
        in_stream = stream is not None and seen.flow.index == stream and seen.analysis.flags
        if number not in wanted and not in_stream:
            continue
        side = seen.flow.sides[0 if seen.from_a else 1]
        fwd = before[side] if before else DirectionState()
        rev = before[1 - side] if before else DirectionState()
        yield _explain(
            pkt, seen.flow.index, seen.analysis, fwd, rev, first_rtt.get(seen.flow.index)
        )


def _explain(
    pkt: Packet,
    stream: int,
    analysis: SegmentAnalysis,
    fwd: DirectionState,
    rev: DirectionState,
    first_rtt: int | None,
) -> Explanation:
    tcp = pkt.tcp
    assert tcp is not None
    flags = analysis.flags
    names = [name.removeprefix("tcp.analysis.") for name in flags.field_names]
    out = Explanation(pkt.number or 0, stream, names)
    seq, ack, length = tcp.seq or 0, tcp.ack or 0, tcp.payload_length or 0
    base, peer_base = fwd.base_seq or 0, rev.base_seq or 0

    def rel(value: int) -> int:
        return seqnum.add(value, -base)

    def prel(value: int) -> int:
        return seqnum.add(value, -peer_base)

    nextseq = f"next seq {rel(fwd.nextseq)} (set by frame {fwd.nextseq_frame})"
    ts = pkt.timestamp_ns or 0
    if flags & A.LOST_SEGMENT:
        gap = seqnum.diff(seq, fwd.nextseq)
        out.reasons.append(
            f"previous segment not captured: seq {rel(seq)} is beyond the {nextseq}, so "
            f"{gap} bytes in between were never seen"
        )
    if flags & A.FAST_RETRANSMISSION:
        ago = (ts - rev.lastack_ns) / 1e6
        out.reasons.append(
            f"fast retransmission: it resends seq {rel(seq)}, which the peer had asked for "
            f"with {rev.dupacks} duplicate ACKs (ack {rel(rev.lastack)}, the last in frame "
            f"{rev.lastack_frame}, {ago:.3f} ms before; tshark wants at least 2, the last under "
            f"{FAST_RETRANSMISSION_NS / 1e6:g} ms)"
        )
    elif flags & A.SPURIOUS_RETRANSMISSION:
        out.reasons.append(
            f"spurious retransmission: its data ends at {rel(seq) + length}, which the peer "
            f"had already acknowledged (ack {rel(rev.lastack)} in frame {rev.lastack_frame})"
        )
    elif flags & A.OUT_OF_ORDER:
        threshold = (first_rtt or DEFAULT_OOO_NS) / 1e6
        since = (ts - fwd.nextseq_ns) / 1e6
        what = "the connection's first RTT" if first_rtt else "3 ms (no RTT known)"
        out.reasons.append(
            f"out-of-order: seq {rel(seq)} is behind the {nextseq}, but it came {since:.3f} ms "
            f"after that frame, within {what} ({threshold:.3f} ms): reordered, not resent"
        )
    elif flags & A.RETRANSMISSION:
        out.reasons.append(
            f"retransmission: it carries {'data' if length else 'SYN/FIN'} from seq {rel(seq)}, "
            f"behind the {nextseq}: these bytes were sent before"
        )
    if flags & A.ACK_LOST_SEGMENT:
        out.reasons.append(
            f"ACKed unseen segment: ack {prel(ack)} is beyond all the peer sent in this capture "
            f"(up to {prel(rev.maxseqtobeacked)}): some of its segments were not captured"
        )
    if flags & A.DUPLICATE_ACK:
        out.reasons.append(
            f"duplicate ACK #{analysis.duplicate_ack_num}: no data, and the same seq {rel(seq)}, "
            f"ack {prel(ack)} and window {tcp.window} as frame {fwd.lastnondupack}: the "
            f"receiver is still waiting for byte {prel(ack)}"
        )
    if flags & A.ZERO_WINDOW:
        out.reasons.append("zero window: it advertises a window of 0, its receive buffer is full")
    if flags & A.ZERO_WINDOW_PROBE:
        out.reasons.append(
            f"zero-window probe: one byte at the {nextseq} while the peer's last window (frame "
            f"{rev.lastack_frame}) was 0"
        )
    if flags & A.ZERO_WINDOW_PROBE_ACK:
        out.reasons.append("zero-window probe ACK: it answers a probe, its window still 0")
    if flags & A.WINDOW_FULL:
        edge = rel(rev.lastack) + rev.calc_window
        out.reasons.append(
            f"window full: its data ends at {rel(seq) + length}, exactly the peer's window edge "
            f"(ack {rel(rev.lastack)} + window {rev.calc_window} = {edge}, frame "
            f"{rev.lastack_frame})"
        )
    if flags & A.WINDOW_UPDATE:
        out.reasons.append(
            f"window update: no data, same seq and ack as frame {fwd.lastack_frame}, but the "
            f"window went from {fwd.window} to {tcp.window}"
        )
    if flags & A.KEEP_ALIVE:
        out.reasons.append(
            f"keep-alive: at most one byte at seq {rel(seq)}, one before the {nextseq}"
        )
    if flags & A.KEEP_ALIVE_ACK:
        out.reasons.append("keep-alive ACK: it answers a keep-alive with the same window")
    if flags & A.REUSED_PORTS:
        out.reasons.append(
            "reused ports: a SYN with a new initial sequence number on the ports of an earlier "
            "connection: tshark starts a new stream"
        )
    _caveats(out, pkt, analysis, flags)
    return out


def _caveats(out: Explanation, pkt: Packet, analysis: SegmentAnalysis, flags: Analysis) -> None:
    timing = analysis.timing
    resent = A.RETRANSMISSION | A.FAST_RETRANSMISSION | A.SPURIOUS_RETRANSMISSION
    if flags & resent and timing is not None and timing.rto_frame is not None:
        out.caveats.append(
            f"the oldest unacknowledged segment, frame {timing.rto_frame}, left "
            f"{(timing.rto or 0) / 1e6:.3f} ms before: where both copies pass the capture "
            "point it sat next to the sender; next to the receiver, a lost first copy shows "
            "as a gap instead"
        )
    if flags & A.LOST_SEGMENT:
        out.caveats.append(
            "the missing bytes were lost before the capture point, or the capture began late "
            "or dropped packets itself: one capture point cannot tell which"
        )
    if analysis.scale_factor == UNKNOWN_SCALE:
        out.caveats.append(
            "the handshake was not captured: the window scale is unknown, so windows are "
            "compared as sent, unscaled"
        )
    if any(OFFLOAD in note for note in pkt.notes):
        out.caveats.append(
            "the checksum is partial (offload): captured on the sending host before the NIC "
            "filled it in, so it says nothing about corruption"
        )
    if pkt.tcp is not None and pkt.tcp.flags and pkt.tcp.flags & t.RST:
        out.caveats.append("a RST ends the connection: later segments start over")
