"""A sans-IO TCP endpoint: no sockets, no clock.

The caller feeds time (integer nanoseconds), arriving segments and application calls in;
segments come out in ``out`` and notes (state changes, timer events) in ``notes``, both to
be drained by the caller.  ``next_deadline()`` says when the endpoint wants ``on_timer``.

The endpoint takes the application's calls and each arriving segment as its state requires
(RFC 9293 3.10, condensed), moving through :mod:`headerkit.tcp_states`' table; the work is
done by its parts: :class:`Sender` (send buffer, SND variables, segmentation, Nagle),
:class:`Receiver` (receive buffer, reassembly, advertised window, delayed and quick ACKs,
SACK blocks), a congestion controller (NewReno or CUBIC), :class:`Recovery` (fast
retransmit, NewReno recovery), :class:`Scoreboard` (SACK recovery, RFC 6675),
:class:`RttEstimator` (RFC 6298, Karn, backoff) and :class:`Timers`.  Also modeled: MSS,
window-scale, SACK and timestamp negotiation; PSH on the segment that empties the send
buffer; the persist timer with zero-window probes (a byte of new data, or none at
SND.UNA - 1 as Linux); TIME-WAIT for 2*MSL; RST on abort and on data arriving after close().
What the configuration chooses between the RFCs and Linux is named in
:mod:`headerkit.sim.tcp.profiles`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from headerkit import seqnum
from headerkit.errors import SocketError
from headerkit.flows.flags import NO_FLAGS, Analysis
from headerkit.schemas.tcp import ACK, FIN, PSH, RST, SYN, TCP_LAYOUT
from headerkit.sim.clock import NS, ns
from headerkit.sim.segment import Segment
from headerkit.sim.tcp.autotuning import Autotuning
from headerkit.sim.tcp.config import DEFAULT_MSS, TcpConfig, wscale_for
from headerkit.sim.tcp.congestion import CongestionControl, controller
from headerkit.sim.tcp.congestion.validation import CwndValidation, restart_after_idle
from headerkit.sim.tcp.offload import tso_segs
from headerkit.sim.tcp.receiving import Receiver
from headerkit.sim.tcp.recovery import Recovery
from headerkit.sim.tcp.rtt import RttEstimator
from headerkit.sim.tcp.sack import MAX_BLOCKS, Scoreboard
from headerkit.sim.tcp.sending import Sender, bound_to_half_window
from headerkit.sim.tcp.timers import Timers
from headerkit.sim.trace import Kind
from headerkit.tcp_states import (
    CAN_RECEIVE_DATA,
    NOT_OPENED,
    SYNCHRONIZED,
    Event,
    Step,
    next_state,
)
from headerkit.tcp_states import TcpState as State

SENDING_STATES = frozenset(
    {State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK}
)
SEND_CALL_STATES = SENDING_STATES | {State.SYN_SENT}
SYN_RETRIES: Final = 6  # Linux's tcp_syn_retries
KEEPALIVE_STATES = frozenset({State.ESTABLISHED, State.CLOSE_WAIT})
TS_TICK: Final = 1_000_000  # ns per tick of the timestamp clock (Linux: 1 ms)
TIMESTAMPS_SPACE: Final = 12  # NOP, NOP, TS: what the option takes from each segment's payload
# verdicts as constants: combining Analysis flags costs a Python call each time
RETRANSMISSION = Analysis.RETRANSMISSION
FAST_RETRANSMISSION = Analysis.FAST_RETRANSMISSION | RETRANSMISSION
ZERO_WINDOW = Analysis.ZERO_WINDOW
ZERO_WINDOW_PROBE_ACK = Analysis.ZERO_WINDOW | Analysis.ZERO_WINDOW_PROBE_ACK
# The endpoint's view recorded with each outgoing segment: (flight, cwnd, the peer's rwnd
# as this sender may use it or -1 before the peer's SYN told it, send-buffer use,
# receive-buffer use).
SenderView = tuple[int, int, int, int, int]
UNKNOWN = -1
_RWND_UNKNOWN = frozenset({State.CLOSED, State.LISTEN, State.SYN_SENT})  # no SYN from the peer
Note = tuple[Kind, str]


class TcpEndpoint:
    """One end of a TCP connection, driven by the caller (see the module docstring)."""

    def __init__(
        self, config: TcpConfig, sport: int, dport: int, iss: int, ts_offset: int = 0
    ) -> None:
        self.sport = sport
        self.dport = dport
        self.state = State.CLOSED
        self.out: list[tuple[Segment, SenderView]] = []
        self.notes: list[Note] = []
        self.path: list[Step] = []  # the transitions taken, in order
        self.error: str | None = None
        self.app_closed = False
        self.read_shut = False  # shutdown(SHUT_RD): a recv() with nothing to read returns 0
        self.iss = iss
        # the scale fits the largest buffer the socket may grow to, or (SO_RCVBUF fixed it)
        # the largest window that buffer offers, as Linux's tcp_select_initial_window
        largest = config.rcvbuf_max or int(config.rcvbuf * config.window_share)
        shift = wscale_for(largest) if config.wscale is None else config.wscale
        self.wscale_ok = False
        self.sack_ok = False  # both sides offered SACK (RFC 2018)
        self.ts_ok = False  # both sides offered timestamps (RFC 7323)
        self.ts_offset = ts_offset  # this connection's TSval at time 0
        self.ts_recent = 0  # the peer's TSval to echo
        self.scoreboard = Scoreboard()
        self.high_rxt = iss  # SACK recovery: the highest sequence retransmitted (RFC 6675)
        self.snd = Sender(config, iss)
        self.rcv = Receiver(config, shift if config.window_scaling else 0)
        self.cc: CongestionControl = controller(config.congestion, config.mss, config.initial_cwnd)
        self.recovery = Recovery()
        self.validation = CwndValidation() if config.cwnd_validation else None
        self.last_data_sent = 0  # when data last left (Linux's lsndtime)
        self.rtt = RttEstimator(
            config.rto_initial, config.rto_min, config.rto_max, config.rto_min_variance
        )
        self.timers = Timers()
        self.config = config  # changed only through reconfigure(), which tells the parts

    def reconfigure(self, config: TcpConfig, now: int) -> None:
        """Socket options changed on a live connection (setsockopt): the parts read the new
        ones, and the timers they govern start again (SO_KEEPALIVE's idle time)."""
        self.config = self.snd.config = self.rcv.config = config
        if self.state in NOT_OPENED:
            self.snd.mss = config.mss  # TCP_MAXSEG before the handshake: the MSS to offer
        self.timers.keepalive_at = None
        self._arm(now)

    def push_pending(self, now: int, partial: bool) -> None:
        """Send what waits, as setting TCP_NODELAY or removing TCP_CORK does in Linux;
        ``partial``: a partial segment goes too, whatever Nagle or a cork would say."""
        if self.state in SENDING_STATES:
            self.snd.push_once = partial
            self._push(now)
            self.snd.push_once = False

    # ----------------------------------------------------------------- application calls

    def listen(self) -> None:
        self._transition(Event.LISTEN)

    def connect(self, now: int) -> None:
        """Active open: send a SYN."""
        self._transition(Event.CONNECT)
        self._send_syn(now)
        self._arm(now)

    def send(self, data: bytes | memoryview, now: int, more: bool = False) -> int:
        """Copy as much of ``data`` as the send buffer has room for; return how much.
        ``more`` (MSG_MORE): more data follows, so a partial segment waits for it."""
        if self.error:
            raise SocketError(self.error)
        snd = self.snd
        if snd.fin_queued or self.state not in SEND_CALL_STATES:
            raise SocketError("EPIPE")
        n = snd.write(data, more)
        if n:
            snd.more = more
            self._push(now)
            snd.more = False
        return n

    def recv(self, n: int, now: int) -> bytes | None:
        """Up to ``n`` bytes; ``b""`` at end of stream; None when a call would block."""
        rcv = self.rcv
        if rcv.rcvq:
            data = rcv.read(n, now)
            due = rcv.window_opened() or (self.config.ack_on_read and rcv.unacked_segments)
            if due and self.state in CAN_RECEIVE_DATA and not rcv.eof:
                rcv.ack_now = True
                self._push(now)
            return data
        if self.error:
            raise SocketError(self.error)
        if rcv.eof or self.read_shut or self.state is State.CLOSED:
            return b""
        return None

    def close(self, now: int) -> None:
        """close(): FIN after the queued data, or RST if unread data is left (as Linux)."""
        self.app_closed = True
        if self.rcv.rcvq and self.state in SYNCHRONIZED:
            self.abort(now, "close() with unread data")
            return
        self.shutdown(now)

    def shutdown_read(self) -> None:
        """shutdown(SHUT_RD): as Linux, data still arrives and can be read, but a recv()
        finding none returns end of stream instead of waiting."""
        self.read_shut = True

    def shutdown(self, now: int) -> None:
        """shutdown(SHUT_WR): FIN after the queued data; receiving goes on."""
        if self.snd.fin_queued or self.state is State.CLOSED:
            return
        self.snd.fin_queued = True
        self._transition(Event.CLOSE)
        self._push(now)

    def abort(self, now: int, reason: str) -> None:
        """Send RST and drop the connection."""
        if self.state in SYNCHRONIZED or self.state is State.SYN_RECEIVED:
            self._emit(RST | ACK, self.snd.snd_nxt, b"", now)
        self.notes.append((Kind.ABORT, reason))
        self._transition(Event.ABORT)

    # ----------------------------------------------------------------- queries

    def next_deadline(self) -> int | None:
        return self.timers.next_deadline()

    def view(self) -> SenderView:
        """What this endpoint knows now: see :data:`SenderView`."""
        snd = self.snd
        state = self.state
        if state in _RWND_UNKNOWN:
            rwnd = UNKNOWN
        else:  # the peer's SYN told its window, usable once our SYN is acknowledged
            rwnd = snd.snd_wnd if state is State.SYN_RECEIVED else snd.rwnd
        return (snd.flight, self.cc.cwnd, rwnd, len(snd.sndq), len(self.rcv.rcvq))

    def receiver_view(self) -> tuple[int, int, int, int]:
        """After a segment arrived: (unread bytes, out-of-order bytes held, rcv_wnd, cwnd)."""
        rcv = self.rcv
        return (len(rcv.rcvq), rcv.ooo_bytes, rcv.rcv_wnd, self.cc.cwnd)

    # ----------------------------------------------------------------- timers

    def on_timer(self, now: int) -> None:
        """Fire every timer whose deadline has come."""
        timers = self.timers
        if timers.timewait_at is not None and timers.timewait_at <= now:
            timers.timewait_at = None
            self.notes.append((Kind.TIMER, "2MSL expired"))
            self._transition(Event.TIMEOUT)
            return
        if timers.delack_at is not None and timers.delack_at <= now:
            timers.delack_at = None
            self.notes.append((Kind.TIMER, "delayed ACK"))
            self.rcv.ack_now = True
        if timers.rto_at is not None and timers.rto_at <= now:
            timers.rto_at = None
            self._retransmit_timeout(now)
        if timers.persist_at is not None and timers.persist_at <= now:
            timers.persist_at = None
            self._persist(now)
        if timers.keepalive_at is not None and timers.keepalive_at <= now:
            timers.keepalive_at = None
            self._keepalive(now)
            if self.state is State.CLOSED:
                return
        self._push(now)

    def _keepalive(self, now: int) -> None:
        """The connection was idle: probe it with a segment one below SND.NXT and no data
        (Linux's form; tshark calls it a keep-alive), or give up after the last probe.  Data
        in flight or waiting is the retransmission and persist timers' business."""
        timers, config, snd = self.timers, self.config, self.snd
        if self.state not in KEEPALIVE_STATES or snd.snd_nxt != snd.snd_una or snd.unsent > 0:
            return  # _arm starts the idle time again
        if timers.keepalive_probes >= config.keepalive_probes:
            self.notes.append((Kind.TIMER, "keep-alive: no answer to the probes, giving up"))
            self.error = "ETIMEDOUT"
            self._emit(RST | ACK, snd.snd_nxt, b"", now)
            self._transition(Event.ABORT)
            return
        timers.keepalive_probes += 1
        self.notes.append((Kind.TIMER, f"keep-alive probe #{timers.keepalive_probes}"))
        labels = Analysis.KEEP_ALIVE if snd.snd_nxt == snd.snd_high else NO_FLAGS
        self._emit(ACK, snd.snd_nxt - 1, b"", now, labels)
        timers.keepalive_at = now + ns(config.keepalive_interval)

    def _retransmit_timeout(self, now: int) -> None:
        rtt, snd = self.rtt, self.snd
        limit = self.config.max_retries if self.state in SYNCHRONIZED else SYN_RETRIES
        if rtt.retries + 1 > limit:
            rtt.retries += 1
            self.notes.append((Kind.TIMER, "RTO expired: too many retransmissions, giving up"))
            self.error = "ETIMEDOUT"
            self._transition(Event.TIMEOUT)
            return
        self.cc.on_timeout(snd.flight, rtt.retries == 0)
        rtt.back_off()
        self.recovery.reset()
        self.scoreboard.clear()
        text = f"RTO expired (#{rtt.retries}), rto now {rtt.rto / NS:.3f}s, cwnd 1 MSS"
        self.notes.append((Kind.TIMER, text))
        if self.state is State.SYN_SENT:
            self._send_syn(now)
        elif self.state is State.SYN_RECEIVED:
            self._send_syn(now, ack=True)
        else:
            snd.snd_nxt = snd.snd_una  # go back N
        self.timers.rto_at = now + rtt.rto

    def _persist(self, now: int) -> None:
        snd, timers = self.snd, self.timers
        if snd.unsent <= 0 or self.state not in SENDING_STATES:
            return
        usable = snd.usable(self.cc.cwnd)
        if usable > 0:
            self.notes.append((Kind.TIMER, "persist: forcing out a small segment"))
            self._send_segment(min(usable, snd.mss, snd.unsent), now, push=True)
        elif self.config.zero_window_probe == "stale":  # Linux: no data, one below SND.UNA
            probe_text = f"persist #{timers.persist_backoff + 1}: zero-window probe, no data"
            self.notes.append((Kind.TIMER, probe_text))
            # tshark calls a segment one below what was sent a keep-alive
            labels = Analysis.KEEP_ALIVE if snd.snd_una == snd.snd_high else NO_FLAGS
            self._emit(ACK, snd.snd_una - 1, b"", now, labels)
        else:
            probe_text = f"persist #{timers.persist_backoff + 1}: zero-window probe"
            self.notes.append((Kind.TIMER, probe_text))
            labels = Analysis.ZERO_WINDOW_PROBE if snd.peer_win == 0 else NO_FLAGS
            self._emit(ACK, snd.snd_nxt, snd.data(snd.snd_nxt, 1), now, labels)
            snd.snd_max = max(snd.snd_max, snd.snd_nxt + 1)
        timers.persist_backoff += 1
        timers.persist_at = now + self._persist_interval()

    def _persist_interval(self) -> int:
        return min(self.rtt.rto << self.timers.persist_backoff, ns(self.config.persist_max))

    # ----------------------------------------------------------------- segment arrival

    def segment_arrived(self, seg: Segment, now: int) -> None:
        """Process one segment from the peer, as the current state requires."""
        if self.config.keepalive is not None:  # the peer is alive: idle time starts again
            self.timers.keepalive_at = None
            self.timers.keepalive_probes = 0
        _ARRIVAL.get(self.state, TcpEndpoint._in_synchronized)(self, seg, now)
        self._push(now)

    def _in_closed(self, seg: Segment, now: int) -> None:
        if not seg.flags & RST:
            self._reset_reply(seg)

    def _in_listen(self, seg: Segment, now: int) -> None:
        if seg.flags & RST:
            return
        if seg.flags & ACK:
            self._reset_reply(seg)
        elif seg.flags & SYN:
            self._take_syn(seg, None)
            self._transition(Event.RCV_SYN)
            self._send_syn(now, ack=True)

    def _in_syn_sent(self, seg: Segment, now: int) -> None:
        snd = self.snd
        ack = seqnum.nearest(seg.ack, snd.snd_una)
        acceptable = seg.flags & ACK and ack == snd.snd_nxt
        if seg.flags & ACK and not acceptable:
            if not seg.flags & RST:
                self._reset_reply(seg)
            return
        if seg.flags & RST:
            if acceptable:
                self.error = "ECONNREFUSED"
                self._transition(Event.RCV_RST)
            return
        if not seg.flags & SYN:
            return
        self._take_syn(seg, ack if acceptable else None)
        if acceptable:
            self._new_ack(ack, now, 0)
            self._transition(Event.RCV_SYN_ACK)
            self.rcv.ack_now = True
        else:  # simultaneous open
            self._transition(Event.RCV_SYN)
            self._send_syn(now, ack=True)

    def _in_synchronized(self, seg: Segment, now: int) -> None:
        rcv, snd = self.rcv, self.snd
        flags = seg.flags
        payload = seg.payload
        seq = first = seqnum.nearest(seg.seq, rcv.rcv_nxt)
        if flags & SYN:
            if self.state is State.SYN_RECEIVED and seq == rcv.irs and flags & ACK:
                # simultaneous open: the peer's SYN is old news, its ACK is not
                seq += 1
                flags &= ~SYN
            elif self.state is State.SYN_RECEIVED and seq == rcv.irs:
                self._send_syn(now, ack=True)  # our SYN-ACK was lost
                return
            else:
                rcv.ack_now = True  # a retransmitted SYN-ACK, or a challenge ACK (RFC 5961)
                return
        wnd = rcv.rcv_wnd
        if payload and wnd == 0 and seq == rcv.rcv_nxt:
            # RFC 9293: with a zero window only the ACK of a segment is processed.
            rcv.probe_seen = len(payload) == 1
            self.notes.append((Kind.DROP, f"{len(payload)} byte(s) beyond a zero window"))
            payload = b""
            rcv.ack_now = True
        elif not rcv.acceptable(seq, len(payload) + (1 if flags & FIN else 0), wnd):
            if not flags & RST:
                rcv.ack_now = True
                rcv.keepalive_seen = seq == rcv.rcv_nxt - 1 and len(payload) <= 1
            return
        else:
            rcv.probe_seen = rcv.keepalive_seen = False
        stamps = seg.timestamps
        # RFC 7323 section 4.3: remember the newest TSval of a segment at the left edge
        if (
            self.ts_ok
            and stamps is not None
            and seq <= rcv.last_ack_sent
            and seqnum.ge(stamps[0], self.ts_recent)
        ):
            self.ts_recent = stamps[0]
        if flags & RST:
            self.error = "ECONNRESET"
            self._transition(Event.RCV_RST)
            return
        if not flags & ACK:
            return
        ack = seqnum.nearest(seg.ack, snd.snd_una)
        if not self._process_ack(seg, first, ack, now) or self.state is State.CLOSED:
            return
        if payload:
            if self.app_closed:
                self.abort(now, "data arrived after close()")
                return
            if self.state in CAN_RECEIVE_DATA:
                rcv.accept(seq, payload)
                if rcv.tuning is not None:
                    self._measure_rtt(rcv.tuning, seg, now)
        if flags & FIN:
            fin = seq + len(seg.payload)
            if rcv.peer_fin is None or fin < rcv.peer_fin:
                rcv.peer_fin = fin
            rcv.ack_now = True
        if self.state in CAN_RECEIVE_DATA and rcv.take_fin():
            self._transition(Event.RCV_FIN)
            if self.state is State.TIME_WAIT:
                self._enter_time_wait(now)

    def _take_syn(self, seg: Segment, ack: int | None) -> None:
        """The peer's SYN: its sequence space, MSS, window scale and window."""
        snd, rcv = self.snd, self.rcv
        rcv.syn_received(seg.seq)
        config = self.config
        self.sack_ok = config.sack and seg.sack_permitted
        self.ts_ok = config.timestamps and seg.timestamps is not None
        if seg.timestamps is not None and self.ts_ok:
            self.ts_recent = seg.timestamps[0]
        mss = min(config.mss, DEFAULT_MSS if seg.mss is None else seg.mss)
        if self.ts_ok:
            mss -= TIMESTAMPS_SPACE  # every segment carries the option (Linux's mss_cache)
        snd.mss = rcv.mss = mss
        self.wscale_ok = seg.wscale is not None and self.config.window_scaling
        if self.wscale_ok:
            snd.snd_wscale = seg.wscale or 0
        else:
            rcv.rcv_wscale = 0
        snd.syn_received(seg.seq, ack, seg.window)
        if config.half_window_mss:
            header = TCP_LAYOUT.size + (TIMESTAMPS_SPACE if self.ts_ok else 0)
            mss = snd.mss = bound_to_half_window(mss, seg.window, header)
        self.cc.restart(mss)

    def _process_ack(self, seg: Segment, seq: int, ack: int, now: int) -> bool:
        """ACK processing (RFC 9293 3.10.7.4); False when the segment must be dropped."""
        snd = self.snd
        synchronizing = self.state is State.SYN_RECEIVED
        if synchronizing:
            if not snd.snd_una < ack <= snd.snd_max:
                self._reset_reply(seg)
                return False
            self._transition(Event.RCV_ACK_OF_SYN)
        if ack > snd.snd_max:
            self.rcv.ack_now = True
            return False
        win = seg.window if seg.flags & SYN else seg.window << snd.snd_wscale
        is_dup = (
            not seg.payload
            and not seg.flags & (SYN | FIN)
            and ack == snd.snd_una
            and win == snd.peer_win
            and snd.snd_nxt != snd.snd_una
        )
        snd.window_update(seq, ack, win, synchronizing)
        delivered_before = self._delivered_before(ack)
        if self.sack_ok and (seg.sack or self.scoreboard.blocks):  # what SND.UNA passes goes
            una = snd.snd_una
            blocks = [(seqnum.nearest(le, una), seqnum.nearest(re, una)) for le, re in seg.sack]
            self.scoreboard.update(max(ack, una), blocks)
        if ack > snd.snd_una:
            self._new_ack(ack, now, delivered_before)
        elif is_dup:
            self._duplicate_ack(now)
        return True

    def _delivered_before(self, ack: int) -> int:
        """Bytes below ``ack`` that earlier ACKs told had arrived: SACKed ones, or without SACK
        one segment per duplicate ACK (all but the hole this ACK fills, as Linux counts)."""
        if self.scoreboard.blocks:
            return self.scoreboard.sacked_below(ack)
        if self.config.limited_transmit and not self.sack_ok and self.recovery.recover is None:
            snd = self.snd
            return min(self.recovery.dupacks * snd.mss, max(ack - snd.snd_una - snd.mss, 0))
        return 0

    def _new_ack(self, ack: int, now: int, sacked: int) -> None:
        """SND.UNA moves to ``ack``; ``sacked`` of the bytes it covers were SACKed before (and
        grew nothing then: cwnd grows by what this ACK delivers, as Linux counts)."""
        snd, timers, recovery, cc = self.snd, self.timers, self.recovery, self.cc
        acked = snd.acked(ack)
        self.rtt.acked(ack, now)
        timers.persist_backoff = 0
        timers.rto_at = now + self.rtt.rto if snd.snd_nxt != snd.snd_una else None
        if recovery.recover is None:
            valid = self.validation
            if valid is None or valid.may_grow(cc.cwnd // snd.mss, cc.ssthresh // snd.mss):
                cc.on_ack(acked - sacked, now, self.rtt.srtt)
        elif not recovery.partial(ack):
            recovery.leave(cc)
        elif self.sack_ok:  # RFC 6675: send what the pipe allows, holes first
            self._sack_send(now)
        else:  # RFC 6582: retransmit the next hole, deflate
            self._retransmit(snd.snd_una, snd.mss, now, RETRANSMISSION)
            recovery.deflate(cc, snd.mss, acked)
        recovery.dupacks = 0
        if snd.fin_seq is not None and not snd.fin_acked and snd.fin_seq < ack:
            snd.fin_acked = True
            self._transition(Event.RCV_ACK_OF_FIN)
            if self.state is State.TIME_WAIT:
                self._enter_time_wait(now)

    def _duplicate_ack(self, now: int) -> None:
        snd, cc, recovery = self.snd, self.cc, self.recovery
        if self.sack_ok:
            if recovery.recover is not None:
                recovery.dupacks += 1
                self._sack_send(now)
                return
            lost = self.scoreboard.loss_point(snd.mss) is not None
            if not recovery.duplicate(cc, snd.mss, snd.flight, snd.snd_max, now, lost):
                return
            self.notes.append((Kind.LOSS, "duplicate ACKs with SACK: fast retransmit"))
            cc.cwnd = cc.ssthresh  # RFC 6675 section 5, step 4.2
            self._retransmit(snd.snd_una, snd.mss, now, FAST_RETRANSMISSION)
            self.high_rxt = snd.snd_una + snd.mss
            self._sack_send(now)
        elif recovery.duplicate(cc, snd.mss, snd.flight, snd.snd_max, now):
            self.notes.append((Kind.LOSS, "3 duplicate ACKs: fast retransmit"))
            self._retransmit(snd.snd_una, snd.mss, now, FAST_RETRANSMISSION)
            recovery.inflate(cc, snd.mss)

    def _sack_send(self, now: int) -> None:
        """SACK recovery (RFC 6675 NextSeg): while cwnd leaves room beyond the pipe, resend
        the next lost hole, else send new data the peer's window allows."""
        snd, cc, board = self.snd, self.cc, self.scoreboard
        mss = snd.mss
        point = board.loss_point(mss)  # the scoreboard changes only when an ACK comes
        while cc.cwnd - board.pipe(snd.snd_una, snd.snd_nxt, self.high_rxt, point) >= mss:
            start = max(self.high_rxt, snd.snd_una)
            hole = board.next_hole(start, point) if point is not None else None
            if hole is not None:
                n = min(hole[1] - hole[0], mss)
                self._retransmit(hole[0], n, now, RETRANSMISSION)
                self.high_rxt = hole[0] + n
                continue
            n = min(mss, snd.unsent, snd.snd_right - snd.snd_nxt)
            if n <= 0:
                break
            self._send_segment(n, now)

    def _retransmit(self, seq: int, n: int, now: int, labels: Analysis) -> None:
        """Send ``n`` bytes again from ``seq`` (Karn: the RTT sample in progress is void)."""
        data = self.snd.data(seq, n)
        if not data:
            return
        self.rtt.forget()
        self._emit(ACK, seq, data, now, labels)
        self.timers.rto_at = now + self.rtt.rto

    def _enter_time_wait(self, now: int) -> None:
        self.timers.stop_sending()
        self.timers.timewait_at = now + ns(2 * self.config.msl)

    # ----------------------------------------------------------------- output

    def _push(self, now: int) -> None:
        """Send what the windows, Nagle and SWS avoidance allow, then any pending ACK."""
        if self.state in SENDING_STATES:
            self._send_data(now)
        if self.rcv.ack_now and self.state in SYNCHRONIZED:
            self._emit(ACK, self.snd.snd_nxt, b"", now)
        self._arm(now)

    def _send_data(self, now: int) -> None:
        snd, cc = self.snd, self.cc
        before = len(self.out)
        idle = self.config.slow_start_after_idle and not snd.flight and snd.unsent
        if idle and self.last_data_sent and snd.usable(cc.cwnd) > 0:  # data leaves now
            initial = self.config.initial_cwnd * snd.mss
            restart_after_idle(cc, now - self.last_data_sent, self.rtt.rto, initial)
        if self.sack_ok and self.recovery.recover is not None:
            self._sack_send(now)  # in SACK recovery the pipe, not the flight, limits
        elif self.config.min_tso_segs:
            self._send_packets(now)
        else:
            while n := snd.next_size(cc.cwnd):
                self._send_segment(n, now)
        if self.validation is not None:
            any_sent = len(self.out) > before
            cwnd = cc.cwnd // snd.mss
            self.validation.sent(snd.packets_out, cwnd, snd.snd_una, snd.snd_nxt, any_sent)
        if snd.fin_due() and self.state in SENDING_STATES:
            seq = snd.fin_seq = snd.snd_nxt
            labels = RETRANSMISSION if snd.resent(seq, 0) else NO_FLAGS
            snd.snd_nxt = seq + 1
            snd.sent_to(snd.snd_nxt)
            self._emit(FIN | ACK, seq, b"", now, labels)

    def _send_packets(self, now: int) -> None:
        """New data as Linux hands it to a device with segmentation offload (tcp_write_xmit):
        packets of up to ``_tso_segs()`` segments, none over half the congestion window (so
        that two are in flight), each ending with PSH when it holds more than one segment
        (Linux forces PSH on such packets to speed the receiver's GRO flush)."""
        snd, cc, out = self.snd, self.cc, self.out
        mss = snd.mss
        rtt = self.rtt
        size = tso_segs(cc.cwnd, cc.ssthresh, mss, rtt.srtt, rtt.min_rtt, self.config.min_tso_segs)
        left = self._left_network()
        while True:
            cwnd = cc.cwnd // mss
            in_flight = -(-(snd.flight - left) // mss)  # packets, as Linux counts them
            quota = min(max(cwnd >> 1, 1), cwnd - in_flight, size)
            first = len(out)
            while len(out) - first < quota and (n := snd.next_size(cc.cwnd + left)):
                self._send_segment(n, now)
            if len(out) - first > 1:
                out[-1][0].flags |= PSH
            if len(out) - first < quota or quota <= 0:
                return

    def _left_network(self) -> int:
        """Bytes sent that duplicate ACKs say have left the network, outside recovery: those
        SACKed, or a segment per duplicate ACK without SACK.  Limited transmit (RFC 3042)
        sends new data in their place, as Linux's count of packets in flight does."""
        if not self.config.limited_transmit or self.recovery.recover is not None:
            return 0
        if self.sack_ok:
            return self.scoreboard.sacked
        return min(self.recovery.dupacks * self.snd.mss, self.snd.flight)

    def _send_segment(self, n: int, now: int, push: bool = False) -> None:
        snd = self.snd
        seq = snd.snd_nxt
        data = snd.data(seq, n)
        last = snd.is_last(seq, n)
        flags = ACK | PSH if snd.pushes(seq, n, last) or push else ACK
        if snd.resent(seq, n):
            labels = RETRANSMISSION
        else:
            labels = Analysis.WINDOW_FULL if snd.fills_window(seq, n) else NO_FLAGS
            if not labels:
                self.rtt.time(seq, now)
        snd.snd_nxt = seq + n
        if n < snd.mss:
            snd.snd_sml = snd.snd_nxt
        self.last_data_sent = now
        if last and snd.fin_queued and self.state in SENDING_STATES:
            flags |= FIN  # the FIN rides on the last data segment, as Linux does
            snd.fin_seq = snd.snd_nxt
            snd.snd_nxt += 1
        snd.sent_to(snd.snd_nxt)
        self._emit(flags, seq, data, now, labels)

    def _send_syn(self, now: int, ack: bool = False) -> None:
        snd = self.snd
        flags = SYN | ACK if ack else SYN
        labels = RETRANSMISSION if snd.snd_high != self.iss else NO_FLAGS
        if not labels:
            self.rtt.time(self.iss, now)
        snd.snd_nxt = self.iss + 1
        snd.sent_to(snd.snd_nxt)
        self._emit(flags, self.iss, b"", now, labels)
        if self.timers.rto_at is None:
            self.timers.rto_at = now + self.rtt.rto

    def _emit(
        self, flags: int, seq: int, payload: bytes, now: int, labels: Analysis = NO_FLAGS
    ) -> None:
        rcv = self.rcv
        syn = flags & SYN
        if syn:
            # Linux rounds by the MSS it offers, less the timestamps a SYN-ACK agreed to
            own_mss = self.config.mss - (TIMESTAMPS_SPACE if flags & ACK and self.ts_ok else 0)
            window = rcv.advertise_syn(own_mss)
            scaled = window
        else:
            window = rcv.advertise()
            scaled = window << rcv.rcv_wscale
        ack = rcv.rcv_nxt if flags & ACK else 0
        if not flags & (SYN | FIN | RST):
            verdict = self._window_labels(seq, payload, ack, scaled)
            if verdict:
                labels = labels | verdict if labels else verdict
        timestamps: tuple[int, int] | None = None
        sack_permitted = False
        sack: tuple[tuple[int, int], ...] = ()
        if syn:  # a SYN offers what is configured, a SYN-ACK answers what was offered
            answer = flags & ACK
            sack_permitted = self.sack_ok if answer else self.config.sack
            if self.ts_ok if answer else self.config.timestamps:
                timestamps = (self._tsval(now), self.ts_recent if answer else 0)
        else:
            if self.ts_ok:
                timestamps = (self._tsval(now), self.ts_recent)
            if self.sack_ok and rcv.ooo and flags & ACK:
                blocks = rcv.sack_blocks(MAX_BLOCKS - 1 if self.ts_ok else MAX_BLOCKS)
                sack = tuple((seqnum.wrap(lo), seqnum.wrap(hi)) for lo, hi in blocks)
        seg = Segment(
            self.sport,
            self.dport,
            seqnum.wrap(seq),
            seqnum.wrap(ack),
            flags,
            window,
            payload,
            self.config.mss if syn else None,
            rcv.rcv_wscale if syn and self._offer_wscale(flags) else None,
            labels,
            sack_permitted,
            timestamps,
            sack,
        )
        self.out.append((seg, self.view()))
        if flags & ACK:
            rcv.ack_sent(ack, scaled)
            self.timers.delack_at = None

    def _measure_rtt(self, tuning: Autotuning, seg: Segment, now: int) -> None:
        """The receiver's RTT for autotuning: from the echo of our timestamp in a full-sized
        segment, or else by how long a window of data takes."""
        stamps = seg.timestamps
        if self.ts_ok and stamps is not None and stamps[1]:
            if len(seg.payload) >= self.rcv.mss - TIMESTAMPS_SPACE:
                ticks = seqnum.diff(self._tsval(now), stamps[1])
                if 0 <= ticks < 1 << 30:
                    tuning.rtt_sample(max(ticks, 1) * TS_TICK, by_window=False)
        else:
            tuning.data_arrived(self.rcv.rcv_nxt, self.rcv.rcv_wnd, now)

    def _tsval(self, now: int) -> int:
        """The timestamp clock (RFC 7323): milliseconds, as Linux's, from a random start."""
        return seqnum.wrap(now // TS_TICK + self.ts_offset)

    def _offer_wscale(self, flags: int) -> bool:
        """A SYN offers window scaling if configured; a SYN-ACK only answers an offer."""
        return self.wscale_ok if flags & ACK else self.config.window_scaling

    def _window_labels(self, seq: int, payload: bytes, ack: int, win: int) -> Analysis:
        """tshark's window and duplicate-ACK verdicts, as this endpoint knows them."""
        rcv = self.rcv
        if payload or seq != self.snd.snd_high or ack != rcv.last_ack_sent:
            return ZERO_WINDOW if win == 0 else NO_FLAGS
        if win == 0:
            probed = rcv.last_win_sent == 0 and rcv.probe_seen
            return ZERO_WINDOW_PROBE_ACK if probed else ZERO_WINDOW
        if win != rcv.last_win_sent:
            return Analysis.WINDOW_UPDATE
        return Analysis.KEEP_ALIVE_ACK if rcv.keepalive_seen else Analysis.DUPLICATE_ACK

    def _reset_reply(self, seg: Segment) -> None:
        """RST in answer to a segment that belongs to no connection (RFC 9293 3.10.7.1)."""
        if seg.flags & ACK:
            rst = Segment(self.sport, self.dport, seg.ack, 0, RST, 0)
        else:
            ack = seqnum.add(seg.seq, seg.seg_len)
            rst = Segment(self.sport, self.dport, 0, ack, RST | ACK, 0)
        self.out.append((rst, self.view()))

    def _arm(self, now: int) -> None:
        """Start or stop the retransmission, persist and delayed-ACK timers."""
        timers, snd = self.timers, self.snd
        state = self.state
        if state is State.CLOSED or state is State.TIME_WAIT:
            timers.rto_at = timers.persist_at = timers.delack_at = None
            return
        if snd.snd_nxt != snd.snd_una:
            if timers.rto_at is None:
                timers.rto_at = now + self.rtt.rto
            timers.persist_at = None
        else:
            timers.rto_at = None
            if snd.unsent > 0 and state in SENDING_STATES:
                if timers.persist_at is None:
                    timers.persist_at = now + self._persist_interval()
            else:
                timers.persist_at = None
                timers.persist_backoff = 0
        if self.rcv.unacked_segments and timers.delack_at is None:
            timers.delack_at = now + ns(self.config.delack_timeout)
        idle = self.config.keepalive
        if idle is not None and timers.keepalive_at is None and state in KEEPALIVE_STATES:
            timers.keepalive_at = now + ns(idle)

    def _transition(self, event: Event) -> None:
        old = self.state
        self.state = next_state(old, event)
        if self.state is not old:
            step = Step(old, event, self.state)
            self.path.append(step)
            self.notes.append((Kind.STATE, str(step)))
        if self.state is State.CLOSED:
            self.timers.stop()


_ARRIVAL: dict[State, Callable[[TcpEndpoint, Segment, int], None]] = {
    State.CLOSED: TcpEndpoint._in_closed,
    State.LISTEN: TcpEndpoint._in_listen,
    State.SYN_SENT: TcpEndpoint._in_syn_sent,
}
"""Segment arrival in the states before synchronization; every other state takes a segment
through :meth:`TcpEndpoint._in_synchronized`."""
