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

import enum
from dataclasses import dataclass
from typing import Any

from headerkit import seqnum
from headerkit.packet.layers import TCP
from headerkit.schemas import tcp as t

UNKNOWN_SCALE = -1  # tshark: the handshake was not seen
NO_SCALING = -2  # tshark: a SYN without the option, so no scaling was negotiated

_FAST_RETRANSMISSION_NS = 20_000_000
_DEFAULT_OOO_NS = 3_000_000
_UNSET_WINDOW = 0xFFFFFFFF  # so that a direction's first segment repeats no window
_SYN_FIN_RST = t.SYN | t.FIN | t.RST


class Analysis(enum.IntFlag):
    """The ``tcp.analysis.*`` flags, named after tshark's fields."""

    RETRANSMISSION = enum.auto()
    FAST_RETRANSMISSION = enum.auto()
    SPURIOUS_RETRANSMISSION = enum.auto()
    OUT_OF_ORDER = enum.auto()
    LOST_SEGMENT = enum.auto()
    ACK_LOST_SEGMENT = enum.auto()
    DUPLICATE_ACK = enum.auto()
    ZERO_WINDOW = enum.auto()
    ZERO_WINDOW_PROBE = enum.auto()
    ZERO_WINDOW_PROBE_ACK = enum.auto()
    WINDOW_FULL = enum.auto()
    WINDOW_UPDATE = enum.auto()
    KEEP_ALIVE = enum.auto()
    KEEP_ALIVE_ACK = enum.auto()
    REUSED_PORTS = enum.auto()

    @property
    def field_names(self) -> list[str]:
        """tshark's field names for the flags set; a fast or spurious one is a retransmission."""
        flags = self
        if flags & (Analysis.FAST_RETRANSMISSION | Analysis.SPURIOUS_RETRANSMISSION):
            flags |= Analysis.RETRANSMISSION
        return [f"tcp.analysis.{f.name.lower()}" for f in Analysis if f in flags and f.name]


NO_FLAGS = Analysis(0)
ANALYSIS_FIELDS = tuple(f"tcp.analysis.{f.name.lower()}" for f in Analysis if f.name)


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
    dupacks: int = 0
    ack_lost_armed: bool = True
    last_flags: Analysis = NO_FLAGS


@dataclass(frozen=True, slots=True)
class SegmentAnalysis:
    """tshark's view of one segment: flags, calculated window and relative numbers."""

    flags: Analysis
    window: int
    scale_factor: int | None  # None on SYNs, where tshark shows none
    seq: int  # relative to the direction's first sequence number
    ack: int  # relative to the peer's first sequence number when ACK is set
    duplicate_ack_num: int | None = None

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
        return out


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

    def segment(
        self,
        side: int,
        seg: TCP,
        seglen: int | None,
        ts_ns: int,
        flags: Analysis = NO_FLAGS,
    ) -> SegmentAnalysis:
        """Analyse one segment; ``seglen`` None (a fragment, a bogus header) skips the flags."""
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
        dupack: int | None = None
        if seglen is not None:
            seg_info = _Segment(seq, ack, seglen, tcp_flags, raw_window, ts_ns)
            flags = self._analyze(fwd, rev, seg_info, flags)
            fwd.calc_window = window
            if flags & Analysis.DUPLICATE_ACK:
                dupack = fwd.dupacks
        rel_seq = seqnum.add(seq, -fwd.base_seq) if fwd.base_seq is not None else seq
        rel_ack = ack
        if tcp_flags & t.ACK and rev.base_seq is not None:
            rel_ack = seqnum.add(ack, -rev.base_seq)
        return SegmentAnalysis(flags, window, scale, rel_seq, rel_ack, dupack)

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
        self, fwd: DirectionState, rev: DirectionState, s: _Segment, flags: Analysis
    ) -> Analysis:
        if fwd.base_seq is None:
            fwd.base_seq = s.seq if s.flags & t.SYN else seqnum.add(s.seq, -1)
        if rev.base_seq is None and s.flags & t.ACK:
            rev.base_seq = seqnum.add(s.ack, -1)
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
        nextseq = seqnum.add(s.seq, s.seglen + s.syn_fin)
        if not flags & Analysis.ZERO_WINDOW_PROBE:  # a probe does not move nextseq
            if seqnum.gt(nextseq, fwd.nextseq) or not fwd.nextseq:
                fwd.nextseq, fwd.nextseq_ns = nextseq, s.ts_ns
            if s.seq == fwd.maxseqtobeacked or not fwd.maxseqtobeacked:
                fwd.maxseqtobeacked = fwd.nextseq
        fwd.window = s.window
        fwd.lastack, fwd.lastack_ns = s.ack, s.ts_ns
        fwd.last_flags = flags
        return flags

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
            and 0 <= since_ack < _FAST_RETRANSMISSION_NS
        ):
            return Analysis.FAST_RETRANSMISSION
        end = seqnum.add(s.seq, s.seglen)
        if s.seglen > 0 and rev.lastack and seqnum.le(end, rev.lastack):
            return Analysis.SPURIOUS_RETRANSMISSION
        since_next = s.ts_ns - fwd.nextseq_ns
        threshold = self.first_rtt_ns or _DEFAULT_OOO_NS
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

    @property
    def syn_fin(self) -> int:
        return 1 if self.flags & (t.SYN | t.FIN) else 0


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


def _window_shift(seg: TCP) -> int | None:
    opt = seg.option(t.WINDOW_SCALE)
    if opt is None or not isinstance(opt.value, int):
        return None
    return min(opt.value, t.MAX_WINDOW_SHIFT)
