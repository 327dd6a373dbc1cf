"""The flow table: TCP and UDP conversations keyed by their 5-tuple, fed one packet at a time.

A conversation is what tshark calls one: the pair of (address, port) endpoints, whichever
way a packet goes.  Address A is the source of its first packet.  Conversations are numbered
per protocol in the order they first appear, as tshark's ``tcp.stream`` and ``udp.stream``
are; a SYN that reuses the ports of an earlier TCP conversation with a new initial sequence
number starts a new one (``tcp.analysis.reused_ports``).

The table is sans-IO: :meth:`FlowTable.add` takes a decoded packet and returns what it
learnt (:class:`Seen`).  Each flow holds counters, its connection state and its sequence
analysis (about 2 KB), so memory grows with the number of flows, not with their length; and
it is bounded, as Zeek and tshark bound theirs: at most ``max_flows`` flows keep their state
(the least recently active one gives it up first, and so does any flow idle longer than
``idle_timeout`` seconds).  A flow that gave up its state keeps its counters (for the
conversation tables) but not its analysis; a later packet of it starts a new stream. The table
says when it dropped state (a :class:`~headerkit.errors.HeaderkitWarning`, and ``dropped``).
"""

from __future__ import annotations

import ipaddress
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from headerkit.errors import HeaderkitWarning
from headerkit.flows.analysis import SegmentAnalysis, TcpAnalyzer
from headerkit.flows.flags import NO_FLAGS, Analysis
from headerkit.flows.state import Connection
from headerkit.packet.decode import Packet
from headerkit.packet.ip_options import home_address, routing_final_destination
from headerkit.packet.layers import TCP, UDP, IPv4, IPv6, ntop
from headerkit.schemas import tcp as t
from headerkit.schemas.checksum import ChecksumStatus

Protocol = Literal["tcp", "udp"]


@dataclass(frozen=True, slots=True, order=True)
class Endpoint:
    """One end of a conversation; prints as tshark does (``2001:db8::1:80`` for IPv6 too)."""

    address: str
    port: int

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"


@dataclass(slots=True)
class Traffic:
    """What one direction carried: frames, their bytes on the wire, and payload bytes."""

    packets: int = 0
    bytes: int = 0
    payload: int = 0


@dataclass(slots=True)
class Flow:
    """One conversation: its endpoints, stream index, times and traffic each way.

    ``a_to_b`` counts the packets from :attr:`a` (the source of the first packet), like the
    "->" columns of ``tshark -z conv,tcp``.  TCP flows also carry their :class:`Connection`
    state and their tshark sequence analysis.
    """

    protocol: Protocol
    index: int
    a: Endpoint
    b: Endpoint
    first_ns: int
    last_ns: int
    a_to_b: Traffic = field(default_factory=Traffic)
    b_to_a: Traffic = field(default_factory=Traffic)
    connection: Connection | None = None
    analyzer: TcpAnalyzer | None = None
    sides: tuple[int, int] = (0, 1)  # tshark's flow1/flow2 for A->B and B->A packets
    counted_from_a: bool = True  # the first packet counted came from A (see conversations)
    seen_ns: int = 0  # the last packet's time, for expiry

    @property
    def packets(self) -> int:
        return self.a_to_b.packets + self.b_to_a.packets

    @property
    def duration_ns(self) -> int:
        return self.last_ns - self.first_ns

    def traffic(self, from_a: bool) -> Traffic:
        return self.a_to_b if from_a else self.b_to_a


@dataclass(frozen=True, slots=True)
class Seen:
    """One packet as the table saw it: its flow, its direction and tshark's analysis."""

    packet: Packet
    flow: Flow
    from_a: bool
    analysis: SegmentAnalysis | None = None

    def fields(self, *, relative: bool = True) -> dict[str, Any]:
        """The per-packet fields under tshark's names (``tcp.stream``, ``tcp.analysis.*``...)."""
        out: dict[str, Any] = {f"{self.flow.protocol}.stream": self.flow.index}
        if self.analysis is not None:
            out.update(self.analysis.fields(relative=relative))
        return out


MAX_FLOWS = 100_000  # flows that keep their state at once: about 200 MB
NS = 1_000_000_000


