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
* A valid RST, an abort (close() with unread data) or giving up on retransmissions closes
  every synchronized state at once.
"""

from __future__ import annotations

from enum import Enum, StrEnum

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


S, E = TcpState, Event

TRANSITIONS: dict[TcpState, dict[Event, TcpState]] = {
    S.CLOSED: {E.CONNECT: S.SYN_SENT, E.LISTEN: S.LISTEN},
    S.LISTEN: {E.RCV_SYN: S.SYN_RECEIVED, E.CLOSE: S.CLOSED, E.ABORT: S.CLOSED},
    S.SYN_SENT: {
        E.RCV_SYN_ACK: S.ESTABLISHED,
        E.RCV_SYN: S.SYN_RECEIVED,
        E.CLOSE: S.CLOSED,
        E.ABORT: S.CLOSED,
        E.RCV_RST: S.CLOSED,
        E.TIMEOUT: S.CLOSED,
    },
    S.SYN_RECEIVED: {
        E.RCV_ACK_OF_SYN: S.ESTABLISHED,
        E.CLOSE: S.FIN_WAIT_1,
        E.ABORT: S.CLOSED,
        E.RCV_RST: S.CLOSED,
        E.TIMEOUT: S.CLOSED,
    },
    S.ESTABLISHED: {
        E.CLOSE: S.FIN_WAIT_1,
        E.RCV_FIN: S.CLOSE_WAIT,
        E.ABORT: S.CLOSED,
        E.RCV_RST: S.CLOSED,
        E.TIMEOUT: S.CLOSED,
    },
    S.FIN_WAIT_1: {
        E.RCV_ACK_OF_FIN: S.FIN_WAIT_2,
        E.RCV_FIN: S.CLOSING,
        E.ABORT: S.CLOSED,
        E.RCV_RST: S.CLOSED,
        E.TIMEOUT: S.CLOSED,
    },
    S.FIN_WAIT_2: {
        E.RCV_FIN: S.TIME_WAIT,
        E.ABORT: S.CLOSED,
        E.RCV_RST: S.CLOSED,
        E.TIMEOUT: S.CLOSED,
    },
    S.CLOSE_WAIT: {
        E.CLOSE: S.LAST_ACK,
        E.ABORT: S.CLOSED,
        E.RCV_RST: S.CLOSED,
        E.TIMEOUT: S.CLOSED,
    },
    S.CLOSING: {
        E.RCV_ACK_OF_FIN: S.TIME_WAIT,
        E.ABORT: S.CLOSED,
        E.RCV_RST: S.CLOSED,
        E.TIMEOUT: S.CLOSED,
    },
    S.LAST_ACK: {
        E.RCV_ACK_OF_FIN: S.CLOSED,
        E.ABORT: S.CLOSED,
        E.RCV_RST: S.CLOSED,
        E.TIMEOUT: S.CLOSED,
    },
    S.TIME_WAIT: {E.TIMEOUT: S.CLOSED, E.RCV_RST: S.CLOSED, E.ABORT: S.CLOSED},
}

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
CAN_RECEIVE_DATA = frozenset({S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2})


def next_state(state: TcpState, event: Event) -> TcpState:
    """The state ``event`` leads to from ``state``; TransitionError if the table has no rule."""
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        raise TransitionError(f"{event.value} is not allowed in {state.value}") from None
