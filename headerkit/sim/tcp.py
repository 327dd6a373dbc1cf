"""A sans-IO TCP endpoint: no sockets, no clock.

The caller feeds time (integer nanoseconds), arriving segments and application calls in;
segments come out in ``out`` and notes (state changes, timer events) in ``notes``, both to
be drained by the caller.  ``next_deadline()`` says when the endpoint wants ``on_timer``.

Modeled (RFC 9293 names as attributes: snd_una, snd_nxt, snd_wnd, rcv_nxt, rcv_wnd, iss,
irs): the state table of :mod:`headerkit.tcp_states`; MSS and window-scale negotiation;
a send buffer of ``sndbuf`` bytes and a receive buffer of ``rcvbuf`` bytes; at most
min(cwnd, rwnd) new bytes unacknowledged; PSH on the segment that empties the send buffer;
Nagle; sender and receiver silly-window avoidance; delayed ACKs; window updates; out-of-order
segments held until the gap fills; slow start, congestion avoidance, fast retransmit and
NewReno fast recovery (RFC 5681, 6582); RTO per RFC 6298 with Karn's rule and backoff
(go-back-N on timeout); the persist timer with 1-byte zero-window probes and backoff;
TIME-WAIT for 2*MSL; RST on abort and on data arriving after close().
"""

from __future__ import annotations

from dataclasses import dataclass

from headerkit import seqnum
from headerkit.errors import SocketError
from headerkit.schemas.tcp import ACK, FIN, PSH, RST, SYN
from headerkit.sim.segment import Segment
from headerkit.tcp_states import (
    CAN_RECEIVE_DATA,
    SYNCHRONIZED,
    Event,
    Step,
    next_state,
)
from headerkit.tcp_states import TcpState as State

NS = 1_000_000_000
SENDING_STATES = frozenset(
    {State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK}
)
SEND_CALL_STATES = SENDING_STATES | {State.SYN_SENT}
# The endpoint's view recorded with each outgoing segment: (flight, cwnd, the peer's rwnd
# as this sender may use it or -1 before the peer's SYN told it, send-buffer use,
# receive-buffer use).
SenderView = tuple[int, int, int, int, int]
UNKNOWN = -1


@dataclass(slots=True, frozen=True)
class TcpConfig:
    """Socket options and stack parameters of one endpoint (times in seconds).

    Defaults follow Linux where RFCs leave a choice: 16 KiB send and 128 KiB receive buffer,
    initial window of 10 segments, 40 ms delayed-ACK timer, 200 ms minimum RTO, 2*MSL = 60 s.
    """

    mss: int = 1460
    sndbuf: int = 16384
    rcvbuf: int = 131072
    nodelay: bool = False
    delayed_ack: bool = True
    delack_timeout: float = 0.040
    ack_every: int = 2
    window_scaling: bool = True
    initial_cwnd: int = 10
    rto_initial: float = 1.0
    rto_min: float = 0.2
    rto_max: float = 120.0
    persist_max: float = 60.0
    max_retries: int = 15
    msl: float = 30.0
    iss: int | None = None
    wscale: int | None = None  # the window scale to offer; None: the least that fits rcvbuf


def wscale_for(rcvbuf: int) -> int:
    """The least shift that brings ``rcvbuf`` within the 16-bit window field (RFC 7323;
    Linux computes its choice the same way from the largest buffer it may grow to)."""
    shift = 0
    while (rcvbuf >> shift) > 0xFFFF and shift < 14:
        shift += 1
    return shift


