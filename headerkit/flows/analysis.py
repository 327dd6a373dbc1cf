"""tshark's TCP sequence analysis per segment: ``tcp.analysis.*``, windows, relative numbers.

This follows Wireshark's ``packet-tcp.c`` (``tcp_analyze_sequence_number`` and the window
scaling around it) so that the flags agree with tshark's, quirks included:

* a segment is a retransmission when it carries data, SYN or FIN and starts before the
  highest sequence number seen so far in its direction (``nextseq``); it is *fast* when the
  peer has sent at least two duplicate ACKs for it, the last less than 20 ms before,
  *spurious* when the peer had already acknowledged all of it, *out-of-order* when it comes
  within the first RTT (3 ms if unknown) of that highest segment;
* a duplicate ACK repeats seq, ack and window with no data, SYN, FIN or RST; a window update
  changes only the window; a keep-alive sits one byte before ``nextseq`` with at most one
  byte of data; zero-window probes carry one byte into a zero window;
* windows are compared as sent, unscaled; ``nextseq == 0`` means "not known yet";
* an ACK for bytes never seen (``ack_lost_segment``) is reported again only once the peer
  has lost another segment, when the peer's data seen so far has no hole (found by testing
  tshark 4.0, whose rule this reproduces).

One :class:`TcpAnalyzer` holds the state of one connection: a few numbers per direction,
whatever the length of the connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from headerkit import seqnum
from headerkit.flows.flags import NO_FLAGS, Analysis
from headerkit.packet.layers import TCP
from headerkit.schemas import tcp as t

UNKNOWN_SCALE = -1  # tshark: the handshake was not seen
NO_SCALING = -2  # tshark: a SYN without the option, so no scaling was negotiated

FAST_RETRANSMISSION_NS = 20_000_000  # a resend this soon after duplicate ACKs is fast
DEFAULT_OOO_NS = 3_000_000  # out-of-order threshold while no RTT is known
_UNSET_WINDOW = 0xFFFFFFFF  # so that a direction's first segment repeats no window
_SYN_FIN_RST = t.SYN | t.FIN | t.RST


@dataclass(slots=True)
class DirectionState:
    """What tshark remembers about one direction (its ``tcp_flow_t``).

    ``nextseq`` is the highest sequence number sent plus the segment's length (SND.NXT as
    far as the capture shows it), ``maxseqtobeacked`` the end of the data seen without a
    hole, ``lastack`` the last acknowledgment number this side sent (its RCV.NXT),
    ``window`` the last window it advertised as sent and ``calc_window`` the same scaled.
    """

    base_seq: int | None = None
    win_scale: int = UNKNOWN_SCALE
    window: int = _UNSET_WINDOW
    calc_window: int = 0
    nextseq: int = 0
    nextseq_ns: int = 0
    maxseqtobeacked: int = 0
    lastack: int = 0
    lastack_ns: int = 0
    lastack_frame: int = 0
    dupacks: int = 0
    ack_lost_armed: bool = True
    last_flags: Analysis = NO_FLAGS
    nextseq_frame: int = 0  # the frame that set nextseq
    lastnondupack: int = 0  # the last frame that was no duplicate ACK
    unacked: list[_Unacked] = field(
        default_factory=list
    )  # sent, not yet acknowledged; newest first
    push_bytes_sent: int = 0
    push_set_last: bool = False
    valid_bif: bool = True  # bytes in flight are known (not after a hole, until an ACK)
    sack: tuple[tuple[int, int], ...] = ()  # the SACK blocks of its last segment


@dataclass(frozen=True, slots=True)
class SegmentAnalysis:
    """tshark's view of one segment: flags, calculated window and relative numbers."""

    flags: Analysis
    window: int
    scale_factor: int | None  # None on SYNs, where tshark shows none
    seq: int  # relative to the direction's first sequence number
    ack: int  # relative to the peer's first sequence number when ACK is set
    duplicate_ack_num: int | None = None
    timing: Timing | None = None

    def fields(self, *, relative: bool = True) -> dict[str, Any]:
        """The tshark fields; ``relative=False`` leaves ``tcp.seq``/``tcp.ack`` out."""
        out: dict[str, Any] = {}
        if relative:
            out["tcp.seq"] = self.seq
            out["tcp.ack"] = self.ack
        out["tcp.window_size"] = self.window
        if self.scale_factor is not None:
            out["tcp.window_size_scalefactor"] = self.scale_factor
        if self.flags:
            out["tcp.analysis.flags"] = True
            for name in self.flags.field_names:
                out[name] = True
        if self.duplicate_ack_num is not None:
            out["tcp.analysis.duplicate_ack_num"] = self.duplicate_ack_num
        if self.timing is not None:
            out.update(self.timing.fields())
        return out


