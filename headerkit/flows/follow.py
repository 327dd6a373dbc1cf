"""Follow one TCP stream: both directions reassembled, as ``tshark -z follow,tcp`` shows them.

Node 0 is the source of the stream's first packet, node 1 its peer.  Each direction has its
own :class:`~headerkit.flows.reassembly.Reassembler`; an ACK from one node tells the other
node's reassembler which bytes the receiver got, so bytes missing from the capture become a
:class:`~headerkit.flows.reassembly.Gap` as soon as they are acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from headerkit.flows.reassembly import HISTORY, MAX_BUFFER, Event, Reassembler
from headerkit.flows.table import Flow, FlowTable, Seen
from headerkit.packet.decode import Packet
from headerkit.schemas import tcp as t


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """What one packet (or the end of the capture) changed in one node's stream."""

    node: int
    event: Event


class StreamFollower:
    """Both directions of one TCP connection; :meth:`add` its packets in capture order."""

    def __init__(self, *, max_buffer: int = MAX_BUFFER, history: int = HISTORY) -> None:
        self.nodes = (
            Reassembler(max_buffer=max_buffer, history=history),
            Reassembler(max_buffer=max_buffer, history=history),
        )

    def add(self, seen: Seen) -> list[StreamEvent]:
        """One packet of the connection; the first one seen is node 0's."""
        seg = seen.packet.tcp
        if seg is None or seg.seq is None or seg.payload_length is None:
            return []
        node = 0 if seen.from_a else 1
        flags = seg.flags or 0
        out: list[StreamEvent] = []
        if flags & t.ACK and seg.ack is not None:
            out += [StreamEvent(1 - node, e) for e in self.nodes[1 - node].ack(seg.ack)]
        events = self.nodes[node].segment(
            seg.seq,
            seen.packet.payload,
            frame=seen.packet.number,
            syn=bool(flags & t.SYN),
            fin=bool(flags & t.FIN),
            length=seg.payload_length,
        )
        return out + [StreamEvent(node, e) for e in events]

    def finish(self) -> list[StreamEvent]:
        """The capture ended: what waited behind gaps, each node in turn."""
        return [StreamEvent(n, e) for n, r in enumerate(self.nodes) for e in r.finish()]


class FollowedStream:
    """The events of TCP stream ``stream`` (tshark's ``tcp.stream``) of a capture.

    Iterating runs the capture once through a flow table; :attr:`flow` is the stream's flow
    once its first packet has gone by (None if the capture has no such stream).
    """

    def __init__(
        self,
        packets: Iterable[Packet],
        stream: int,
        *,
        max_buffer: int = MAX_BUFFER,
        history: int = HISTORY,
    ) -> None:
        self.packets = packets
        self.stream = stream
        self.follower = StreamFollower(max_buffer=max_buffer, history=history)
        self.flow: Flow | None = None

    def __iter__(self) -> Iterator[StreamEvent]:
        table = FlowTable()
        for pkt in self.packets:
            seen = table.add(pkt)
            if seen is None or seen.flow.protocol != "tcp" or seen.flow.index != self.stream:
                continue
            self.flow = seen.flow
            yield from self.follower.add(seen)
        if self.flow is not None:
            yield from self.follower.finish()


def follow(
    packets: Iterable[Packet],
    stream: int,
    *,
    max_buffer: int = MAX_BUFFER,
    history: int = HISTORY,
) -> FollowedStream:
    """Follow TCP stream ``stream``: see :class:`FollowedStream`."""
    return FollowedStream(packets, stream, max_buffer=max_buffer, history=history)