class FlowTable:
    """Every TCP and UDP conversation of a capture, in the order tshark numbers them.

    ``max_flows`` and ``idle_timeout`` (seconds, None: never) bound the state kept (see the
    module docstring); ``keep=False`` keeps no list of past flows (for per-packet fields,
    which need only the flows still open), so memory is bounded by ``max_flows`` alone.
    """

    def __init__(
        self,
        *,
        max_flows: int = MAX_FLOWS,
        idle_timeout: float | None = None,
        keep: bool = True,
    ) -> None:
        if max_flows < 1:
            raise ValueError(f"max_flows must be at least 1, not {max_flows}")
        self.tcp: list[Flow] = []
        self.udp: list[Flow] = []
        self.first_ns: int | None = None  # the capture's first packet, any protocol
        self.max_flows = max_flows
        self.idle_ns = None if idle_timeout is None else int(idle_timeout * NS)
        self.keep = keep
        self.dropped = 0  # flows that gave up their state
        self._counts = {"tcp": 0, "udp": 0}
        # open flows, least recently active first
        self._open: OrderedDict[tuple[Protocol, Endpoint, Endpoint], Flow] = OrderedDict()

    def add(self, pkt: Packet) -> Seen | None:
        """Account for one packet; what it was seen as in its innermost conversation, or
        None when it has no TCP/UDP header tshark would track."""
        seen = self.add_all(pkt)
        return seen[-1] if seen else None

    def add_all(self, pkt: Packet) -> list[Seen]:
        """Account for one packet in every conversation it belongs to, outermost first (a
        tunnel's UDP and the TCP inside it, as tshark counts both)."""
        if self.first_ns is None:
            self.first_ns = pkt.timestamp_ns
        found = []
        for ip, seg in pkt.conversations():
            seen = self._add(pkt, ip, seg)
            if seen is not None:
                found.append(seen)
        return found

    def _add(self, pkt: Packet, ip: IPv4 | IPv6, seg: TCP | UDP) -> Seen | None:
        ends = _endpoints(ip, seg)
        if ends is None:
            return None
        src, dst = ends
        ts = pkt.timestamp_ns or 0
        if isinstance(seg, UDP):
            flow, from_a = self._flow("udp", src, dst, ts)
            self._count(flow, from_a, pkt, seg.payload_length or 0)
            return Seen(pkt, flow, from_a)
        return self._tcp(pkt, seg, src, dst, ts)

    def _tcp(self, pkt: Packet, seg: TCP, src: Endpoint, dst: Endpoint, ts: int) -> Seen:
        flow, from_a = self._flow("tcp", src, dst, ts)
        analyzer, conn = _tcp_state(flow)
        flags, extra = seg.flags or 0, NO_FLAGS
        side = flow.sides[0 if from_a else 1]
        base = analyzer.sides[side].base_seq
        if flags & t.SYN and base is not None and seg.seq != base:
            # A new ISN on known ports: a SYN starts a new conversation, a SYN,ACK is flagged.
            extra = Analysis.REUSED_PORTS
            if flags & t.ACK:
                analyzer.sides[side].base_seq = seg.seq
            else:
                flow, from_a = self._new("tcp", src, dst, ts), True
                analyzer, conn = _tcp_state(flow)
                side = flow.sides[0]
        seglen = seg.payload_length
        analysis = analyzer.segment(side, seg, seglen, ts, extra, pkt.number or 0)
        if seglen is not None:
            node = 0 if from_a else 1
            conn.update(node, flags, seg.seq or 0, seg.ack or 0, seglen)
            bad = seg.checksum_status is ChecksumStatus.BAD
            conn.mark(node, flags, seglen, analysis.flags, bad)
        self._count(flow, from_a, pkt, seglen or 0)
        return Seen(pkt, flow, from_a, analysis)

    def lookup(self, pkt: Packet) -> Flow | None:
        """The open flow of ``pkt``'s innermost conversation, changing nothing (None if it
        starts a new one)."""
        pairs = pkt.conversations()
        ends = _endpoints(*pairs[-1]) if pairs else None
        if ends is None:
            return None
        proto: Protocol = "tcp" if isinstance(pairs[-1][1], TCP) else "udp"
        return self._open.get(_key(proto, *ends))

    def _flow(self, proto: Protocol, src: Endpoint, dst: Endpoint, ts: int) -> tuple[Flow, bool]:
        key = _key(proto, src, dst)
        flow = self._open.get(key)
        if flow is None:
            return self._new(proto, src, dst, ts), True
        self._open.move_to_end(key)
        flow.seen_ns = ts
        return flow, src == flow.a

    def _new(self, proto: Protocol, src: Endpoint, dst: Endpoint, ts: int) -> Flow:
        self._expire(ts)
        index = self._counts[proto]
        self._counts[proto] += 1
        flow = Flow(proto, index, src, dst, ts, ts, sides=tshark_sides(src, dst))
        flow.seen_ns = ts
        if proto == "tcp":
            flow.connection, flow.analyzer = Connection(), TcpAnalyzer()
        if self.keep:
            (self.tcp if proto == "tcp" else self.udp).append(flow)
        key = _key(proto, src, dst)
        self._open.pop(key, None)
        self._open[key] = flow
        return flow

    def _expire(self, now: int) -> None:
        """Make room for one more flow: drop the state of the least recently active flows
        past ``max_flows``, and of every flow idle longer than the timeout."""
        dropped = 0
        while self._open:
            key, oldest = next(iter(self._open.items()))
            idle = self.idle_ns is not None and now - oldest.seen_ns > self.idle_ns
            if not idle and len(self._open) < self.max_flows:
                break
            del self._open[key]
            oldest.connection = oldest.analyzer = None
            dropped += 1
        if dropped and not self.dropped:
            warnings.warn(
                f"flows: more than {self.max_flows} flows (or flows idle longer than the "
                "timeout): the least recently active give up their state; later packets "
                "of them start new streams",
                HeaderkitWarning,
                stacklevel=4,
            )
        self.dropped += dropped

    @staticmethod
    def _count(flow: Flow, from_a: bool, pkt: Packet, payload: int) -> None:
        if pkt.payload_offset is None:
            return  # tshark's conversation table skips a packet whose header it could not read
        ts = pkt.timestamp_ns or 0
        if flow.packets == 0:
            flow.first_ns = flow.last_ns = ts
            flow.counted_from_a = from_a
        traffic = flow.traffic(from_a)
        traffic.packets += 1
        traffic.bytes += pkt.wirelen
        traffic.payload += payload
        flow.first_ns = min(flow.first_ns, ts)
        flow.last_ns = max(flow.last_ns, ts)

    def conversations(self, protocol: Protocol = "tcp") -> list[Flow]:
        """The flows as ``tshark -z conv`` lists them: most frames first, then by index.

        Like tshark's table these count only packets whose TCP/UDP header could be read
        whole, and leave out flows with none; tshark's address A is then the source of the
        first packet counted (:attr:`Flow.counted_from_a`).
        """
        flows = self.tcp if protocol == "tcp" else self.udp
        return sorted((f for f in flows if f.packets), key=lambda f: (-f.packets, f.index))