@dataclass(frozen=True, slots=True)
class Timing:
    """tshark's per-segment bookkeeping beyond the flags (times in ns; None: not shown)."""

    time_relative: int
    time_delta: int
    completeness: int
    bytes_in_flight: int | None = None
    push_bytes_sent: int | None = None
    acks_frame: int | None = None
    ack_rtt: int | None = None
    initial_rtt: int | None = None
    duplicate_ack_frame: int | None = None
    rto: int | None = None
    rto_frame: int | None = None

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tcp.time_relative": self.time_relative / 1e9,
            "tcp.time_delta": self.time_delta / 1e9,
            "tcp.completeness": self.completeness,
        }
        for name in _COUNTS:
            value = getattr(self, name)
            if value is not None:
                out[f"tcp.analysis.{name}"] = value
        for name in _TIMES:
            value = getattr(self, name)
            if value is not None:
                out[f"tcp.analysis.{name}"] = value / 1e9
        return out


_COUNTS = ("bytes_in_flight", "push_bytes_sent", "acks_frame", "duplicate_ack_frame", "rto_frame")
_TIMES = ("ack_rtt", "initial_rtt", "rto")


@dataclass(slots=True)
class _Unacked:
    """A segment sent and not yet acknowledged (tshark's ``tcp_unacked_t``)."""

    frame: int
    seq: int
    nextseq: int
    ts_ns: int


