"""One TCP stream of a capture as the replay reads it: each segment with its side, time,
relative numbers, calculated window and tshark's analysis flags (from :func:`flows.annotate`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from headerkit.errors import ReplayError
from headerkit.flows import annotate
from headerkit.packet.decode import Packet
from headerkit.schemas import tcp as t

_FLAG_PREFIX = "tcp.analysis."
_NOT_FLAGS = {"tcp.analysis.flags", "tcp.analysis.duplicate_ack_num"}


@dataclass(frozen=True, slots=True)
class Seen:
    """One segment of the stream; side 0 is the side that opened it (sent the SYN)."""

    number: int
    time: float  # seconds since the stream's first segment
    side: int
    flags: int
    seq: int  # relative, as tshark shows it
    ack: int
    length: int
    window: int  # scaled: the calculated window
    mss: int | None
    wscale: int | None
    analysis: frozenset[str]
    wire_bytes: int  # IP packet length


def stream_segments(packets: Iterable[Packet], stream: int) -> list[Seen]:
    """The segments of TCP stream ``stream`` (tshark's numbering)."""
    found: list[Seen] = []
    opener: tuple[str, int] | None = None
    start = 0
    for pkt, fields in annotate(packets):
        if fields.get("tcp.stream") != stream or pkt.tcp is None or pkt.ip is None:
            continue
        tcp = pkt.tcp
        source = (str(pkt.ip.src), tcp.srcport or 0)
        if opener is None:
            synack = tcp.has(t.SYN) and tcp.has(t.ACK)
            opener = (str(pkt.ip.dst), tcp.dstport or 0) if synack else source
            start = pkt.timestamp_ns or 0
        mss = tcp.option(t.MSS)
        wscale = tcp.option(t.WINDOW_SCALE)
        found.append(
            Seen(
                number=pkt.number or 0,
                time=((pkt.timestamp_ns or 0) - start) / 1e9,
                side=0 if source == opener else 1,
                flags=tcp.flags or 0,
                seq=int(fields.get("tcp.seq", 0)),
                ack=int(fields.get("tcp.ack", 0)),
                length=tcp.payload_length or 0,
                window=int(fields.get("tcp.window_size", tcp.window or 0)),
                mss=mss.value if mss is not None else None,
                wscale=wscale.value if wscale is not None else None,
                analysis=frozenset(
                    key.removeprefix(_FLAG_PREFIX)
                    for key, value in fields.items()
                    if key.startswith(_FLAG_PREFIX) and key not in _NOT_FLAGS and value is True
                ),
                wire_bytes=_ip_length(pkt),
            )
        )
    if not found:
        raise ReplayError(f"the capture has no TCP stream {stream}")
    return found


def _ip_length(pkt: Packet) -> int:
    ip = pkt.ip
    total = getattr(ip, "total_length", None)
    if isinstance(total, int) and total:
        return total
    return 40 + (pkt.tcp.payload_length or 0 if pkt.tcp is not None else 0)
