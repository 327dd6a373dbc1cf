"""Connection state from the flags a capture shows: RFC 9293 states per side, Zeek's summary.

A capture only shows segments, so each side's RFC 9293 state is followed through the
transition table of :mod:`headerkit.tcp_states` with the events the segments imply.  What a
side sends changes its state at once (a SYN is ``connect``, a FIN is ``close``, a RST an
abort).  What it receives counts only once it is seen to have arrived: a segment that takes
sequence space (SYN, FIN) when the receiver's own ACK covers it, an ACK or RST at once unless
it queues behind such a segment.  So FINs that cross (a simultaneous close: neither
acknowledges the other) take both sides through CLOSING, as they did on the wire.  A side
that was sent a SYN and has not answered is shown in LISTEN; a connection caught after its
handshake starts ESTABLISHED on both sides.

Zeek's ``conn_state`` (``S0``, ``S1``, ``SF``, ``REJ``, ``S2``, ``S3``, ``RSTO``, ``RSTR``,
``RSTOS0``, ``RSTRH``, ``SH``, ``SHR``, ``OTH``) and ``history`` summarise the same
segments.  The originator is the source of the first segment, or its peer when that
segment is a SYN,ACK (history then starts with ``^``).  History letters are upper case for
the originator and lower case for the responder: ``S`` SYN, ``H`` SYN,ACK, ``A`` pure ACK,
``D`` data, ``F`` FIN, ``R`` RST, ``C`` bad checksum (the segment still counts, unlike in
Zeek), ``G`` a gap (tshark's lost or ACKed-unseen segment), ``T`` retransmission, ``W``
zero window, ``I`` FIN with RST, ``Q`` SYN with FIN or RST.  Each letter is logged once per
side, except ``C``, ``G``, ``T`` and ``W``, logged again at the 10th, 100th, ... time.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from headerkit import seqnum
from headerkit.flows.flags import Analysis
from headerkit.schemas import tcp as t
from headerkit.tcp_states import TRANSITIONS, Event, Step, TcpState


class _Zeek(enum.Enum):
    """Zeek's endpoint states, from which ``conn_state`` is derived."""

    INACTIVE = enum.auto()
    SYN_SENT = enum.auto()
    SYN_ACK_SENT = enum.auto()
    PARTIAL = enum.auto()
    ESTABLISHED = enum.auto()
    CLOSED = enum.auto()
    RESET = enum.auto()


# Letters Zeek logs again at the 10th, 100th, ... time: checksum, gap, retransmission, window.
_REPEATED = "CGTW"
_RETRANSMITTED = (
    Analysis.RETRANSMISSION | Analysis.FAST_RETRANSMISSION | Analysis.SPURIOUS_RETRANSMISSION
)
_RSTOS0 = re.compile(r"\^?S[^HAFGIQ]*R.*")
_MAX_PATH = 32  # transitions kept per side: a hostile capture cannot grow it
_MAX_ARRIVING = 8  # segments that wait to be seen taken, per side


@dataclass(frozen=True, slots=True)
class _Arrival:
    """A segment whose arrival can change its receiver's state."""

    flags: int
    ack: int
    end: int | None  # the ACK that covers it, for a SYN or FIN; None for an ACK or RST


@dataclass(slots=True)
class Side:
    """What one side sent (ISN, FIN, RST), its RFC 9293 state with the path that led there,
    and its Zeek endpoint state."""

    syn: bool = False  # sent a SYN without ACK
    synack: bool = False  # sent a SYN,ACK
    isn: int | None = None
    fin_seq: int | None = None  # sequence number of its FIN
    rst: bool = False
    sent: bool = False
    payload: int = 0
    tcp: TcpState = TcpState.CLOSED
    path: list[Step] = field(default_factory=list)
    arriving: list[_Arrival] = field(default_factory=list)  # sent to it, not yet seen taken
    zeek: _Zeek = _Zeek.INACTIVE
    letters: dict[str, int] = field(default_factory=dict)

    @property
    def syn_seen(self) -> bool:
        return self.syn or self.synack

    def take(self, event: Event | None, to: TcpState | None = None) -> None:
        """Move along the transition table's ``event`` (ignored where the table has no
        rule: a capture shows what it shows), or to ``to`` when assumed without an event."""
        rule = TRANSITIONS[self.tcp].get(event) if event is not None else None
        target = rule.to if rule is not None else to if event is None else None
        if target is None:
            return
        if len(self.path) < _MAX_PATH:
            self.path.append(Step(self.tcp, event, target))
        self.tcp = target