class TcpAnalyzer:
    """Sequence analysis of one TCP connection; feed it every segment in capture order.

    ``side`` is 0 or 1, tshark's choice of ``flow1``/``flow2`` (see
    :func:`headerkit.flows.table.tshark_sides`), so that a connection from a host to itself,
    port included, shares one state for both directions as in tshark.
    """

    def __init__(self) -> None:
        self.sides = (DirectionState(), DirectionState())
        self.syn_ns: int | None = None  # the last SYN (without ACK)
        self.first_rtt_ns: int | None = None  # from that SYN to the first ACK after it
        self.first_ns: int | None = None  # the stream's first segment, for tcp.time_relative
        self.last_ns = 0
        self.completeness = 0  # tshark's tcp.completeness bits, as seen so far
        self.analysed = 0  # segments analysed

    def segment(
        self,
        side: int,
        seg: TCP,
        seglen: int | None,
        ts_ns: int,
        flags: Analysis = NO_FLAGS,
        frame: int = 0,
    ) -> SegmentAnalysis:
        """Analyse one segment (the capture's ``frame``); ``seglen`` None (a fragment, a bogus
        header) skips the flags."""
        fwd, rev = self.sides[side], self.sides[1 - side]
        tcp_flags = seg.flags or 0
        raw_window = seg.window or 0
        syn = bool(tcp_flags & t.SYN)
        # The window and its scale as they stood before this segment's own options.
        window, scale = raw_window, None
        if not syn:
            scale = fwd.win_scale if fwd.win_scale < 0 else 1 << fwd.win_scale
            window = raw_window << max(fwd.win_scale, 0)
        shift = _window_shift(seg)
        if shift is not None:
            fwd.win_scale = shift
        if syn:
            self._verify_scaling(fwd, rev, bool(tcp_flags & t.ACK))
        seq, ack = seg.seq or 0, seg.ack or 0
        self._rtt(tcp_flags, ts_ns)
        first = self.first_ns = ts_ns if self.first_ns is None else self.first_ns
        timing = Timing(ts_ns - first, ts_ns - (self.last_ns or first), self.completeness)
        self.last_ns = ts_ns
        dupack: int | None = None
        if seglen is not None:
            seg_info = _Segment(seq, ack, seglen, tcp_flags, raw_window, ts_ns, frame, _sack(seg))
            flags, timing = self._analyze(fwd, rev, seg_info, flags, timing)
            fwd.calc_window = window
            if flags & Analysis.DUPLICATE_ACK:
                dupack = fwd.dupacks
            # a connection's first segment counts only if it is a SYN (tshark's rule)
            if self.analysed or tcp_flags & (t.SYN | t.ACK) == t.SYN:
                self.completeness |= _completeness(tcp_flags, seglen)
            self.analysed += 1
        rel_seq = seqnum.add(seq, -fwd.base_seq) if fwd.base_seq is not None else seq
        rel_ack = ack
        if tcp_flags & t.ACK and rev.base_seq is not None:
            rel_ack = seqnum.add(ack, -rev.base_seq)
        return SegmentAnalysis(flags, window, scale, rel_seq, rel_ack, dupack, timing)

    @staticmethod
    def _verify_scaling(fwd: DirectionState, rev: DirectionState, synack: bool) -> None:
        """tshark's ``verify_tcp_window_scaling``: scaling needs the option both ways."""
        if fwd.win_scale == UNKNOWN_SCALE:
            fwd.win_scale = rev.win_scale = NO_SCALING
        elif synack and rev.win_scale == NO_SCALING:
            fwd.win_scale = NO_SCALING

    def _rtt(self, tcp_flags: int, ts_ns: int) -> None:
        """tshark's initial RTT: from the last SYN to the first ACK (without SYN) after it."""
        syn_ack = tcp_flags & (t.SYN | t.ACK)
        if syn_ack == t.SYN:
            self.syn_ns = ts_ns
        elif syn_ack == t.ACK and self.syn_ns is not None and not self.first_rtt_ns:
            self.first_rtt_ns = ts_ns - self.syn_ns

    def _analyze(
        self,
        fwd: DirectionState,
        rev: DirectionState,
        s: _Segment,
        flags: Analysis,
        timing: Timing,
    ) -> tuple[Analysis, Timing]:
        if fwd.base_seq is None:
            fwd.base_seq = s.seq if s.flags & t.SYN else seqnum.add(s.seq, -1)
        if rev.base_seq is None and s.flags & t.ACK:
            rev.base_seq = seqnum.add(s.ack, -1)
        if s.ack != fwd.lastack:  # a new acknowledgment: what later duplicates repeat
            fwd.lastnondupack = s.frame
        flags |= _window_and_ack_flags(fwd, rev, s)
        if s.ack != fwd.lastack:
            fwd.dupacks = 0
        if (
            rev.maxseqtobeacked
            and rev.ack_lost_armed
            and seqnum.gt(s.ack, rev.maxseqtobeacked)
            and s.flags & t.ACK
        ):
            # An ACK for data never seen.  With no hole left in what the peer sent, tshark
            # reports no further ones until the peer loses a segment again.
            flags |= Analysis.ACK_LOST_SEGMENT
            rev.ack_lost_armed = rev.maxseqtobeacked != rev.nextseq
            rev.maxseqtobeacked = rev.nextseq
        if (s.seglen > 0 or s.syn_fin) and not flags & Analysis.KEEP_ALIVE:
            flags |= self._retransmission(fwd, rev, s)
        extra: dict[str, Any] = {}
        if flags & _RESENT and fwd.unacked and s.ts_ns != fwd.unacked[-1].ts_ns:
            extra["rto"] = s.ts_ns - fwd.unacked[-1].ts_ns  # since the oldest unacknowledged
            extra["rto_frame"] = fwd.unacked[-1].frame
        if flags & Analysis.DUPLICATE_ACK:
            extra["duplicate_ack_frame"] = fwd.lastnondupack
        nextseq = seqnum.add(s.seq, s.seglen + s.syn_fin)
        if (s.seglen or s.syn_fin) and len(fwd.unacked) < MAX_UNACKED:
            fwd.unacked.insert(0, _Unacked(s.frame, s.seq, nextseq, s.ts_ns))
        if not flags & Analysis.ZERO_WINDOW_PROBE:  # a probe does not move nextseq
            if seqnum.gt(nextseq, fwd.nextseq) or not fwd.nextseq:
                fwd.nextseq, fwd.nextseq_ns, fwd.nextseq_frame = nextseq, s.ts_ns, s.frame
            if s.seq == fwd.maxseqtobeacked or not fwd.maxseqtobeacked:
                fwd.maxseqtobeacked = fwd.nextseq
        fwd.window = s.window
        fwd.lastack, fwd.lastack_ns, fwd.lastack_frame = s.ack, s.ts_ns, s.frame
        fwd.last_flags = flags
        if flags & Analysis.LOST_SEGMENT:
            fwd.valid_bif = False  # until the peer acknowledges something
        fwd.sack = s.sack
        if s.flags & t.ACK:
            extra.update(_acknowledge(rev, s))
            rev.valid_bif = True
        if s.seglen and fwd.valid_bif:
            extra.update(_in_flight(fwd, rev, s))
        if self.first_rtt_ns and (extra or flags):  # shown in the analysis tree, if any
            extra["initial_rtt"] = self.first_rtt_ns
        return flags, replace(timing, **extra)

    def _retransmission(self, fwd: DirectionState, rev: DirectionState, s: _Segment) -> Analysis:
        """Data, SYN or FIN that does not advance ``nextseq``: which kind of resend it is."""
        behind = bool(fwd.nextseq) and seqnum.lt(s.seq, fwd.nextseq)
        if s.seglen > 1 and s.seq == seqnum.add(fwd.nextseq, -1):
            behind = False  # new data after what may have been a zero-window probe
        since_ack = s.ts_ns - rev.lastack_ns
        if (
            behind
            and rev.dupacks >= 2
            and rev.lastack == s.seq
            and 0 <= since_ack < FAST_RETRANSMISSION_NS
        ):
            return Analysis.FAST_RETRANSMISSION
        end = seqnum.add(s.seq, s.seglen)
        if s.seglen > 0 and rev.lastack and seqnum.le(end, rev.lastack):
            return Analysis.SPURIOUS_RETRANSMISSION
        since_next = s.ts_ns - fwd.nextseq_ns
        threshold = self.first_rtt_ns or DEFAULT_OOO_NS
        if behind and 0 <= since_next < threshold and fwd.nextseq != seqnum.add(end, s.syn_fin):
            return Analysis.OUT_OF_ORDER
        return Analysis.RETRANSMISSION if behind else NO_FLAGS


