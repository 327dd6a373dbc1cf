"""Per-connection statistics in the manner of ``tcptrace -l``, from tshark's analysis.

For each TCP connection and each direction: packets, payload bytes, unique bytes (sent for
the first time) and retransmitted ones, pure ACKs, SYNs, FINs and RSTs, duplicate ACKs,
zero windows and the largest window advertised, the RTT samples its data drew from the
peer's ACKs (tshark's ``tcp.analysis.ack_rtt``: min, mean, max), and throughput over the
connection's duration; for the connection, the handshake RTT (``initial_rtt``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from headerkit.flows.analysis import SegmentAnalysis
from headerkit.flows.flags import Analysis
from headerkit.flows.table import FlowTable
from headerkit.packet.decode import Packet
from headerkit.schemas import tcp as t

_RESENT = Analysis.RETRANSMISSION | Analysis.FAST_RETRANSMISSION | Analysis.SPURIOUS_RETRANSMISSION


@dataclass(slots=True)
class DirectionStats:
    packets: int = 0
    payload_bytes: int = 0
    unique_bytes: int = 0
    retransmitted_packets: int = 0
    retransmitted_bytes: int = 0
    pure_acks: int = 0
    syns: int = 0
    fins: int = 0
    rsts: int = 0
    duplicate_acks: int = 0
    zero_windows: int = 0
    max_window: int = 0
    rtt_samples: int = 0
    rtt_min: float | None = None
    rtt_max: float | None = None
    rtt_total: float = 0.0

    @property
    def rtt_mean(self) -> float | None:
        return self.rtt_total / self.rtt_samples if self.rtt_samples else None

    def rtt(self, sample: float) -> None:
        self.rtt_samples += 1
        self.rtt_total += sample
        self.rtt_min = sample if self.rtt_min is None else min(self.rtt_min, sample)
        self.rtt_max = sample if self.rtt_max is None else max(self.rtt_max, sample)


@dataclass(slots=True)
class ConnectionStats:
    stream: int
    a: str
    b: str
    first_ns: int
    last_ns: int
    handshake_rtt: float | None = None
    a_to_b: DirectionStats = field(default_factory=DirectionStats)
    b_to_a: DirectionStats = field(default_factory=DirectionStats)

    @property
    def duration(self) -> float:
        return (self.last_ns - self.first_ns) / 1e9

    @property
    def complete(self) -> bool:
        """SYN and FIN seen both ways, as tcptrace's "complete conn"."""
        ends = (self.a_to_b, self.b_to_a)
        return all(d.syns for d in ends) and all(d.fins for d in ends)

    def throughput(self, direction: DirectionStats) -> float | None:
        """Unique bytes per second over the connection's duration."""
        return direction.unique_bytes / self.duration if self.duration > 0 else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["duration"] = self.duration
        out["complete"] = self.complete
        for name, direction in (("a_to_b", self.a_to_b), ("b_to_a", self.b_to_a)):
            out[name]["rtt_mean"] = direction.rtt_mean
            out[name]["throughput"] = self.throughput(direction)
            del out[name]["rtt_total"]
        return out


def connection_stats(packets: Iterable[Packet], stream: int | None = None) -> list[ConnectionStats]:
    """The statistics of every TCP connection (or of tshark's stream ``stream`` only)."""
    table = FlowTable(keep=False)
    found: dict[int, ConnectionStats] = {}
    for pkt in packets:
        seen = table.add(pkt)
        tcp = pkt.tcp
        if seen is None or seen.analysis is None or tcp is None:
            continue
        flow = seen.flow
        if stream is not None and flow.index != stream:
            continue
        ts = pkt.timestamp_ns or 0
        conn = found.get(flow.index)
        if conn is None:
            conn = found[flow.index] = ConnectionStats(flow.index, str(flow.a), str(flow.b), ts, ts)
        conn.last_ns = ts
        direction = conn.a_to_b if seen.from_a else conn.b_to_a
        peer = conn.b_to_a if seen.from_a else conn.a_to_b
        _count(direction, peer, tcp.flags or 0, tcp.payload_length or 0, seen.analysis)
        timing = seen.analysis.timing
        if timing is not None and timing.initial_rtt is not None:
            conn.handshake_rtt = timing.initial_rtt / 1e9
    return [found[index] for index in sorted(found)]


def _count(
    direction: DirectionStats,
    peer: DirectionStats,
    flags: int,
    length: int,
    analysis: SegmentAnalysis,
) -> None:
    direction.packets += 1
    direction.payload_bytes += length
    if analysis.flags & _RESENT:
        direction.retransmitted_packets += 1
        direction.retransmitted_bytes += length
    else:
        direction.unique_bytes += length
    if flags & t.ACK and not length and not flags & (t.SYN | t.FIN | t.RST):
        direction.pure_acks += 1
    direction.syns += bool(flags & t.SYN)
    direction.fins += bool(flags & t.FIN)
    direction.rsts += bool(flags & t.RST)
    direction.duplicate_acks += bool(analysis.flags & Analysis.DUPLICATE_ACK)
    direction.zero_windows += bool(analysis.flags & Analysis.ZERO_WINDOW)
    direction.max_window = max(direction.max_window, analysis.window)
    timing = analysis.timing
    if timing is not None and timing.ack_rtt is not None:
        peer.rtt(timing.ack_rtt / 1e9)  # this ACK timed the peer's data
