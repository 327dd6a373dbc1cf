"""A sans-IO UDP endpoint, for contrast with TCP: every datagram stays whole or is lost.

``sendto`` emits one datagram (or its IPv4 fragments, or refuses with EMSGSIZE when the
datagram does not fit the path MTU and fragmentation is off); ``recvfrom(n)`` returns one
datagram, cut to ``n`` bytes (the rest is lost).  The receive queue holds ``rcvbuf`` bytes of
data; a datagram that does not fit is dropped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

from headerkit.errors import SocketError
from headerkit.sim.segment import Datagram
from headerkit.sim.trace import Kind

MAX_DATAGRAM: Final = 65507  # 65535 - 20 (IPv4) - 8 (UDP)


@dataclass(frozen=True)
class UdpConfig:
    """``rcvbuf``: receive queue in bytes of data; ``fragment``: allow IPv4 fragmentation."""

    rcvbuf: int = 212992
    fragment: bool = True


class UdpEndpoint:
    """One UDP socket; drained by the caller like :class:`~headerkit.sim.tcp.TcpEndpoint`."""

    def __init__(self, config: UdpConfig, sport: int, dport: int, mtu: int) -> None:
        self.config = config
        self.sport = sport
        self.dport = dport
        self.mtu = mtu
        self.out: list[tuple[Datagram, tuple[int, ...]]] = []  # (datagram, no view)
        self.notes: list[tuple[Kind, str]] = []
        self.queue: deque[bytes] = deque()
        self.queued = 0
        self.ident = 0
        self.pieces: dict[int, dict[int, Datagram]] = {}

    def sendto(self, data: bytes) -> int:
        """Send ``data`` as one datagram; SocketError(EMSGSIZE) if it cannot go."""
        if len(data) > MAX_DATAGRAM:
            raise SocketError("EMSGSIZE")
        self.ident = (self.ident + 1) & 0xFFFF
        room = (self.mtu - 20) // 8 * 8  # IP payload per fragment, a multiple of 8
        if 8 + len(data) <= self.mtu - 20:
            self.out.append(
                (Datagram(self.sport, self.dport, data, self.ident, total=len(data)), ())
            )
            return len(data)
        if not self.config.fragment:
            raise SocketError("EMSGSIZE")
        offset, pos = 0, 0
        while pos < len(data):
            take = room - 8 if offset == 0 else room
            piece = data[pos : pos + take]
            pos += len(piece)
            more = pos < len(data)
            fragment = Datagram(self.sport, self.dport, piece, self.ident, offset, more, len(data))
            self.out.append((fragment, ()))
            offset += len(piece) + (8 if offset == 0 else 0)
        return len(data)

    def datagram_arrived(self, dgram: Datagram) -> None:
        """Queue a datagram (reassembled first if it is a fragment)."""
        data = dgram.payload
        if dgram.is_fragment:
            pieces = self.pieces.setdefault(dgram.ident, {})
            pieces[dgram.offset] = dgram
            if sum(len(p.payload) for p in pieces.values()) < dgram.total:
                return
            del self.pieces[dgram.ident]
            data = b"".join(pieces[offset].payload for offset in sorted(pieces))
        if self.queued + len(data) > self.config.rcvbuf:
            self.notes.append((Kind.DROP, f"receive queue full: {len(data)}-byte datagram dropped"))
            return
        self.queue.append(data)
        self.queued += len(data)

    def recvfrom(self, n: int) -> tuple[bytes, int] | None:
        """The next datagram cut to ``n`` bytes, with its whole length; None if none queued."""
        if not self.queue:
            return None
        data = self.queue.popleft()
        self.queued -= len(data)
        return data[:n], len(data)
