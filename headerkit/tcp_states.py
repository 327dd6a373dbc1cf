"""The 11 TCP connection states of RFC 9293, their events and the table of their transitions.

This module is the one home of TCP state knowledge: the simulator and flow tracking both
look transitions up here.

Rules, as RFC 9293 section 3.3.2 draws them (h11 style: the table is the whole truth, the
endpoint only looks transitions up and refuses the ones that are not there):

* An application opens a connection actively (``CONNECT``: CLOSED -> SYN-SENT, a SYN goes
  out) or passively (``LISTEN``: CLOSED -> LISTEN).
* A SYN received in LISTEN, or in SYN-SENT (simultaneous open), leads to SYN-RECEIVED; a
  SYN-ACK received in SYN-SENT, or the ACK of our SYN in SYN-RECEIVED, to ESTABLISHED.
* ``CLOSE`` (close() or shutdown(SHUT_WR)) sends a FIN: ESTABLISHED and SYN-RECEIVED go to
  FIN-WAIT-1, CLOSE-WAIT to LAST-ACK; before a SYN went out it just closes.
* The peer's FIN moves ESTABLISHED to CLOSE-WAIT, FIN-WAIT-1 to CLOSING (simultaneous close)
  and FIN-WAIT-2 to TIME-WAIT (a FIN that also acknowledges ours is taken as the ACK, then
  the FIN: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT).
* The ACK of our FIN moves FIN-WAIT-1 to FIN-WAIT-2, CLOSING to TIME-WAIT, LAST-ACK to CLOSED.
* TIME-WAIT lasts 2*MSL, then CLOSED.
* A valid RST, an abort (close() with unread data, which sends a RST from a synchronized
  state) or giving up on retransmissions closes every state at once.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import NamedTuple

from headerkit.errors import TransitionError


class TcpState(StrEnum):
    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"


class Event(Enum):
    CONNECT = "connect"
    LISTEN = "listen"
    CLOSE = "close"
    ABORT = "abort"
    RCV_SYN = "SYN"
    RCV_SYN_ACK = "SYN-ACK"
    RCV_ACK_OF_SYN = "ACK of SYN"
    RCV_FIN = "FIN"
    RCV_ACK_OF_FIN = "ACK of FIN"
    RCV_RST = "RST"
    TIMEOUT = "timeout"


class Rule(NamedTuple):
    """Where an event leads, and the segment the endpoint sends on the way ("" for none),
    as RFC 9293's Figure 5 labels its arrows ("rcv SYN / snd SYN,ACK")."""

    to: TcpState
    send: str = ""


class Step(NamedTuple):
    """One transition an endpoint took; ``event`` is None where it was assumed (a capture
    that began after the handshake)."""

    before: TcpState
    event: Event | None
    after: TcpState

    def __str__(self) -> str:
        why = self.event.value if self.event is not None else "assumed"
        return f"{self.before.value} -> {self.after.value} ({why})"


S, E = TcpState, Event
_LOST = {E.ABORT: Rule(S.CLOSED), E.RCV_RST: Rule(S.CLOSED), E.TIMEOUT: Rule(S.CLOSED)}
_RESET = {**_LOST, E.ABORT: Rule(S.CLOSED, "RST")}  # a synchronized side aborts with a RST

TRANSITIONS: dict[TcpState, dict[Event, Rule]] = {
    S.CLOSED: {E.CONNECT: Rule(S.SYN_SENT, "SYN"), E.LISTEN: Rule(S.LISTEN)},
    S.LISTEN: {
        E.RCV_SYN: Rule(S.SYN_RECEIVED, "SYN,ACK"),
        E.CLOSE: Rule(S.CLOSED),
        E.ABORT: Rule(S.CLOSED),
    },
    S.SYN_SENT: {
        E.RCV_SYN_ACK: Rule(S.ESTABLISHED, "ACK"),
        E.RCV_SYN: Rule(S.SYN_RECEIVED, "SYN,ACK"),
        E.CLOSE: Rule(S.CLOSED),
        **_LOST,
    },
    S.SYN_RECEIVED: {
        E.RCV_ACK_OF_SYN: Rule(S.ESTABLISHED),
        E.CLOSE: Rule(S.FIN_WAIT_1, "FIN"),
        **_RESET,
    },
    S.ESTABLISHED: {
        E.CLOSE: Rule(S.FIN_WAIT_1, "FIN"),
        E.RCV_FIN: Rule(S.CLOSE_WAIT, "ACK"),
        **_RESET,
    },
    S.FIN_WAIT_1: {
        E.RCV_ACK_OF_FIN: Rule(S.FIN_WAIT_2),
        E.RCV_FIN: Rule(S.CLOSING, "ACK"),
        **_RESET,
    },
    S.FIN_WAIT_2: {E.RCV_FIN: Rule(S.TIME_WAIT, "ACK"), **_RESET},
    S.CLOSE_WAIT: {E.CLOSE: Rule(S.LAST_ACK, "FIN"), **_RESET},
    S.CLOSING: {E.RCV_ACK_OF_FIN: Rule(S.TIME_WAIT), **_RESET},
    S.LAST_ACK: {E.RCV_ACK_OF_FIN: Rule(S.CLOSED), **_RESET},
    S.TIME_WAIT: {E.TIMEOUT: Rule(S.CLOSED), E.RCV_RST: Rule(S.CLOSED), E.ABORT: Rule(S.CLOSED)},
}
"""Every transition: state, then event, then where it leads (and what is sent)."""

SYNCHRONIZED = frozenset(
    {
        S.ESTABLISHED,
        S.FIN_WAIT_1,
        S.FIN_WAIT_2,
        S.CLOSE_WAIT,
        S.CLOSING,
        S.LAST_ACK,
        S.TIME_WAIT,
    }
)
"""States in which both sequence spaces are known (RFC 9293 section 3.5)."""

CAN_SEND_DATA = frozenset({S.ESTABLISHED, S.CLOSE_WAIT})
NOT_OPENED = frozenset({S.CLOSED, S.LISTEN})
"""States before a SYN is sent: the options that shape it (TCP_MAXSEG, SO_RCVBUF) still apply."""
CAN_RECEIVE_DATA = frozenset({S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2})


def next_state(state: TcpState, event: Event) -> TcpState:
    """The state ``event`` leads to from ``state``; TransitionError if the table has no rule."""
    try:
        return TRANSITIONS[state][event].to
    except KeyError:
        raise TransitionError(f"{event.value} is not allowed in {state.value}") from None
