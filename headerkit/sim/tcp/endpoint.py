"""A sans-IO TCP endpoint: no sockets, no clock.

The caller feeds time (integer nanoseconds), arriving segments and application calls in;
segments come out in ``out`` and notes (state changes, timer events) in ``notes``, both to
be drained by the caller.  ``next_deadline()`` says when the endpoint wants ``on_timer``.

The endpoint takes the application's calls and each arriving segment as its state requires
(RFC 9293 3.10, condensed), moving through :mod:`headerkit.tcp_states`' table; the work is
done by its parts: :class:`Sender` (send buffer, SND variables, segmentation, Nagle),
:class:`Receiver` (receive buffer, reassembly, advertised window, delayed ACK), a congestion
controller (NewReno or CUBIC), :class:`Recovery` (fast retransmit, NewReno recovery),
:class:`RttEstimator` (RFC 6298, Karn, backoff) and :class:`Timers`.  Also modeled: MSS and
window-scale negotiation; PSH on the segment that empties the send buffer; the persist timer
with 1-byte zero-window probes; TIME-WAIT for 2*MSL; RST on abort and on data arriving
after close().
"""

from __future__ import annotations

from collections.abc import Callable

from headerkit import seqnum
from headerkit.errors import SocketError
from headerkit.flows.flags import NO_FLAGS, Analysis
from headerkit.schemas.tcp import ACK, FIN, PSH, RST, SYN
from headerkit.sim.clock import NS, ns
from headerkit.sim.segment import Segment
from headerkit.sim.tcp.config import TcpConfig, wscale_for
from headerkit.sim.tcp.congestion import CongestionControl, controller
from headerkit.sim.tcp.receiving import Receiver
from headerkit.sim.tcp.recovery import Recovery
from headerkit.sim.tcp.rtt import RttEstimator
from headerkit.sim.tcp.sending import Sender
from headerkit.sim.tcp.timers import Timers
from headerkit.sim.trace import Kind
from headerkit.tcp_states import CAN_RECEIVE_DATA, SYNCHRONIZED, Event, Step, next_state
from headerkit.tcp_states import TcpState as State

