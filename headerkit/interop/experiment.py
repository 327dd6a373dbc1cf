"""Teaching experiments on real sockets, on loopback, captured while they run.

* :func:`boundaries`: TCP keeps no send() boundaries, UDP keeps each. A client sends messages
  a moment apart and closes; a server, perhaps after a delay, reads with recv() of given
  sizes until the end of the stream (TCP) or one call per datagram (UDP).
* :func:`partial_send`: a non-blocking send() into a small send buffer takes fewer bytes than
  asked, the next one none (EAGAIN); a sendall() loop of send() calls hands over the rest.
* :func:`echo`: the client sends, the server sends back what each recv() returned, and the
  client reads the echo with one recv(len, MSG_WAITALL), or without it, a short read.

Both ends run in this process while :class:`~headerkit.captures.live.LiveCapture` records the
packets, so a run holds the views side by side: what each send() handed over, what crossed
the wire, and what each recv() returned.
"""

from __future__ import annotations

import os
import socket
import struct
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

__all__ = ["Call", "FrameKind", "Proto", "Run", "boundaries", "echo", "framer", "partial_send"]

Proto = Literal["tcp", "udp"]
FrameKind = Literal["lines", "length"]
Experiment = Literal["boundaries", "partial-send", "echo"]

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
    experiment: Experiment = "boundaries"

    def _taken(self, side: str) -> list[bytes]:
        return [
            c.data[: c.result]
            for c in self.calls
            if c.side == side and c.name.startswith("send") and c.result and c.result > 0
        ]

    def _returned(self, side: str) -> list[bytes]:
        return [
            c.data for c in self.calls if c.side == side and c.name.startswith("recv") and c.data
        ]

    @property
    def sends(self) -> list[bytes]:
        """The bytes each of the client's send()/sendto() calls took."""
        return self._taken("client")

    @property
    def recvs(self) -> list[bytes]:
        """What each of the server's recv()/recvfrom() returned (end of stream left out)."""
        return self._returned("server")

    @property
    def echoed(self) -> list[bytes]:
        """What each of the server's send() calls took (the echo)."""
        return self._taken("server")

    @property
    def client_recvs(self) -> list[bytes]:
        """What each of the client's recv() calls returned."""
        return self._returned("client")

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


def partial_send(
    size: int = 30_000,
    *,
    sndbuf: int = 4096,
    rcvbuf: int = 4096,
    server_delay: float = 0.5,
    host: str = "127.0.0.1",
    capture: bool = True,
    iface: str = "lo",
) -> Run:
    """send() may take fewer bytes than asked: a client with a small ``sndbuf`` makes one
    non-blocking send() of ``size`` bytes (it takes what fits), a second one (EAGAIN: nothing
    fits), then hands over the rest in a sendall() loop of blocking send() calls, each
    recorded with what it took. The server, with a small ``rcvbuf``, waits ``server_delay``
    seconds and reads to the end of the stream."""
    if size < 1 or sndbuf < 1 or rcvbuf < 1:
        raise ValueError("size, sndbuf and rcvbuf must be at least 1")
    data = bytes(i % 251 for i in range(size))

    def client(run: Run, sock: socket.socket) -> None:
        sock.setblocking(False)
        taken = _send(run, sock, data, "non-blocking")
        taken += _send(run, sock, data[taken:], "non-blocking")
        sock.settimeout(_TIMEOUT)
        while taken < size:  # sendall(), one send() at a time
            taken += _send(run, sock, data[taken:], "sendall() loop")

    return _tcp_pair(
        client,
        _reader(65536),
        host=host,
        experiment="partial-send",
        server_delay=server_delay,
        options={"client": {socket.SO_SNDBUF: sndbuf}, "server": {socket.SO_RCVBUF: rcvbuf}},
        capture=capture,
        iface=iface,
    )


