"""The record of a simulation: what happened, when and where, as typed entries.

Entries hold objects (segments, numbers); text is made only when asked for
(:mod:`headerkit.sim.report`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

from headerkit import seqnum
from headerkit.flows.flags import Analysis
from headerkit.packet.summary import option_text
from headerkit.sim.segment import Datagram, Packet, flag_text

SIDE_NAMES = "ab"
LABEL_TEXT = {
    Analysis.RETRANSMISSION: "retransmission",
    Analysis.FAST_RETRANSMISSION: "fast retransmission",
    Analysis.DUPLICATE_ACK: "duplicate ACK",
    Analysis.ZERO_WINDOW: "zero window",
    Analysis.ZERO_WINDOW_PROBE: "zero-window probe",
    Analysis.ZERO_WINDOW_PROBE_ACK: "zero-window probe ACK",
    Analysis.WINDOW_FULL: "window full",
    Analysis.WINDOW_UPDATE: "window update",
    Analysis.KEEP_ALIVE: "keep-alive",
    Analysis.KEEP_ALIVE_ACK: "keep-alive ACK",
}
"""The verdicts the simulator gives its segments, in words."""


def label_names(labels: Analysis) -> list[str]:
    """A segment's verdicts in words; a fast retransmission is not also named a plain one."""
    if labels & Analysis.FAST_RETRANSMISSION:
        labels &= ~Analysis.RETRANSMISSION
    return [text for flag, text in LABEL_TEXT.items() if flag in labels]


class Kind(Enum):
    SEND = "send"
    ARRIVE = "arrive"
    CALL = "call"
    RETURN = "return"
    STATE = "state"
    TIMER = "timer"
    DROP = "drop"
    LOSS = "loss"
    ABORT = "abort"


@dataclass
class Entry:
    """One thing that happened at ``time`` (ns) at side ``side`` (0 = a, 1 = b).

    SEND: ``packet`` left, ``view`` is the sender's (flight, cwnd, rwnd, sndbuf, rcvbuf) and
    ``text`` what the path did to it ("", "dropped", "lost", "delayed", "duplicated").
    ARRIVE: ``packet`` came in, ``view`` is the receiver's (rcvbuf, out-of-order, rwnd, cwnd).
    The other kinds carry ``text``.
    """

    time: int
    side: int
    kind: Kind
    packet: Packet | None = None
    view: tuple[int, ...] = ()
    text: str = ""

    def __init__(  # by hand: compiled, a generated __init__ would run as Python
        self,
        time: int,
        side: int,
        kind: Kind,
        packet: Packet | None = None,
        view: tuple[int, ...] = (),
        text: str = "",
    ) -> None:
        self.time, self.side, self.kind = time, side, kind
        self.packet, self.view, self.text = packet, view, text


def packets_sent(entries: Sequence[Entry]) -> Iterator[Entry]:
    """The SEND entries."""
    return (e for e in entries if e.kind is Kind.SEND)


def describe_packet(pkt: Packet, base: tuple[int, int]) -> str:
    """A packet in packetdrill / tcpdump words; TCP numbers relative to ``base`` (seq, ack)."""
    if isinstance(pkt, Datagram):
        shown = _data_text(pkt.payload)
        if pkt.is_fragment:
            more = "+" if pkt.more_fragments else ""
            return f"udp frag id {pkt.ident} off {pkt.offset}{more} ({len(pkt.payload)}) {shown}"
        return f"udp ({len(pkt.payload)}) {shown}"
    seq = seqnum.add(pkt.seq, -base[0])
    end = seq + len(pkt.payload)
    parts = [f"{flag_text(pkt.flags)} {seq}:{end}({len(pkt.payload)})"]
    if pkt.flags & 0x10:
        parts.append(f"ack {seqnum.add(pkt.ack, -base[1])}")
    parts.append(f"win {pkt.window}")
    options = pkt.options(base[1])
    if options:
        parts.append("<" + ",".join(option_text(o) for o in options) + ">")
    if pkt.payload:
        parts.append(_data_text(pkt.payload))
    return " ".join(parts)


def _data_text(data: bytes) -> str:
    if len(data) <= 16 and all(32 <= c < 127 for c in data):
        return repr(data.decode())
    return ""
