"""The local stack under test: the simulator's TCP endpoint, seen as packetdrill sees a host.

This module is the one place that knows the simulator's endpoint API; the runner speaks only
in :class:`Wire` segments (what a sniffer would read: flags, numbers, window, options,
payload length) and socket calls.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from headerkit.errors import SocketError
from headerkit.schemas import tcp as t
from headerkit.sim.clock import NS
from headerkit.sim.segment import Segment
from headerkit.sim.tcp import TcpConfig, TcpEndpoint
from headerkit.tcp_states import TcpState

LOCAL_PORT = 8080
REMOTE_PORT = 48_000
LOCAL_ISS = 0x1F00_0000
OPTIONS = frozenset({"nop", "eol", "mss", "wscale", "sackOK", "TS", "sack"})
"""TCP options the model can send and read (others make a script unsupported)."""


@dataclass(frozen=True, slots=True)
class Wire:
    """A segment as a sniffer sees it: absolute numbers, raw window, options by name."""

    flags: int
    seq: int
    ack: int
    window: int
    length: int
    options: tuple[tuple[str, tuple[int, ...]], ...] = ()


_NAMES = {t.EOL: "eol", t.NOP: "nop", t.MSS: "mss", t.WINDOW_SCALE: "wscale"}
_NAMES |= {t.SACK_PERMITTED: "sackOK", t.TIMESTAMPS: "TS", t.SACK: "sack"}
"""packetdrill's names of the options the model sends."""


def _values(value: object) -> tuple[int, ...]:
    """An option's value as packetdrill writes it: numbers in order, SACK edges flattened."""
    if value is None:
        return ()
    if isinstance(value, int):
        return (value,)
    assert isinstance(value, tuple)
    flat: list[int] = []
    for item in value:
        flat.extend(item if isinstance(item, tuple) else (item,))
    return tuple(flat)


class LocalStack:
    """One modeled TCP endpoint driven by socket calls, injected segments and time (ns)."""

    def __init__(self, config: TcpConfig) -> None:
        self.config = config
        self.endpoint: TcpEndpoint | None = None
        self.sent: list[tuple[int, Wire]] = []

    def _open(self) -> TcpEndpoint:
        if self.endpoint is None:
            self.endpoint = TcpEndpoint(self.config, LOCAL_PORT, REMOTE_PORT, LOCAL_ISS)
        return self.endpoint

    # socket calls -------------------------------------------------------------------------
    def reconfigure(self, now: int, **changes: Any) -> None:
        """Socket options: before the connection exists they shape it, after it they change it."""
        self.config = replace(self.config, **changes)
        if self.endpoint is not None:
            self.endpoint.reconfigure(self.config, now)

    def push_pending(self, now: int, partial: bool) -> None:
        """TCP_NODELAY set, or TCP_CORK removed: what waits is sent."""
        if self.endpoint is not None:
            self.endpoint.push_pending(now, partial)
            self._collect(now)

    def listen(self) -> None:
        self._open().listen()

    def connect(self, now: int) -> None:
        self._open().connect(now)
        self._collect(now)

    def send(self, data: bytes, now: int, more: bool = False) -> int:
        taken = self._open().send(data, now, more)
        self._collect(now)
        return taken

    def recv(self, size: int, now: int) -> bytes | None:
        data = self._open().recv(size, now)
        self._collect(now)
        return data

    def close(self, now: int) -> None:
        if self.endpoint is not None:
            self.endpoint.close(now)
            self._collect(now)

    def shutdown_read(self) -> None:
        if self.endpoint is not None:
            self.endpoint.shutdown_read()

    def shutdown(self, now: int) -> None:
        if self.endpoint is not None:
            self.endpoint.shutdown(now)
            self._collect(now)

    def abort(self, now: int) -> None:
        if self.endpoint is not None:
            self.endpoint.abort(now, "close() of a listener with a connection not accepted")
            self._collect(now)

    # the wire and the clock ---------------------------------------------------------------
    def inject(self, wire: Wire, now: int) -> None:
        options = dict(wire.options)
        mss = options["mss"][0] if options.get("mss") else None
        wscale = options["wscale"][0] if options.get("wscale") else None
        stamps = options.get("TS")
        edges = options.get("sack", ())
        segment = Segment(
            REMOTE_PORT,
            LOCAL_PORT,
            wire.seq,
            wire.ack,
            wire.flags,
            wire.window,
            bytes(wire.length),
            mss,
            wscale,
            sack_permitted="sackOK" in options,
            timestamps=(stamps[0], stamps[1]) if stamps and len(stamps) == 2 else None,
            sack=tuple(zip(edges[::2], edges[1::2], strict=False)),
        )
        self._open().segment_arrived(segment, now)
        self._collect(now)

    def next_deadline(self) -> int | None:
        return None if self.endpoint is None else self.endpoint.next_deadline()

    def fire_timers(self, now: int) -> None:
        if self.endpoint is not None:
            self.endpoint.on_timer(now)
            self._collect(now)

    def _collect(self, now: int) -> None:
        if self.endpoint is None:
            return
        for segment, _ in self.endpoint.out:
            options = [(_NAMES[o.kind], _values(o.value)) for o in segment.options()]
            wire = Wire(
                segment.flags,
                segment.seq,
                segment.ack,
                segment.window,
                len(segment.payload),
                tuple(options),
            )
            self.sent.append((now, wire))
        self.endpoint.out.clear()

    # what a mismatch report shows ---------------------------------------------------------
    @property
    def state(self) -> TcpState:
        return TcpState.CLOSED if self.endpoint is None else self.endpoint.state

    @property
    def mss(self) -> int:
        """The MSS the connection uses (the peer's, if smaller), or the configured one."""
        return self.config.mss if self.endpoint is None else self.endpoint.snd.mss

    @property
    def error(self) -> str | None:
        return None if self.endpoint is None else self.endpoint.error

    def describe(self) -> str:
        """State, cwnd, the peer's window and the RTO: the model's side of a mismatch."""
        ep = self.endpoint
        if ep is None:
            return "no connection yet"
        return (
            f"state {ep.state.value}, cwnd {ep.cc.cwnd}, rwnd {ep.snd.rwnd}, "
            f"rto {ep.rtt.rto / NS:.3f}s, snd.una {ep.snd.snd_una - LOCAL_ISS}, "
            f"snd.nxt {ep.snd.snd_nxt - LOCAL_ISS}"
        )


__all__ = ["NS", "OPTIONS", "LocalStack", "SocketError", "TcpConfig", "Wire"]