def echo(
    messages: Sequence[bytes] = (b"Hello", b"World"),
    *,
    waitall: bool = True,
    recv_size: int = 4,
    gap: float = 0.2,
    echo_delay: float = 0.05,
    host: str = "127.0.0.1",
    capture: bool = True,
    iface: str = "lo",
) -> Run:
    """The echo pair: the client sends each message, then reads the echo of all of them with
    one recv(len, MSG_WAITALL) (``waitall``) or a plain recv(len), which may return less;
    the server reads with recv(``recv_size``) and sends back each chunk ``echo_delay`` later."""
    if recv_size < 1:
        raise ValueError("recv size must be at least 1")
    total = sum(len(m) for m in messages)

    def client(run: Run, sock: socket.socket) -> None:
        for index, message in enumerate(messages):
            if index:
                time.sleep(gap)
            _send(run, sock, message, "")
        # A blocking socket, so that MSG_WAITALL waits (Python's timeouts make sockets
        # non-blocking, where MSG_WAITALL does not wait); SO_RCVTIMEO still bounds the wait.
        sock.settimeout(None)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", int(_TIMEOUT), 0))
        flags = socket.MSG_WAITALL if waitall else 0
        got = b""
        while len(got) < total:  # without MSG_WAITALL, the loop the application must write
            name = f"recv({total - len(got)}" + (", MSG_WAITALL)" if waitall else ")")
            chunk = sock.recv(total - len(got), flags)
            short = 0 < len(chunk) < total - len(got)
            note = f"short read: {len(chunk)} of {total - len(got)} bytes" if short else ""
            run.calls.append(Call(time.time_ns(), "client", name, chunk, len(chunk), note))
            if not chunk:
                break
            got += chunk

    def server(run: Run, conn: socket.socket) -> None:
        while chunk := _recv(run, conn, recv_size):
            time.sleep(echo_delay)
            _send(run, conn, chunk, "echo", side="server")

    run = _tcp_pair(client, server, host=host, experiment="echo", capture=capture, iface=iface)
    run.recv_sizes = (recv_size,)
    run.gap = gap
    return run


def _send(
    run: Run,
    sock: socket.socket,
    data: bytes,
    how: str,
    side: Literal["client", "server"] = "client",
) -> int:
    """One send() call, recorded with what it took (-1: EAGAIN)."""
    started = time.time_ns()
    try:
        taken = sock.send(data)
    except BlockingIOError:
        run.calls.append(
            Call(started, side, "send", data, -1, f"{how}: EAGAIN, the buffer is full")
        )
        return 0
    note = how if taken == len(data) else f"{how}: {len(data) - taken} bytes not taken"
    run.calls.append(Call(started, side, "send", data, taken, note))
    return taken


def _recv(run: Run, conn: socket.socket, size: int) -> bytes:
    chunk = conn.recv(size)
    run.calls.append(Call(time.time_ns(), "server", f"recv({size})", chunk, len(chunk)))
    return chunk


def _reader(size: int) -> Callable[[Run, socket.socket], None]:
    def read(run: Run, conn: socket.socket) -> None:
        while _recv(run, conn, size):
            pass

    return read


def _tcp_pair(
    client: Callable[[Run, socket.socket], None],
    server: Callable[[Run, socket.socket], None],
    *,
    host: str,
    experiment: Experiment,
    server_delay: float = 0.0,
    options: dict[str, dict[int, int]] | None = None,
    capture: bool,
    iface: str,
) -> Run:
    """A TCP client and server on loopback, captured; each side's calls are recorded."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    options = options or {}
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        for name, value in options.get("server", {}).items():
            listener.setsockopt(socket.SOL_SOCKET, name, value)
        listener.bind((host, 0))
        listener.settimeout(_TIMEOUT)
        listener.listen(1)
        port: int = listener.getsockname()[1]
        run = Run("tcp", host, port, (), server_delay, 0.0, None, experiment=experiment)

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(_TIMEOUT)
                run.calls.append(Call(time.time_ns(), "server", "accept"))
                time.sleep(server_delay)
                server(run, conn)
                run.calls.append(Call(time.time_ns(), "server", "close"))

        def connect() -> None:
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                for name, value in options.get("client", {}).items():
                    sock.setsockopt(socket.SOL_SOCKET, name, value)
                sock.settimeout(_TIMEOUT)
                run.calls.append(Call(time.time_ns(), "client", "connect"))
                sock.connect((host, port))
                client(run, sock)
                run.calls.append(Call(time.time_ns(), "client", "close"))

        live = None
        if capture:
            from headerkit.captures.live import LiveCapture

            live = LiveCapture(iface, f"tcp port {port}").start()
        try:
            _in_parallel(serve, connect)
        finally:
            if live is not None:
                run.records = live.stop()
    run.calls.sort(key=lambda c: c.time_ns)
    return run