@dataclass(frozen=True, slots=True)
class _Segment:
    seq: int
    ack: int
    seglen: int
    flags: int
    window: int  # as sent, unscaled: tshark compares these
    ts_ns: int
    frame: int
    sack: tuple[tuple[int, int], ...] = ()

    @property
    def syn_fin(self) -> int:
        return 1 if self.flags & (t.SYN | t.FIN) else 0


MAX_UNACKED = 1000  # segments remembered per direction until acknowledged, as tshark
_RESENT = Analysis.RETRANSMISSION
_COMPLETENESS = ((t.SYN | t.ACK, t.SYN, 1), (t.SYN | t.ACK, t.SYN | t.ACK, 2), (t.FIN, t.FIN, 16))


def _completeness(flags: int, seglen: int) -> int:
    """tshark's conversation completeness bits for one segment: 1 SYN, 2 SYN-ACK, 4 ACK,
    8 data, 16 FIN, 32 RST."""
    bits = sum(bit for mask, value, bit in _COMPLETENESS if flags & mask == value)
    if flags & (t.SYN | t.ACK | t.FIN | t.RST) == t.ACK and not seglen:
        bits |= 4
    if seglen:
        bits |= 8
    if flags & t.RST:
        bits |= 32
    return bits


def _acknowledge(rev: DirectionState, s: _Segment) -> dict[str, Any]:
    """Drop what ``s`` acknowledges from the peer's unacknowledged segments; the segment it
    acknowledges exactly (``tcp.analysis.acks_frame``) and how long that took."""
    found: dict[str, Any] = {}
    kept: list[_Unacked] = []
    for sent in rev.unacked:
        if s.ack == sent.nextseq:
            found = {"acks_frame": sent.frame}
            if s.ts_ns != sent.ts_ns:  # tshark shows no zero RTT
                found["ack_rtt"] = s.ts_ns - sent.ts_ns
        elif seqnum.gt(s.ack, sent.seq) and seqnum.le(s.ack, sent.nextseq):
            sent.seq = s.ack  # part of it acknowledged
            kept.append(sent)
            continue
        elif seqnum.gt(sent.nextseq, s.ack):
            kept.append(sent)
            continue
        # older than the ACK, or acknowledged exactly: forgotten
    rev.unacked = kept
    return found


