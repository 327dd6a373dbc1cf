"""packetdrill's inline Python (``%{ assert tcpi_snd_cwnd == 10 }%``) against the model.

packetdrill runs such a block with the socket's ``struct tcp_info`` as ``tcpi_*`` variables.
Here the block is read with :mod:`ast` and evaluated by a small interpreter, never by
``eval``: assignments of constants, ``assert`` and ``print`` statements over numbers,
comparisons, arithmetic and boolean operators.  The ``tcpi_*`` fields are the ones the
model has, in Linux's units (segments, microseconds); any other field or construct makes the
script unsupported, naming it: :meth:`TcpInfoBlock.run` raises ``NotImplementedError`` with
what is missing, and returns the first false assertion (with the values it read).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from headerkit.sim.tcp.congestion.newreno import INITIAL_SSTHRESH
from headerkit.sim.tcp.endpoint import TcpEndpoint
from headerkit.tcp_states import TcpState

TCP_INFINITE_SSTHRESH = 0x7FFFFFFF
LINUX_STATES = {
    "TCP_ESTABLISHED": (TcpState.ESTABLISHED, 1),
    "TCP_SYN_SENT": (TcpState.SYN_SENT, 2),
    "TCP_SYN_RECV": (TcpState.SYN_RECEIVED, 3),
    "TCP_FIN_WAIT1": (TcpState.FIN_WAIT_1, 4),
    "TCP_FIN_WAIT2": (TcpState.FIN_WAIT_2, 5),
    "TCP_TIME_WAIT": (TcpState.TIME_WAIT, 6),
    "TCP_CLOSE": (TcpState.CLOSED, 7),
    "TCP_CLOSE_WAIT": (TcpState.CLOSE_WAIT, 8),
    "TCP_LAST_ACK": (TcpState.LAST_ACK, 9),
    "TCP_LISTEN": (TcpState.LISTEN, 10),
    "TCP_CLOSING": (TcpState.CLOSING, 11),
}
"""include/net/tcp_states.h: each state's name and the number tcp_info gives for it."""
_STATE_NUMBER = dict(LINUX_STATES.values())
CA_OPEN, CA_DISORDER, CA_CWR, CA_RECOVERY, CA_LOSS = range(5)
TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK, TCPI_OPT_WSCALE = 1, 2, 4
CONSTANTS: dict[str, int] = {
    "TCP_CA_Open": CA_OPEN,
    "TCP_CA_Disorder": CA_DISORDER,
    "TCP_CA_CWR": CA_CWR,
    "TCP_CA_Recovery": CA_RECOVERY,
    "TCP_CA_Loss": CA_LOSS,
    "TCPI_OPT_TIMESTAMPS": TCPI_OPT_TIMESTAMPS,
    "TCPI_OPT_SACK": TCPI_OPT_SACK,
    "TCPI_OPT_WSCALE": TCPI_OPT_WSCALE,
    **{name: number for name, (_, number) in LINUX_STATES.items()},
}
"""The names packetdrill's Python blocks use for Linux's constants."""


def _ca_state(ep: TcpEndpoint) -> int:
    if ep.rtt.retries:
        return CA_LOSS
    if ep.recovery.recover is not None:
        return CA_RECOVERY
    return CA_DISORDER if ep.recovery.dupacks else CA_OPEN


def _ssthresh(ep: TcpEndpoint) -> int:
    ssthresh = ep.cc.ssthresh
    return TCP_INFINITE_SSTHRESH if ssthresh >= INITIAL_SSTHRESH else ssthresh // ep.snd.mss


def _options(ep: TcpEndpoint) -> int:
    return (
        (TCPI_OPT_TIMESTAMPS if ep.ts_ok else 0)
        | (TCPI_OPT_SACK if ep.sack_ok else 0)
        | (TCPI_OPT_WSCALE if ep.wscale_ok else 0)
    )