SENDING_STATES = frozenset(
    {State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK}
)
SEND_CALL_STATES = SENDING_STATES | {State.SYN_SENT}
SYN_RETRIES = 6  # Linux's tcp_syn_retries
UNSYNCHRONIZED_MSS = 536  # the MSS to assume when a SYN carries none (RFC 9293 3.7.1)
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

    def __init__(self, config: TcpConfig, sport: int, dport: int, iss: int) -> None:
        self.sport = sport
        self.dport = dport
        self.state = State.CLOSED
        self.out: list[tuple[Segment, SenderView]] = []
        self.notes: list[Note] = []
        self.path: list[Step] = []  # the transitions taken, in order
        self.error: str | None = None
        self.app_closed = False
        self.iss = iss
        shift = wscale_for(config.rcvbuf) if config.wscale is None else config.wscale
        self.wscale_ok = False
        self.snd = Sender(config, iss)
        self.rcv = Receiver(config, shift if config.window_scaling else 0)
        self.cc: CongestionControl = controller(config.congestion, config.mss, config.initial_cwnd)
        self.recovery = Recovery()
        self.rtt = RttEstimator(config.rto_initial, config.rto_min, config.rto_max)
        self.timers = Timers()
        self._config = config

    @property
    def config(self) -> TcpConfig:
        return self._config

    @config.setter
    def config(self, config: TcpConfig) -> None:
        """Socket options changed on a live connection (packetdrill's setsockopt)."""
        self._config = self.snd.config = self.rcv.config = config

    # ----------------------------------------------------------------- application calls

    def listen(self) -> None:
        self._transition(Event.LISTEN)

    def connect(self, now: int) -> None:
        """Active open: send a SYN."""
        self._transition(Event.CONNECT)
        self._send_syn(now)
        self._arm(now)

    def send(self, data: bytes | memoryview, now: int) -> int:
        """Copy as much of ``data`` as the send buffer has room for; return how much."""
        if self.error:
            raise SocketError(self.error)
        if self.snd.fin_queued or self.state not in SEND_CALL_STATES:
            raise SocketError("EPIPE")
        n = self.snd.write(data)
        if n:
            self._push(now)
        return n

    def recv(self, n: int, now: int) -> bytes | None:
        """Up to ``n`` bytes; ``b""`` at end of stream; None when a call would block."""
        rcv = self.rcv
        if rcv.rcvq:
            data = rcv.read(n)
            if self.state in CAN_RECEIVE_DATA and not rcv.eof and rcv.window_opened():
                rcv.ack_now = True
                self._push(now)
            return data
        if self.error:
            raise SocketError(self.error)
        if rcv.eof or self.state is State.CLOSED:
            return b""
        return None

    def close(self, now: int) -> None:
        """close(): FIN after the queued data, or RST if unread data is left (as Linux)."""
        self.app_closed = True
        if self.rcv.rcvq and self.state in SYNCHRONIZED:
            self.abort(now, "close() with unread data")
            return
        self.shutdown(now)

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

    @property
    def mss(self) -> int:
        """The MSS in use: the configured one, or the peer's if smaller."""
        return self.snd.mss

    @property
    def cwnd(self) -> int:
        return self.cc.cwnd

    @property
    def rwnd(self) -> int:
        return self.snd.rwnd

    @property
    def flight(self) -> int:
        return self.snd.flight

    @property
    def rto(self) -> int:
        return self.rtt.rto

    @property
    def snd_una(self) -> int:
        return self.snd.snd_una

    @property
    def snd_nxt(self) -> int:
        return self.snd.snd_nxt

    def next_deadline(self) -> int | None:
        return self.timers.next_deadline()

    def view(self) -> SenderView:
        """What this endpoint knows now: see :data:`SenderView`."""
        snd = self.snd
        state = self.state
        if state in _RWND_UNKNOWN:
            rwnd = UNKNOWN
        else:  # the peer's SYN told its window, usable once our SYN is acknowledged
            rwnd = snd.snd_wnd if state is State.SYN_RECEIVED else snd.snd_right - snd.snd_una
        return (snd.snd_nxt - snd.snd_una, self.cc.cwnd, rwnd, len(snd.sndq), len(self.rcv.rcvq))

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
        self._push(now)

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
            self._send_segment(min(usable, snd.mss, snd.unsent), now)
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
            self._new_ack(ack, now)
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
            return
        else:
            rcv.probe_seen = False
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
        mss = min(snd.mss, UNSYNCHRONIZED_MSS if seg.mss is None else seg.mss)
        snd.mss = rcv.mss = mss
        self.wscale_ok = seg.wscale is not None and self.config.window_scaling
        if self.wscale_ok:
            snd.snd_wscale = seg.wscale or 0
        else:
            rcv.rcv_wscale = 0
        self.cc.restart(mss)
        snd.syn_received(seg.seq, ack, seg.window)

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
        if ack > snd.snd_una:
            self._new_ack(ack, now)
        elif is_dup:
            self._duplicate_ack(now)
        return True

    def _new_ack(self, ack: int, now: int) -> None:
        snd, timers, recovery, cc = self.snd, self.timers, self.recovery, self.cc
        acked = snd.acked(ack)
        self.rtt.acked(ack, now)
        timers.persist_backoff = 0
        timers.rto_at = now + self.rtt.rto if snd.snd_nxt != snd.snd_una else None
        if recovery.recover is None:
            cc.on_ack(acked, now, self.rtt.srtt)
        elif recovery.partial(ack):  # RFC 6582: retransmit the next hole, deflate
            self._retransmit_head(now, RETRANSMISSION)
            recovery.deflate(cc, snd.mss, acked)
        else:
            recovery.leave(cc)
        recovery.dupacks = 0
        if snd.fin_seq is not None and not snd.fin_acked and snd.fin_seq < ack:
            snd.fin_acked = True
            self._transition(Event.RCV_ACK_OF_FIN)
            if self.state is State.TIME_WAIT:
                self._enter_time_wait(now)

    def _duplicate_ack(self, now: int) -> None:
        snd, cc = self.snd, self.cc
        if self.recovery.duplicate(cc, snd.mss, snd.flight, snd.snd_max, now):
            self.notes.append((Kind.LOSS, "3 duplicate ACKs: fast retransmit"))
            self._retransmit_head(now, FAST_RETRANSMISSION)
            self.recovery.inflate(cc, snd.mss)

    def _retransmit_head(self, now: int, labels: Analysis) -> None:
        snd = self.snd
        data = snd.data(snd.snd_una, snd.mss)
        if not data:
            return
        self.rtt.forget()
        self._emit(ACK, snd.snd_una, data, now, labels)
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
        while n := snd.next_size(cc.cwnd):
            self._send_segment(n, now)
        if snd.fin_due() and self.state in SENDING_STATES:
            seq = snd.fin_seq = snd.snd_nxt
            labels = RETRANSMISSION if snd.resent(seq, 0) else NO_FLAGS
            snd.snd_nxt = seq + 1
            snd.sent_to(snd.snd_nxt)
            self._emit(FIN | ACK, seq, b"", now, labels)

    def _send_segment(self, n: int, now: int) -> None:
        snd = self.snd
        seq = snd.snd_nxt
        data = snd.data(seq, n)
        last = snd.is_last(seq, n)
        flags = ACK | PSH if last else ACK
        if snd.resent(seq, n):
            labels = RETRANSMISSION
        else:
            labels = Analysis.WINDOW_FULL if snd.fills_window(seq, n) else NO_FLAGS
            if not labels:
                self.rtt.time(seq, now)
        snd.snd_nxt = seq + n
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
            window = rcv.advertise_syn()
            scaled = window
        else:
            window = rcv.advertise()
            scaled = window << rcv.rcv_wscale
        ack = rcv.rcv_nxt if flags & ACK else 0
        if not flags & (SYN | FIN | RST):
            verdict = self._window_labels(seq, payload, ack, scaled)
            if verdict:
                labels = labels | verdict if labels else verdict
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
        )
        self.out.append((seg, self.view()))
        if flags & ACK:
            rcv.ack_sent(ack, scaled)
            self.timers.delack_at = None

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
        return Analysis.WINDOW_UPDATE if win != rcv.last_win_sent else Analysis.DUPLICATE_ACK

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