class TcpEndpoint:
    """One end of a TCP connection, driven by the caller (see the module docstring)."""

    def __init__(self, config: TcpConfig, sport: int, dport: int, iss: int) -> None:
        self.config = config
        self.sport = sport
        self.dport = dport
        self.state = State.CLOSED
        self.out: list[tuple[Segment, SenderView]] = []
        self.notes: list[tuple[str, str]] = []
        self.path: list[Step] = []  # the transitions taken, in order
        self.error: str | None = None
        # send sequence space
        self.iss = iss
        self.snd_una = iss
        self.snd_nxt = iss
        self.snd_max = iss  # highest sequence number sent, zero-window probes included
        self.snd_high = iss  # highest sent by segments that are not probes (tshark's nextseq)
        self.snd_wnd = 0
        self.snd_right = iss  # right edge of the peer's window; never moves left
        self.snd_wl1 = 0
        self.snd_wl2 = 0
        self.max_snd_wnd = 0
        self.peer_ack = 0
        self.peer_win = 0  # last window (scaled) the peer advertised, as tshark tracks it
        self.sndq = bytearray()  # bytes from snd_una (or iss + 1) on, sent or not
        self.sndq_seq = seqnum.add(iss, 1)
        self.fin_queued = False
        self.fin_seq: int | None = None
        self.fin_acked = False
        # receive sequence space
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_adv = 0  # right edge of the window advertised; never moves left
        self.rcvq = bytearray()
        self.ooo: dict[int, bytes] = {}
        self.peer_fin: int | None = None
        self.eof = False
        self.app_closed = False
        self.last_ack_sent = 0
        self.last_win_sent = -1
        self.probe_seen = False
        # options
        self.mss = config.mss
        shift = wscale_for(config.rcvbuf) if config.wscale is None else config.wscale
        self.rcv_wscale = shift if config.window_scaling else 0
        self.snd_wscale = 0
        self.wscale_ok = False
        # congestion control
        self.cwnd = config.initial_cwnd * config.mss
        self.ssthresh = 1 << 30
        self.cwnd_acc = 0
        self.dupacks = 0
        self.recover: int | None = None
        # RTO (RFC 6298) and Karn's rule
        self.srtt: int | None = None
        self.rttvar = 0
        self.rto = int(config.rto_initial * NS)
        self.retries = 0
        self.timed: tuple[int, int] | None = None  # (sequence number, time sent)
        # delayed ACK
        self.ack_now = False
        self.unacked_segments = 0
        # timers, as deadlines in ns (None: not running)
        self.rto_at: int | None = None
        self.persist_at: int | None = None
        self.persist_backoff = 0
        self.delack_at: int | None = None
        self.timewait_at: int | None = None

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
        if self.fin_queued or self.state not in SEND_CALL_STATES:
            raise SocketError("EPIPE")
        room = self.config.sndbuf - len(self.sndq)
        if room <= 0:
            return 0
        n = min(room, len(data))
        self.sndq += data[:n]
        self._push(now)
        return n

    def recv(self, n: int, now: int) -> bytes | None:
        """Up to ``n`` bytes; ``b""`` at end of stream; None when a call would block."""
        if self.rcvq:
            data = bytes(self.rcvq[:n])
            del self.rcvq[:n]
            self._window_opened(now)
            return data
        if self.error:
            raise SocketError(self.error)
        if self.eof or self.state is State.CLOSED:
            return b""
        return None

    def close(self, now: int) -> None:
        """close(): FIN after the queued data, or RST if unread data is left (as Linux)."""
        self.app_closed = True
        if self.rcvq and self.state in SYNCHRONIZED:
            self.abort(now, "close() with unread data")
            return
        self.shutdown(now)

    def shutdown(self, now: int) -> None:
        """shutdown(SHUT_WR): FIN after the queued data; receiving goes on."""
        if self.fin_queued or self.state is State.CLOSED:
            return
        self.fin_queued = True
        self._transition(Event.CLOSE)
        self._push(now)

    def abort(self, now: int, reason: str) -> None:
        """Send RST and drop the connection."""
        if self.state in SYNCHRONIZED or self.state is State.SYN_RECEIVED:
            self._emit(RST | ACK, self.snd_nxt, b"", now)
        self.notes.append(("abort", reason))
        self._transition(Event.ABORT)

    # ----------------------------------------------------------------- queries

    @property
    def flight(self) -> int:
        """Bytes (and SYN/FIN) sent and not yet acknowledged, probes excluded."""
        return seqnum.diff(self.snd_nxt, self.snd_una)

    @property
    def rwnd(self) -> int:
        """The peer's window as this sender may use it, from snd_una."""
        return seqnum.diff(self.snd_right, self.snd_una)

    @property
    def rcv_wnd(self) -> int:
        """The window this receiver has advertised, from rcv_nxt."""
        return max(0, seqnum.diff(self.rcv_adv, self.rcv_nxt))

    @property
    def ooo_bytes(self) -> int:
        return sum(len(p) for p in self.ooo.values())

    def next_deadline(self) -> int | None:
        times = [
            t
            for t in (self.rto_at, self.persist_at, self.delack_at, self.timewait_at)
            if t is not None
        ]
        return min(times) if times else None

    # ----------------------------------------------------------------- timers

    def on_timer(self, now: int) -> None:
        """Fire every timer whose deadline has come."""
        if self.timewait_at is not None and self.timewait_at <= now:
            self.timewait_at = None
            self.notes.append(("timer", "2MSL expired"))
            self._transition(Event.TIMEOUT)
            return
        if self.delack_at is not None and self.delack_at <= now:
            self.delack_at = None
            self.notes.append(("timer", "delayed ACK"))
            self.ack_now = True
        if self.rto_at is not None and self.rto_at <= now:
            self.rto_at = None
            self._retransmit_timeout(now)
        if self.persist_at is not None and self.persist_at <= now:
            self.persist_at = None
            self._persist(now)
        self._push(now)

    def _retransmit_timeout(self, now: int) -> None:
        self.retries += 1
        limit = self.config.max_retries if self.state in SYNCHRONIZED else 6
        if self.retries > limit:
            self.notes.append(("timer", "RTO expired: too many retransmissions, giving up"))
            self.error = "ETIMEDOUT"
            self._transition(Event.TIMEOUT)
            return
        if self.retries == 1:
            self.ssthresh = max(self.flight // 2, 2 * self.mss)
        self.rto = min(self.rto * 2, int(self.config.rto_max * NS))
        self.cwnd = self.mss
        self.cwnd_acc = 0
        self.dupacks = 0
        self.recover = None
        self.timed = None
        self.notes.append(
            ("timer", f"RTO expired (#{self.retries}), rto now {self.rto / NS:.3f}s, cwnd 1 MSS")
        )
        if self.state is State.SYN_SENT:
            self._send_syn(now)
        elif self.state is State.SYN_RECEIVED:
            self._send_syn(now, ack=True)
        else:
            self.snd_nxt = self.snd_una  # go back N
        self.rto_at = now + self.rto

    def _persist(self, now: int) -> None:
        unsent = self._unsent()
        if unsent <= 0 or self.state not in SENDING_STATES:
            return
        usable = seqnum.diff(self._send_limit(), self.snd_nxt)
        if usable > 0:
            self.notes.append(("timer", "persist: forcing out a small segment"))
            self._send_segment(min(usable, self.mss, unsent), now)
        else:
            self.notes.append(("timer", f"persist #{self.persist_backoff + 1}: zero-window probe"))
            off = seqnum.diff(self.snd_nxt, self.sndq_seq)
            probe = bytes(self.sndq[off : off + 1])
            labels = ("zero_window_probe",) if self.peer_win == 0 else ()
            self._emit(ACK, self.snd_nxt, probe, now, labels)
            self.snd_max = seqnum.latest(self.snd_max, seqnum.add(self.snd_nxt, 1))
        self.persist_backoff += 1
        self.persist_at = now + self._persist_interval()

    def _persist_interval(self) -> int:
        return min(self.rto << self.persist_backoff, int(self.config.persist_max * NS))

    # ----------------------------------------------------------------- segment arrival

    def segment_arrived(self, seg: Segment, now: int) -> None:
        """Process one segment from the peer (RFC 9293 section 3.10.7, condensed)."""
        state = self.state
        if state is State.CLOSED:
            if not seg.flags & RST:
                self._reset_reply(seg)
        elif state is State.LISTEN:
            self._in_listen(seg, now)
        elif state is State.SYN_SENT:
            self._in_syn_sent(seg, now)
        else:
            self._in_synchronized(seg, now)
        self._push(now)

    def _in_listen(self, seg: Segment, now: int) -> None:
        if seg.flags & RST:
            return
        if seg.flags & ACK:
            self._reset_reply(seg)
        elif seg.flags & SYN:
            self._take_syn(seg)
            self._transition(Event.RCV_SYN)
            self._send_syn(now, ack=True)

    def _in_syn_sent(self, seg: Segment, now: int) -> None:
        acceptable = seg.flags & ACK and seg.ack == self.snd_nxt
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
        self._take_syn(seg)
        if acceptable:
            self._new_ack(seg, now)
            self._transition(Event.RCV_SYN_ACK)
            self.ack_now = True
        else:  # simultaneous open
            self._transition(Event.RCV_SYN)
            self._send_syn(now, ack=True)

    def _in_synchronized(self, seg: Segment, now: int) -> None:
        flags = seg.flags
        payload = seg.payload
        seq = seg.seq
        if flags & SYN:
            if self.state is State.SYN_RECEIVED and seq == self.irs and flags & ACK:
                # simultaneous open: the peer's SYN is old news, its ACK is not
                seq = seqnum.add(seq, 1)
                flags &= ~SYN
            elif self.state is State.SYN_RECEIVED and seq == self.irs:
                self._send_syn(now, ack=True)  # our SYN-ACK was lost
                return
            else:
                self.ack_now = True  # a retransmitted SYN-ACK, or a challenge ACK (RFC 5961)
                return
        wnd = self.rcv_wnd
        if payload and wnd == 0 and seq == self.rcv_nxt:
            # RFC 9293: with a zero window only the ACK of a segment is processed.
            self.probe_seen = len(payload) == 1
            self.notes.append(("drop", f"{len(payload)} byte(s) beyond a zero window"))
            payload = b""
            self.ack_now = True
        elif not self._acceptable(seq, len(payload) + (1 if flags & FIN else 0), wnd):
            if not flags & RST:
                self.ack_now = True
            return
        else:
            self.probe_seen = False
        if flags & RST:
            self.error = "ECONNRESET"
            self._transition(Event.RCV_RST)
            return
        if not flags & ACK or not self._process_ack(seg, now):
            return
        if self.state is State.CLOSED:
            return
        if payload:
            if self.app_closed:
                self.abort(now, "data arrived after close()")
                return
            if self.state in CAN_RECEIVE_DATA:
                self._accept(seq, payload)
        if flags & FIN:
            fin = seqnum.add(seq, len(seg.payload))
            if self.peer_fin is None or seqnum.lt(fin, self.peer_fin):
                self.peer_fin = fin
            self.ack_now = True
        self._take_fin(now)

    def _acceptable(self, seq: int, length: int, wnd: int) -> bool:
        """RFC 9293 segment acceptability test."""
        nxt = self.rcv_nxt
        if length == 0:
            return seq == nxt if wnd == 0 else seqnum.le(nxt, seq) and seqnum.lt(seq, nxt + wnd)
        if wnd == 0:
            return False
        end = seqnum.add(seq, length - 1)
        right = seqnum.add(nxt, wnd)
        return (seqnum.le(nxt, seq) and seqnum.lt(seq, right)) or (
            seqnum.le(nxt, end) and seqnum.lt(end, right)
        )

    def _take_syn(self, seg: Segment) -> None:
        self.irs = seg.seq
        self.rcv_nxt = seqnum.add(seg.seq, 1)
        self.mss = min(self.mss, 536 if seg.mss is None else seg.mss)
        self.wscale_ok = seg.wscale is not None and self.config.window_scaling
        if self.wscale_ok:
            self.snd_wscale = seg.wscale or 0
        else:
            self.rcv_wscale = 0
        self.cwnd = self.config.initial_cwnd * self.mss
        self.snd_wnd = seg.window
        self.snd_wl1 = seg.seq
        self.snd_wl2 = seg.ack
        self.peer_win = seg.window
        self.peer_ack = seg.ack
        self.max_snd_wnd = seg.window
        self.snd_right = seqnum.add(seg.ack, seg.window) if seg.flags & ACK else self.iss
        self.rcv_adv = self.rcv_nxt

    def _process_ack(self, seg: Segment, now: int) -> bool:
        """ACK processing; False when the segment must be dropped."""
        ack = seg.ack
        synchronizing = self.state is State.SYN_RECEIVED
        if synchronizing:
            if not (seqnum.lt(self.snd_una, ack) and seqnum.le(ack, self.snd_max)):
                self._reset_reply(seg)
                return False
            self._transition(Event.RCV_ACK_OF_SYN)
        if seqnum.lt(self.snd_max, ack):
            self.ack_now = True
            return False
        win = seg.window if seg.flags & SYN else seg.window << self.snd_wscale
        pure = not seg.payload and not seg.flags & (SYN | FIN)
        is_dup = pure and ack == self.snd_una and win == self.peer_win and self.flight > 0
        self.peer_ack = ack
        self.peer_win = win
        if (
            synchronizing
            or seqnum.lt(self.snd_wl1, seg.seq)
            or (self.snd_wl1 == seg.seq and seqnum.le(self.snd_wl2, ack))
        ):
            self.snd_wnd = win
            self.snd_wl1 = seg.seq
            self.snd_wl2 = ack
            self.snd_right = seqnum.latest(self.snd_right, seqnum.add(ack, win))
            self.max_snd_wnd = max(self.max_snd_wnd, win)
        if seqnum.lt(self.snd_una, ack):
            self._new_ack(seg, now)
        elif is_dup:
            self._dup_ack(now)
        return True

    def _new_ack(self, seg: Segment, now: int) -> None:
        ack = seg.ack
        acked = seqnum.diff(ack, self.snd_una)
        drop = min(max(0, seqnum.diff(ack, self.sndq_seq)), len(self.sndq))
        if drop:
            del self.sndq[:drop]
            self.sndq_seq = seqnum.add(self.sndq_seq, drop)
        self.snd_una = ack
        if seqnum.lt(self.snd_nxt, ack):
            self.snd_nxt = ack  # a probe byte (or go-back-N data) that got in
        if self.timed is not None and seqnum.lt(self.timed[0], ack):
            self._rtt_sample(now - self.timed[1])
            self.timed = None
        self.retries = 0
        self.persist_backoff = 0
        self.rto_at = now + self.rto if self.flight > 0 else None
        mss = self.mss
        if self.recover is not None:
            if seqnum.le(self.recover, ack):
                self.cwnd = self.ssthresh
                self.recover = None
            else:  # partial ACK (RFC 6582): retransmit the next hole, deflate
                self._retransmit_head(now, ("retransmission",))
                self.cwnd = max(self.cwnd - acked + mss, mss)
        elif self.cwnd < self.ssthresh:
            self.cwnd += min(acked, 2 * mss)  # appropriate byte counting, L = 2 (RFC 3465)
        else:
            self.cwnd_acc += acked
            if self.cwnd_acc >= self.cwnd:
                self.cwnd_acc -= self.cwnd
                self.cwnd += mss
        self.dupacks = 0
        if self.fin_seq is not None and not self.fin_acked and seqnum.lt(self.fin_seq, ack):
            self.fin_acked = True
            self._transition(Event.RCV_ACK_OF_FIN)
            if self.state is State.TIME_WAIT:
                self._enter_time_wait(now)

    def _dup_ack(self, now: int) -> None:
        self.dupacks += 1
        if self.recover is not None:
            self.cwnd += self.mss
        elif self.dupacks == 3:
            self.ssthresh = max(self.flight // 2, 2 * self.mss)
            self.recover = self.snd_max
            self.notes.append(("loss", "3 duplicate ACKs: fast retransmit"))
            self._retransmit_head(now, ("fast_retransmission", "retransmission"))
            self.cwnd = self.ssthresh + 3 * self.mss

    def _retransmit_head(self, now: int, labels: tuple[str, ...]) -> None:
        off = seqnum.diff(self.snd_una, self.sndq_seq)
        data = bytes(self.sndq[off : off + self.mss])
        if not data:
            return
        self.timed = None
        self._emit(ACK, self.snd_una, data, now, labels)
        self.rto_at = now + self.rto

    def _rtt_sample(self, rtt: int) -> None:
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt // 2
        else:
            self.rttvar = (3 * self.rttvar + abs(self.srtt - rtt)) // 4
            self.srtt = (7 * self.srtt + rtt) // 8
        rto = self.srtt + max(1_000_000, 4 * self.rttvar)
        self.rto = min(max(rto, int(self.config.rto_min * NS)), int(self.config.rto_max * NS))

    def _accept(self, seq: int, payload: bytes) -> None:
        """Place in-window data in the receive buffer, holding out-of-order pieces."""
        off = seqnum.diff(self.rcv_nxt, seq)
        if off > 0:
            payload = payload[off:]
            seq = self.rcv_nxt
        room = seqnum.diff(self.rcv_adv, seq)
        if room < len(payload):
            payload = payload[: max(room, 0)]
        if not payload:
            self.ack_now = True  # a duplicate: tell the sender where we are
            return
        if seq != self.rcv_nxt:
            if len(payload) > len(self.ooo.get(seq, b"")):
                self.ooo[seq] = payload
            self.ack_now = True  # out of order: duplicate ACK at once
            return
        self.rcvq += payload
        self.rcv_nxt = seqnum.add(self.rcv_nxt, len(payload))
        if self.ooo:
            self._drain_ooo()
            self.ack_now = True
        self.unacked_segments += 1
        if not self.config.delayed_ack or self.unacked_segments >= self.config.ack_every:
            self.ack_now = True

    def _drain_ooo(self) -> None:
        progress = True
        while progress and self.ooo:
            progress = False
            for start in list(self.ooo):
                data = self.ooo[start]
                end = seqnum.add(start, len(data))
                if seqnum.le(end, self.rcv_nxt):
                    del self.ooo[start]
                elif seqnum.le(start, self.rcv_nxt):
                    del self.ooo[start]
                    tail = data[seqnum.diff(self.rcv_nxt, start) :]
                    self.rcvq += tail
                    self.rcv_nxt = end
                    progress = True

    def _take_fin(self, now: int) -> None:
        if self.eof or self.peer_fin is None or self.peer_fin != self.rcv_nxt:
            return
        if self.state not in CAN_RECEIVE_DATA:
            return
        self.rcv_nxt = seqnum.add(self.rcv_nxt, 1)
        self.rcv_adv = seqnum.latest(self.rcv_adv, self.rcv_nxt)
        self.eof = True
        self.ack_now = True
        self._transition(Event.RCV_FIN)
        if self.state is State.TIME_WAIT:
            self._enter_time_wait(now)

    def _enter_time_wait(self, now: int) -> None:
        self.rto_at = self.persist_at = None
        self.timewait_at = now + int(2 * self.config.msl * NS)

    # ----------------------------------------------------------------- output

    def _window_opened(self, now: int) -> None:
        """After the application read: send a window update if the window grew a lot."""
        if self.state not in CAN_RECEIVE_DATA or self.eof:
            return
        cur = self.rcv_wnd
        free = self.config.rcvbuf - len(self.rcvq)
        if free - cur >= self._sws_threshold() and 4 * cur <= self.config.rcvbuf:
            self.ack_now = True
            self._push(now)

    def _sws_threshold(self) -> int:
        return min(self.config.rcvbuf // 2, self.mss)

    def _advertise(self) -> int:
        """Move the window's right edge (receiver SWS avoidance) and return the field value."""
        free = min(self.config.rcvbuf - len(self.rcvq), 0xFFFF << self.rcv_wscale)
        edge = seqnum.add(self.rcv_nxt, free)
        if seqnum.diff(edge, self.rcv_adv) >= self._sws_threshold():
            self.rcv_adv = edge
        return self.rcv_wnd >> self.rcv_wscale

    def _unsent(self) -> int:
        return seqnum.diff(seqnum.add(self.sndq_seq, len(self.sndq)), self.snd_nxt)

    def _send_limit(self) -> int:
        cwnd_edge = seqnum.add(self.snd_una, self.cwnd)
        return cwnd_edge if seqnum.lt(cwnd_edge, self.snd_right) else self.snd_right

    def _push(self, now: int) -> None:
        """Send what the windows, Nagle and SWS avoidance allow, then any pending ACK."""
        if self.state in SENDING_STATES:
            self._send_data(now)
        if self.ack_now and self.state in SYNCHRONIZED:
            self._emit(ACK, self.snd_nxt, b"", now)
        self._arm(now)

    def _send_data(self, now: int) -> None:
        mss = self.mss
        while True:
            unsent = self._unsent()
            if unsent <= 0:
                break
            usable = seqnum.diff(self._send_limit(), self.snd_nxt)
            n = min(unsent, mss, usable)
            if n <= 0:
                break
            if n < mss and self.flight > 0:
                if n < unsent and n < self.max_snd_wnd // 2:
                    break  # sender silly-window avoidance
                if not (self.config.nodelay or self.fin_queued):
                    break  # Nagle: one small segment in flight at a time
            self._send_segment(n, now)
        if (
            self.fin_queued
            and self._unsent() == 0
            and (self.fin_seq is None or self.snd_nxt == self.fin_seq)
            and self.state in SENDING_STATES
        ):
            seq = self.fin_seq = self.snd_nxt
            labels = self._retrans_labels(seq, 0)
            self.snd_nxt = seqnum.add(seq, 1)
            self._sent_to(self.snd_nxt)
            self._emit(FIN | ACK, seq, b"", now, labels)

    def _send_segment(self, n: int, now: int) -> None:
        seq = self.snd_nxt
        off = seqnum.diff(seq, self.sndq_seq)
        data = bytes(self.sndq[off : off + n])
        last = off + n == len(self.sndq)
        flags = ACK | PSH if last else ACK
        labels = self._retrans_labels(seq, n)
        if not labels and (
            seqnum.diff(seqnum.add(seq, n), self.peer_ack) == self.peer_win and n > 0
        ):
            labels = ("window_full",)
        if self.timed is None and not labels:
            self.timed = (seq, now)
        self.snd_nxt = seqnum.add(seq, n)
        if last and self.fin_queued and self.state in SENDING_STATES:
            flags |= FIN  # the FIN rides on the last data segment, as Linux does
            self.fin_seq = self.snd_nxt
            self.snd_nxt = seqnum.add(self.snd_nxt, 1)
        self._sent_to(self.snd_nxt)
        self._emit(flags, seq, data, now, labels)

    def _retrans_labels(self, seq: int, n: int) -> tuple[str, ...]:
        if seqnum.lt(seq, self.snd_high) and not (n > 1 and seqnum.diff(self.snd_high, seq) == 1):
            return ("retransmission",)
        return ()

    def _sent_to(self, end: int) -> None:
        self.snd_high = seqnum.latest(self.snd_high, end)
        self.snd_max = seqnum.latest(self.snd_max, end)

    def _send_syn(self, now: int, ack: bool = False) -> None:
        flags = SYN | ACK if ack else SYN
        labels = ("retransmission",) if self.snd_high != self.iss else ()
        if not labels:
            self.timed = (self.iss, now)
        self.snd_nxt = seqnum.add(self.iss, 1)
        self._sent_to(self.snd_nxt)
        self._emit(flags, self.iss, b"", now, labels)
        if self.rto_at is None:
            self.rto_at = now + self.rto

    def _emit(
        self, flags: int, seq: int, payload: bytes, now: int, labels: tuple[str, ...] = ()
    ) -> None:
        syn = bool(flags & SYN)
        if syn:
            window = min(self.config.rcvbuf, 0xFFFF)
            self.rcv_adv = seqnum.latest(self.rcv_adv, seqnum.add(self.rcv_nxt, window))
            scaled = window
        else:
            window = self._advertise()
            scaled = window << self.rcv_wscale
        ack = self.rcv_nxt if flags & ACK else 0
        if not flags & (SYN | FIN | RST):
            labels = labels + self._ack_labels(seq, payload, ack, scaled)
        seg = Segment(
            self.sport,
            self.dport,
            seq,
            ack,
            flags,
            window,
            payload,
            self.config.mss if syn else None,
            self.rcv_wscale if syn and self._offer_wscale(flags) else None,
            labels,
        )
        self.out.append((seg, self.view()))
        if flags & ACK:
            self.last_ack_sent = ack
            self.last_win_sent = scaled
            self.ack_now = False
            self.unacked_segments = 0
            self.delack_at = None

    def _offer_wscale(self, flags: int) -> bool:
        """A SYN offers window scaling if configured; a SYN-ACK only answers an offer."""
        return self.wscale_ok if flags & ACK else self.config.window_scaling

    def _ack_labels(self, seq: int, payload: bytes, ack: int, win: int) -> tuple[str, ...]:
        """tshark's window and duplicate-ACK verdicts, as this endpoint knows them."""
        labels: tuple[str, ...] = ("zero_window",) if win == 0 else ()
        if payload or seq != self.snd_high or ack != self.last_ack_sent:
            return labels
        if win == 0:
            if self.last_win_sent == 0 and self.probe_seen:
                labels += ("zero_window_probe_ack",)
        elif win != self.last_win_sent:
            labels += ("window_update",)
        else:
            labels += ("duplicate_ack",)
        return labels

    def _reset_reply(self, seg: Segment) -> None:
        """RST in answer to a segment that belongs to no connection (RFC 9293 3.10.7.1)."""
        if seg.flags & ACK:
            rst = Segment(self.sport, self.dport, seg.ack, 0, RST, 0)
        else:
            ack = seqnum.add(seg.seq, seg.seg_len)
            rst = Segment(self.sport, self.dport, 0, ack, RST | ACK, 0)
        self.out.append((rst, self.view()))

    def view(self) -> SenderView:
        """What this endpoint knows now: see :data:`SenderView`."""
        if self.state in (State.CLOSED, State.LISTEN, State.SYN_SENT):
            rwnd = UNKNOWN
        else:  # the peer's SYN told its window, usable once our SYN is acknowledged
            rwnd = self.snd_wnd if self.state is State.SYN_RECEIVED else self.rwnd
        return (self.flight, self.cwnd, rwnd, len(self.sndq), len(self.rcvq))

    def _arm(self, now: int) -> None:
        """Start or stop the retransmission, persist and delayed-ACK timers."""
        if self.state is State.CLOSED or self.state is State.TIME_WAIT:
            self.rto_at = self.persist_at = self.delack_at = None
            return
        if self.flight > 0:
            if self.rto_at is None:
                self.rto_at = now + self.rto
            self.persist_at = None
        else:
            self.rto_at = None
            if self._unsent() > 0 and self.state in SENDING_STATES:
                if self.persist_at is None:
                    self.persist_at = now + self._persist_interval()
            else:
                self.persist_at = None
                self.persist_backoff = 0
        if self.unacked_segments and self.delack_at is None:
            self.delack_at = now + int(self.config.delack_timeout * NS)

    def _transition(self, event: Event) -> None:
        old = self.state
        self.state = next_state(old, event)
        if self.state is not old:
            step = Step(old, event, self.state)
            self.path.append(step)
            self.notes.append(("state", str(step)))
        if self.state is State.CLOSED:
            self.rto_at = self.persist_at = self.delack_at = self.timewait_at = None