FIELDS: dict[str, Callable[[TcpEndpoint], int]] = {
    "tcpi_state": lambda ep: _STATE_NUMBER[ep.state],
    "tcpi_ca_state": _ca_state,
    "tcpi_snd_cwnd": lambda ep: ep.cc.cwnd // ep.snd.mss,
    "tcpi_snd_ssthresh": _ssthresh,
    "tcpi_unacked": lambda ep: ep.snd.packets_out,
    "tcpi_snd_mss": lambda ep: ep.snd.mss,
    "tcpi_advmss": lambda ep: ep.config.mss,
    "tcpi_rtt": lambda ep: (ep.rtt.srtt or 0) // 1000,
    "tcpi_rto": lambda ep: ep.rtt.rto // 1000,
    "tcpi_backoff": lambda ep: ep.rtt.retries,
    "tcpi_options": _options,
}
"""The tcp_info fields the model can give, in Linux's units."""

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_SHIFT_LIMIT = 64  # no shift may build a huge number from a script
MAX_CODE = 4096  # characters in one block: packetdrill's own are a few lines


class TcpInfoBlock:
    """The blocks of one script, run in one namespace (a block may set a constant that a
    later one reads), each against the endpoint as it is at the block's time."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = dict(CONSTANTS)

    def run(self, code: str, endpoint: TcpEndpoint | None) -> str | None:
        if len(code) > MAX_CODE:
            raise NotImplementedError(f"an inline Python block over {MAX_CODE} characters")
        try:
            tree = ast.parse(code.strip())
            for statement in tree.body:
                failed = self._statement(statement, endpoint)
                if failed:
                    return failed
        except (SyntaxError, ValueError, MemoryError) as err:
            raise NotImplementedError(f"inline Python that does not parse ({err})") from None
        except RecursionError:
            raise NotImplementedError("inline Python nested too deeply") from None
        return None

    def _statement(self, node: ast.stmt, info: TcpEndpoint | None) -> str | None:
        """Run one statement; a false assertion is returned, with the values it read."""
        if isinstance(node, ast.Assert):
            if not self._value(node.test, info):
                return f"assert {ast.unparse(node.test)} ({self._shown(node, info)})"
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            value = self._value(node.value, info)
            for target in node.targets:
                assert isinstance(target, ast.Name)
                self.names[target.id] = value
        elif isinstance(node, ast.Expr) and _is_print(node.value):
            pass  # packetdrill prints; the model's values show in a mismatch instead
        elif not isinstance(node, ast.Pass):
            raise NotImplementedError(f"the inline Python statement `{ast.unparse(node)}`")
        return None

    def _shown(self, node: ast.Assert, info: TcpEndpoint | None) -> str:
        names = sorted({n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)})
        return ", ".join(f"{name} = {self._name(name, info)}" for name in names)

    def _name(self, name: str, info: TcpEndpoint | None) -> Any:
        if name.startswith("tcpi_"):
            return tcp_info(name, info)
        if name not in self.names:
            raise NotImplementedError(f"the name {name} in inline Python")
        return self.names[name]

    def _value(self, node: ast.expr, info: TcpEndpoint | None) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
            return node.value
        if isinstance(node, ast.Name):
            return self._name(node.id, info)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
            value = self._value(node.operand, info)
            return -value if isinstance(node.op, ast.USub) else not value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self._value(node.left, info), self._value(node.right, info)
            if isinstance(node.op, ast.LShift) and right > _SHIFT_LIMIT:
                raise NotImplementedError(f"a shift by {right} in inline Python")
            try:
                return _BINARY[type(node.op)](left, right)
            except (TypeError, ZeroDivisionError) as err:
                raise _cannot(node, err) from None
        if isinstance(node, ast.BoolOp):
            values = (self._value(v, info) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            left = self._value(node.left, info)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self._value(comparator, info)
                try:
                    if not _COMPARE[type(op)](left, right):
                        return False
                except TypeError as err:
                    raise _cannot(node, err) from None
                left = right
            return True
        raise NotImplementedError(f"the inline Python expression `{ast.unparse(node)}`")


def tcp_info(name: str, endpoint: TcpEndpoint | None) -> int:
    """One field of the endpoint's tcp_info."""
    field = FIELDS.get(name)
    if field is None:
        raise NotImplementedError(f"the tcp_info field {name}")
    if endpoint is None:
        raise NotImplementedError(f"tcp_info ({name}) before the socket is connected")
    return field(endpoint)


def _cannot(node: ast.expr, err: Exception) -> NotImplementedError:
    return NotImplementedError(f"inline Python `{ast.unparse(node)}` ({err})")


def _is_print(node: ast.expr) -> bool:
    call = node.func if isinstance(node, ast.Call) else None
    return isinstance(call, ast.Name) and call.id == "print"