def _in_flight(fwd: DirectionState, rev: DirectionState, s: _Segment) -> dict[str, Any]:
    """Bytes in flight after a data segment (from the oldest unacknowledged byte to the
    highest sent, less what the peer's last SACK blocks say arrived), and tshark's bytes
    sent since the last PSH."""
    found: dict[str, Any] = {}
    if not fwd.unacked:
        return found
    base = fwd.base_seq or 0
    first = min(seqnum.add(u.seq, -base) for u in fwd.unacked)
    last = max(seqnum.add(u.nextseq, -base) for u in fwd.unacked)
    if 0 < last - first < 2_000_000_000:
        delivered = sum(seqnum.diff(right, left) for left, right in rev.sack)
        found["bytes_in_flight"] = last - first - delivered
    push = bool(s.flags & t.PSH)
    if push or fwd.push_set_last:
        fwd.push_bytes_sent = s.seglen if fwd.push_set_last else fwd.push_bytes_sent + s.seglen
    else:
        fwd.push_bytes_sent += s.seglen
    fwd.push_set_last = push
    found["push_bytes_sent"] = fwd.push_bytes_sent
    return found


def _window_and_ack_flags(fwd: DirectionState, rev: DirectionState, s: _Segment) -> Analysis:
    """The checks tshark makes before it looks at retransmissions, in its order."""
    plain = not s.flags & _SYN_FIN_RST
    if s.seglen == 1 and s.seq == fwd.nextseq and rev.window == 0:
        return Analysis.ZERO_WINDOW_PROBE
    flags = NO_FLAGS
    if s.window == 0 and plain:
        flags |= Analysis.ZERO_WINDOW
    if fwd.nextseq and seqnum.gt(s.seq, fwd.nextseq) and not s.flags & t.RST:
        flags |= Analysis.LOST_SEGMENT
        fwd.ack_lost_armed = True
    if s.seglen <= 1 and s.seq == seqnum.add(fwd.nextseq, -1) and plain:
        flags |= Analysis.KEEP_ALIVE
    repeat = s.seglen == 0 and s.seq == fwd.nextseq and s.ack == fwd.lastack and plain
    if repeat and s.window and s.window != fwd.window:
        flags |= Analysis.WINDOW_UPDATE
    if (
        s.seglen > 0
        and plain
        and rev.win_scale != UNKNOWN_SCALE
        and seqnum.add(s.seq, s.seglen) == seqnum.add(rev.lastack, rev.calc_window)
    ):
        flags |= Analysis.WINDOW_FULL
    if repeat and s.window and s.window == fwd.window and rev.last_flags & Analysis.KEEP_ALIVE:
        return flags | Analysis.KEEP_ALIVE_ACK
    if repeat and s.window == 0 == fwd.window and rev.last_flags & Analysis.ZERO_WINDOW_PROBE:
        return flags | Analysis.ZERO_WINDOW_PROBE_ACK
    if repeat and s.window and s.window == fwd.window:
        fwd.dupacks += 1
        fwd.ack_lost_armed = False  # tshark then says nothing of the peer ACKing unseen data
        flags |= Analysis.DUPLICATE_ACK
    return flags


def _sack(seg: TCP) -> tuple[tuple[int, int], ...]:
    opt = seg.option(t.SACK)
    return opt.value if opt is not None and isinstance(opt.value, tuple) else ()


def _window_shift(seg: TCP) -> int | None:
    opt = seg.option(t.WINDOW_SCALE)
    if opt is None or not isinstance(opt.value, int):
        return None
    return min(opt.value, t.MAX_WINDOW_SHIFT)
