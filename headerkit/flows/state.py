"""Connection state from the flags a capture shows: RFC 9293 states per side, Zeek's summary.

A capture only shows segments, so a side's state is the one RFC 9293 section 3.3.2 puts it
in after the segments seen so far: SYN-SENT after its SYN, SYN-RECEIVED after its SYN,ACK,
ESTABLISHED once its SYN is answered (or assumed, when the handshake was not captured),
FIN-WAIT-1/2, CLOSE-WAIT, CLOSING, LAST-ACK and TIME-WAIT as the FINs and their ACKs go by,
CLOSED after a RST.

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
from headerkit.flows.analysis import Analysis
from headerkit.schemas import tcp as t
from headerkit.tcp_states import TcpState


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


@dataclass(slots=True)
class Side:
    """What one side sent: its ISN (SYN seen), FIN and RST, and its Zeek endpoint state."""

    syn: bool = False  # sent a SYN without ACK
    synack: bool = False  # sent a SYN,ACK
    isn: int | None = None
    fin_seq: int | None = None  # sequence number of its FIN
    fin_acked: bool = False
    rst: bool = False
    sent: bool = False
    payload: int = 0
    zeek: _Zeek = _Zeek.INACTIVE
    letters: dict[str, int] = field(default_factory=dict)

    @property
    def syn_seen(self) -> bool:
        return self.syn or self.synack


class Connection:
    """The observed state of one TCP connection; :meth:`update` it with each segment.

    Sides are ``0`` (address A, the source of the first segment) and ``1``.
    """

    def __init__(self) -> None:
        self.sides = (Side(), Side())
        self.originator: int | None = None  # Zeek's originator, decided by the first segment
        self.history = ""
        self._fin_order: list[int] = []  # sides in the order they sent FIN
        self._established = [False, False]

    def update(self, side: int, flags: int, seq: int, ack: int, seglen: int) -> None:
        """Take one segment sent by ``side``; ``seglen`` counts its payload bytes."""
        me, peer = self.sides[side], self.sides[1 - side]
        if self.originator is None:
            flipped = flags & (t.SYN | t.ACK) == t.SYN | t.ACK
            self.originator = 1 - side if flipped else side
            self.history = "^" if flipped else ""
        me.sent = True
        me.payload += seglen
        if flags & t.SYN:
            if flags & t.ACK:
                me.synack = True
            else:
                me.syn = True
            me.isn = seq
        if flags & t.ACK:
            if peer.isn is not None and ack == seqnum.add(peer.isn, 1):
                self._established[1 - side] = True
            if peer.fin_seq is not None and seqnum.ge(ack, seqnum.add(peer.fin_seq, 1)):
                peer.fin_acked = True
        if flags & t.FIN and me.fin_seq is None:
            me.fin_seq = seqnum.add(seq, seglen + bool(flags & t.SYN))
            self._fin_order.append(side)
        if flags & t.RST:
            me.rst = True
        self._zeek_state(me, peer, flags, seglen)

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
        me, peer = self.sides[side], self.sides[1 - side]
        if self.reset:
            return TcpState.CLOSED
        if me.fin_seq is not None and peer.fin_seq is not None:
            if self._fin_order[0] != side:
                return TcpState.CLOSED if me.fin_acked else TcpState.LAST_ACK
            return TcpState.TIME_WAIT if me.fin_acked else TcpState.CLOSING
        if me.fin_seq is not None:
            return TcpState.FIN_WAIT_2 if me.fin_acked else TcpState.FIN_WAIT_1
        if peer.fin_seq is not None:
            return TcpState.CLOSE_WAIT
        if me.syn and not peer.synack and not self._established[side]:
            return TcpState.SYN_SENT
        if me.synack and not self._established[side]:
            return TcpState.SYN_RECEIVED
        if not me.sent and peer.syn:
            return TcpState.LISTEN
        return TcpState.ESTABLISHED

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