class Connection:
    """The observed state of one TCP connection; :meth:`update` it with each segment.

    Sides are ``0`` (address A, the source of the first segment) and ``1``.
    """

    def __init__(self) -> None:
        self.sides = (Side(), Side())
        self.originator: int | None = None  # Zeek's originator, decided by the first segment
        self.history = ""
        self._fin_order: list[int] = []  # sides in the order they sent FIN

    def update(self, side: int, flags: int, seq: int, ack: int, seglen: int) -> None:
        """Take one segment sent by ``side``; ``seglen`` counts its payload bytes."""
        me, peer = self.sides[side], self.sides[1 - side]
        if self.originator is None:
            flipped = flags & (t.SYN | t.ACK) == t.SYN | t.ACK
            self.originator = 1 - side if flipped else side
            self.history = "^" if flipped else ""
        me.sent = True
        me.payload += seglen
        self._rfc_state(me, peer, flags, seq, ack, seglen)
        if flags & t.SYN:
            if flags & t.ACK:
                me.synack = True
            else:
                me.syn = True
            me.isn = seq
        if flags & t.FIN and me.fin_seq is None:
            me.fin_seq = seqnum.add(seq, seglen + bool(flags & t.SYN))
            self._fin_order.append(side)
        if flags & t.RST:
            me.rst = True
        self._zeek_state(me, peer, flags, seglen)

    def _rfc_state(self, me: Side, peer: Side, flags: int, seq: int, ack: int, seglen: int) -> None:
        if flags & t.RST:
            me.take(Event.ABORT)
            peer.take(Event.RCV_RST)
            me.arriving.clear()
            peer.arriving.clear()
            return
        if flags & t.ACK:
            _taken(me, ack)
        if not flags & t.SYN and me.tcp is TcpState.CLOSED and not me.arriving:
            me.take(None, TcpState.ESTABLISHED)  # caught after the handshake
            if peer.tcp is TcpState.CLOSED and not peer.arriving:
                peer.take(None, TcpState.ESTABLISHED)
        if flags & t.SYN and not flags & t.ACK:
            me.take(Event.CONNECT)
        elif flags & t.SYN and me.tcp is TcpState.CLOSED:  # it took a SYN we did not see
            me.take(Event.LISTEN)
            me.take(Event.RCV_SYN)
        if flags & t.FIN and me.fin_seq is None:
            me.take(Event.CLOSE)
        # what the peer will take: a SYN or FIN once acknowledged, the ACK of its own SYN or
        # FIN once nothing it must take first is waiting
        end: int | None = None
        if flags & (t.SYN | t.FIN):
            end = seqnum.add(seq, seglen + bool(flags & t.SYN) + bool(flags & t.FIN))
        arrival = _Arrival(flags, ack, end)
        if end is None and not (flags & t.ACK and _acknowledged(peer, ack)):
            return
        waiting = peer.arriving
        if end is None and waiting and waiting[-1].end is None:
            waiting[-1] = arrival  # a later ACK says all an earlier one did
        elif arrival not in waiting and len(waiting) < _MAX_ARRIVING:
            waiting.append(arrival)
        _taken(peer, None)

    def _zeek_state(self, me: Side, peer: Side, flags: int, seglen: int) -> None:
        if flags & t.RST:
            me.zeek = _Zeek.RESET
        elif me.zeek is _Zeek.RESET:
            return
        elif flags & t.FIN:
            me.zeek = _Zeek.CLOSED
        elif me.zeek is _Zeek.CLOSED:
            return
        elif flags & t.SYN:
            if not flags & t.ACK:
                if me.zeek is _Zeek.INACTIVE:
                    me.zeek = _Zeek.SYN_SENT
            elif peer.zeek is _Zeek.SYN_SENT:  # Zeek's connection_established
                me.zeek = peer.zeek = _Zeek.ESTABLISHED
            elif me.zeek in (_Zeek.INACTIVE, _Zeek.SYN_SENT):
                me.zeek = _Zeek.SYN_ACK_SENT
        elif me.zeek is _Zeek.INACTIVE:
            me.zeek = _Zeek.PARTIAL
        elif (
            me.zeek in (_Zeek.SYN_SENT, _Zeek.SYN_ACK_SENT)
            and (flags & t.ACK or seglen)
            and peer.zeek not in (_Zeek.INACTIVE, _Zeek.SYN_SENT)
        ):
            me.zeek = _Zeek.ESTABLISHED

    def mark(
        self, side: int, flags: int, seglen: int, analysis: Analysis, bad_checksum: bool
    ) -> None:
        """Add the history letters of one segment sent by ``side``."""
        for letter in _letters(flags, seglen, analysis, bad_checksum):
            self._log(side, letter)
        if analysis & Analysis.ACK_LOST_SEGMENT:
            self._log(1 - side, "G")

    def _log(self, side: int, letter: str) -> None:
        seen = self.sides[side].letters
        count = seen[letter] = seen.get(letter, 0) + 1
        if count == 1 or (letter in _REPEATED and _power_of_ten(count)):
            self.history += letter if side == self.originator else letter.lower()

    @property
    def handshake_seen(self) -> bool:
        """Both SYNs were captured."""
        return self.sides[0].syn_seen and self.sides[1].syn_seen

    @property
    def half_closed(self) -> bool:
        """Exactly one side has sent a FIN (and no RST was seen)."""
        return len(self._fin_order) == 1 and not self.reset

    @property
    def reset(self) -> bool:
        return self.sides[0].rst or self.sides[1].rst

    def state(self, side: int) -> TcpState:
        """The RFC 9293 state ``side`` is in after the segments seen so far."""
        me = self.sides[side]
        if me.tcp is TcpState.CLOSED and not me.sent and me.arriving:
            return TcpState.LISTEN  # sent a SYN, not answered yet
        return me.tcp

    def path(self, side: int) -> list[Step]:
        """The transitions ``side`` took, in order."""
        return list(self.sides[side].path)

    @property
    def conn_state(self) -> str:
        """Zeek's ``conn_state`` summary of the connection."""
        if self.originator is None:
            return "OTH"
        orig, resp = self.sides[self.originator], self.sides[1 - self.originator]
        os, rs = orig.zeek, resp.zeek
        inactive = (_Zeek.INACTIVE, _Zeek.PARTIAL)
        if rs is _Zeek.RESET:
            if os in (_Zeek.SYN_SENT, _Zeek.SYN_ACK_SENT) or (
                os is _Zeek.RESET and orig.payload == 0 and resp.payload == 0
            ):
                return "REJ"
            return "RSTRH" if os in inactive else "RSTR"
        if os is _Zeek.RESET:
            if rs in inactive:
                return "RSTOS0" if _RSTOS0.fullmatch(self.history) else "OTH"
            return "RSTO"
        if os is _Zeek.CLOSED and rs is _Zeek.CLOSED:
            return "SF"
        if os is _Zeek.CLOSED:
            return "SH" if rs in inactive else "S2"
        if rs is _Zeek.CLOSED:
            return "SHR" if os in inactive else "S3"
        if os is _Zeek.SYN_SENT and rs is _Zeek.INACTIVE:
            return "S0"
        if os is _Zeek.ESTABLISHED and rs is _Zeek.ESTABLISHED:
            return "S1"
        return "OTH"