def _tcp_state(flow: Flow) -> tuple[TcpAnalyzer, Connection]:
    assert flow.analyzer is not None and flow.connection is not None, "a TCP flow"
    return flow.analyzer, flow.connection


def _endpoints(ip: IPv4 | IPv6, seg: TCP | UDP) -> tuple[Endpoint, Endpoint] | None:
    """Source and destination as tshark keys conversations, or None if it tracks none."""
    if ip.src is None or ip.dst is None:
        return None
    if seg.srcport is None or seg.dstport is None:
        return None
    if isinstance(seg, TCP) and seg.window is None:
        return None  # tshark gives up before the conversation with under 16 bytes
    src_addr, dst_addr = _addresses(ip)
    return Endpoint(src_addr, seg.srcport), Endpoint(dst_addr, seg.dstport)


def _key(proto: Protocol, src: Endpoint, dst: Endpoint) -> tuple[Protocol, Endpoint, Endpoint]:
    return (proto, src, dst) if src <= dst else (proto, dst, src)


def _addresses(ip: IPv4 | IPv6) -> tuple[str, str]:
    """The addresses tshark keys conversations by: after a routing header's final
    destination and a Home Address option (RFC 8200 section 8.1, RFC 6275)."""
    src, dst = ip.src or "", ip.dst or ""
    if isinstance(ip, IPv6):
        for ext in ip.extensions:
            final, home = routing_final_destination(ext), home_address(ext)
            dst = ntop(final) if final else dst
            src = ntop(home) if home else src
    return src, dst


def tshark_sides(a: Endpoint, b: Endpoint) -> tuple[int, int]:
    """tshark's flow (0 for ``flow1``, 1 for ``flow2``) of A->B and of B->A packets.

    tshark compares the addresses' bytes, then the ports; a host talking to itself on one
    port has both directions in ``flow2``.
    """
    pa, pb = ipaddress.ip_address(a.address).packed, ipaddress.ip_address(b.address).packed
    if pa == pb and a.port == b.port:
        return 1, 1
    ab = 0 if (pa, a.port) > (pb, b.port) else 1
    return ab, 1 - ab


def annotate(
    packets: Iterable[Packet], *, relative: bool = True, max_flows: int = MAX_FLOWS
) -> Iterator[tuple[Packet, dict[str, Any]]]:
    """Each packet with the fields flow tracking adds, under tshark's names.

    ``tcp.stream``/``udp.stream``, ``tcp.seq``/``tcp.ack`` (relative, as tshark shows them by
    default; ``relative=False`` leaves them out), ``tcp.window_size``,
    ``tcp.window_size_scalefactor``, ``tcp.analysis.*`` and ``tcp.analysis.duplicate_ack_num``.
    Packets without TCP/UDP get an empty dict.  Meant for ``headerkit decode --flows``.
    Memory is bounded by ``max_flows`` (see :class:`FlowTable`).
    """
    table = FlowTable(keep=False, max_flows=max_flows)
    for pkt in packets:
        fields: dict[str, Any] = {}
        for seen in table.add_all(pkt):  # a tunnel's UDP, then the TCP inside it
            fields.update(seen.fields(relative=relative))
        yield pkt, fields
