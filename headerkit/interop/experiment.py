"""The boundaries experiment on real sockets: TCP keeps no send() boundaries, UDP keeps each.

A client sends messages a moment apart and closes; a server, perhaps after a delay, reads
with recv() of given sizes until the end of the stream (TCP) or one call per datagram (UDP).
Both run on loopback in this process while :class:`~headerkit.captures.live.LiveCapture` records
the packets, so a run holds the three views side by side: what each send() handed over,
what crossed the wire, and what each recv() returned.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from headerkit.captures import Record, write_capture
from headerkit.framing import Framer, framer_factory
from headerkit.interop.craft import CaptureFormat, format_for
from headerkit.packet.decode import Packet, decode

__all__ = ["Call", "FrameKind", "Proto", "Run", "boundaries", "framer"]

Proto = Literal["tcp", "udp"]
FrameKind = Literal["lines", "length"]

DEFAULT_RECV = {"tcp": 4, "udp": 65535}
_TIMEOUT = 10.0  # seconds any socket call may block before the run is abandoned


def framer(kind: FrameKind) -> Framer:
    """The framer ``--frame`` names: newline-delimited lines or a 4-byte length prefix."""
    return framer_factory(kind)()


@dataclass(frozen=True, slots=True)
class Call:
    """One socket call as it returned: who made it, what it was, the bytes it moved."""

    time_ns: int
    side: Literal["client", "server"]
    name: str
    data: bytes = b""
    result: int | None = None
    note: str = ""


@dataclass(slots=True)
class Run:
    """What one run did and saw; ``records`` is the capture (empty without one)."""

    proto: Proto
    host: str
    port: int
    recv_sizes: tuple[int, ...]
    server_delay: float
    gap: float
    frame: FrameKind | None
    calls: list[Call] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    @property
    def sends(self) -> list[bytes]:
        """The bytes given to each send()/sendto()."""
        return [c.data for c in self.calls if c.side == "client" and c.name.startswith("send")]

    @property
    def recvs(self) -> list[bytes]:
        """What each recv()/recvfrom() returned, the final empty read (end of stream) left out."""
        return [
            c.data
            for c in self.calls
            if c.side == "server" and c.name.startswith("recv") and c.data
        ]

    @property
    def messages(self) -> list[bytes]:
        """The messages a framer rebuilds from the recv() results (``frame`` must be set)."""
        if self.frame is None:
            raise ValueError("the run used no framing")
        rebuilt = framer(self.frame)
        return [m for chunk in self.recvs for m in rebuilt.feed(chunk)]

    @property
    def packets(self) -> list[Packet]:
        """The captured packets, decoded."""
        out = []
        for rec in self.records:
            pkt = decode(rec.data, rec.linktype, wirelen=rec.wirelen)
            pkt.number, pkt.timestamp_ns = rec.number, rec.timestamp_ns
            out.append(pkt)
        return out

    @property
    def wire_payloads(self) -> list[bytes]:
        """The payloads of the captured packets that carry data from client to server."""
        return [
            p.payload
            for p in self.packets
            if p.transport is not None and p.transport.dstport == self.port and p.payload
        ]

    def write(self, path: str | os.PathLike[str], format: CaptureFormat | None = None) -> int:
        """Write the capture to a pcap or pcapng file."""
        return write_capture(path, self.records, format or format_for(path))


def boundaries(
    proto: Proto = "tcp",
    messages: Sequence[bytes] = (b"Hello", b"World"),
    *,
    recv_sizes: Sequence[int] | None = None,
    gap: float = 0.2,
    server_delay: float = 0.0,
    frame: FrameKind | None = None,
    host: str = "127.0.0.1",
    capture: bool = True,
    iface: str = "lo",
) -> Run:
    """Run the experiment once and return what happened.

    The client sends each message (framed first, if ``frame`` is given), sleeping ``gap``
    seconds between sends; the server sleeps ``server_delay`` seconds, then reads with
    recv() of the sizes ``recv_sizes`` in turn, the last repeating (default: 4 for TCP, a
    whole datagram for UDP).  The server binds port 0, so runs never collide.  ``capture``
    records the packets on ``iface`` (root or CAP_NET_RAW needed).
    """
    sizes = tuple(recv_sizes or (DEFAULT_RECV[proto],))
    if min(sizes) < 1:
        raise ValueError("recv sizes must be at least 1")
    payloads = [framer(frame).encode(m) for m in messages] if frame else list(messages)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(family, kind) as server:
        server.bind((host, 0))
        server.settimeout(_TIMEOUT)
        port: int = server.getsockname()[1]
        run = Run(proto, host, port, sizes, server_delay, gap, frame)
        if proto == "tcp":
            server.listen(1)
            serve = partial(_tcp_server, run, server)
        else:
            serve = partial(_udp_server, run, server, len(payloads))
        live = None
        if capture:
            from headerkit.captures.live import LiveCapture

            live = LiveCapture(iface, f"{proto} port {port}").start()
        try:
            _in_parallel(serve, partial(_client, run, family, kind, payloads))
        finally:
            if live is not None:
                run.records = live.stop()
    run.calls.sort(key=lambda c: c.time_ns)
    return run


def _in_parallel(server: Callable[[], None], client: Callable[[], None]) -> None:
    """Run the server in a thread and the client here; re-raise what either raised."""
    failure: list[BaseException] = []

    def guarded() -> None:
        try:
            server()
        except BaseException as err:
            failure.append(err)

    thread = threading.Thread(target=guarded, name="boundaries-server", daemon=True)
    thread.start()
    client()
    thread.join()
    if failure:
        raise failure[0]


def _size(run: Run, index: int) -> int:
    return run.recv_sizes[min(index, len(run.recv_sizes) - 1)]


def _tcp_server(run: Run, listener: socket.socket) -> None:
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(_TIMEOUT)
        run.calls.append(Call(time.time_ns(), "server", "accept"))
        time.sleep(run.server_delay)
        index = 0
        while True:
            size = _size(run, index)
            chunk = conn.recv(size)
            run.calls.append(Call(time.time_ns(), "server", f"recv({size})", chunk, len(chunk)))
            if not chunk:
                break
            index += 1
        run.calls.append(Call(time.time_ns(), "server", "close"))


def _udp_server(run: Run, sock: socket.socket, datagrams: int) -> None:
    time.sleep(run.server_delay)
    for index in range(datagrams):
        size = _size(run, index)
        data, _, flags, _ = sock.recvmsg(size)
        note = "datagram truncated: the rest is lost" if flags & socket.MSG_TRUNC else ""
        call = Call(time.time_ns(), "server", f"recvfrom({size})", data, len(data), note)
        run.calls.append(call)


def _client(run: Run, family: int, kind: int, payloads: list[bytes]) -> None:
    address = (run.host, run.port)
    with socket.socket(family, kind) as sock:
        sock.settimeout(_TIMEOUT)
        if run.proto == "tcp":
            run.calls.append(Call(time.time_ns(), "client", "connect"))
            sock.connect(address)
        for index, data in enumerate(payloads):
            if index:
                time.sleep(run.gap)
            started = time.time_ns()
            if run.proto == "tcp":
                sent = sock.send(data)
                run.calls.append(Call(started, "client", "send", data, sent))
            else:
                sent = sock.sendto(data, address)
                run.calls.append(Call(started, "client", "sendto", data, sent))
        if run.proto == "tcp":
            run.calls.append(Call(time.time_ns(), "client", "close"))