def _taken(side: Side, ack: int | None) -> None:
    """Let ``side`` take what arrived for it, in order: a SYN or FIN once ``ack`` (its own
    acknowledgment) covers it, an ACK as soon as nothing is waiting before it."""
    while side.arriving:
        arrival = side.arriving[0]
        if arrival.end is not None and (ack is None or seqnum.lt(ack, arrival.end)):
            return
        side.arriving.pop(0)
        for event in _events(side, arrival):
            side.take(event)


def _covers(ack: int, seq: int | None) -> bool:
    """``ack`` acknowledges the SYN or FIN at ``seq``."""
    return seq is not None and seqnum.ge(ack, seqnum.add(seq, 1))


def _acknowledged(side: Side, ack: int) -> bool:
    """``ack`` acknowledges the SYN or FIN ``side`` sent."""
    return _covers(ack, side.isn) or _covers(ack, side.fin_seq)


def _events(side: Side, arrival: _Arrival) -> list[Event]:
    """The events a segment is for its receiver, in the order RFC 9293 processes them: the
    acknowledgment first, then the SYN or FIN."""
    flags, events = arrival.flags, []
    if flags & t.ACK:
        if _covers(arrival.ack, side.isn):
            synack = flags & t.SYN and side.tcp is TcpState.SYN_SENT
            events.append(Event.RCV_SYN_ACK if synack else Event.RCV_ACK_OF_SYN)
        if _covers(arrival.ack, side.fin_seq):
            events.append(Event.RCV_ACK_OF_FIN)
    if flags & t.SYN and not flags & t.ACK:
        if side.tcp is TcpState.CLOSED:
            events.append(Event.LISTEN)  # a SYN answered: its receiver was listening
        events.append(Event.RCV_SYN)
    if flags & t.FIN:
        events.append(Event.RCV_FIN)
    return events


def _letters(flags: int, seglen: int, analysis: Analysis, bad_checksum: bool) -> str:
    out = ""
    if bad_checksum:
        out += "C"
    if flags & t.SYN:
        out += "Q" if flags & (t.FIN | t.RST) else "H" if flags & t.ACK else "S"
    elif flags & t.FIN and flags & t.RST:
        out += "I"
    else:
        out += "F" if flags & t.FIN else ""
        out += "R" if flags & t.RST else ""
    if seglen:
        out += "D"
    elif flags & t.ACK and not flags & (t.SYN | t.FIN | t.RST):
        out += "A"
    if analysis & _RETRANSMITTED:
        out += "T"
    if analysis & Analysis.LOST_SEGMENT:
        out += "G"
    if analysis & Analysis.ZERO_WINDOW:
        out += "W"
    return out


def _power_of_ten(n: int) -> bool:
    while n % 10 == 0:
        n //= 10
    return n == 1
