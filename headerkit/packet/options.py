"""The TCP option walk: option bytes to :class:`~headerkit.packet.layers.TcpOption` values.

This is the fast path for :data:`headerkit.schemas.tcp.TCP_OPTIONS`; tests prove the two
agree on every well-formed option list.  The walk advances at least one byte per step and
stops at the end of the option space, so no input can make it loop.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from headerkit.errors import DecodeError, OptionError
from headerkit.packet.layers import TcpOption
from headerkit.schemas import tcp as t

_U16 = struct.Struct(">H").unpack_from
_U32X2 = struct.Struct(">II").unpack_from


def option_value(kind: int, body: bytes) -> Any:
    """The value of one option from the bytes after its kind and length."""
    n = len(body)
    if kind == t.MSS and n == 2:
        return _U16(body, 0)[0]
    if kind == t.WINDOW_SCALE and n == 1:
        return body[0]
    if kind == t.SACK_PERMITTED and n == 0:
        return None
    if kind == t.SACK and n % 8 == 0:
        return tuple(_U32X2(body, i) for i in range(0, n, 8))
    if kind == t.TIMESTAMPS and n == 8:
        return _U32X2(body, 0)
    if kind == t.USER_TIMEOUT and n == 2:
        raw = _U16(body, 0)[0]
        return (bool(raw >> 15), raw & 0x7FFF)
    if kind == t.TCP_AO and n >= 2:
        return (body[0], body[1], body[2:])
    if kind == t.MPTCP and n >= 1:
        return (body[0] >> 4, body[0] & 0xF, body[1:])
    if kind == t.EXPERIMENTAL and n >= 2:
        return (_U16(body, 0)[0], body[2:])
    return body


def parse_options(
    buf: bytes, start: int, end: int, report: Callable[[DecodeError], None]
) -> tuple[list[TcpOption], bytes]:
    """Walk ``buf[start:end]``; return the options and the padding after EOL.

    A bad option length is reported through ``report`` and ends the walk; the options before
    it are kept, and the bytes from the bad option on are returned as padding, so that
    nothing of the option space is lost.
    """
    options: list[TcpOption] = []
    i = start
    while i < end:
        kind = buf[i]
        if kind == t.EOL:
            options.append(TcpOption(kind))
            return options, buf[i + 1 : end]
        if kind == t.NOP:
            options.append(TcpOption(kind))
            i += 1
            continue
        name = t.OPTION_NAMES.get(kind, f"kind {kind}")
        if i + 1 >= end:
            report(OptionError("tcp", "option_len", i + 1, f"{name} option has no length byte"))
            return options, buf[i:end]
        length = buf[i + 1]
        if length < 2:
            report(OptionError("tcp", "option_len", i + 1, f"{name} length {length} < 2"))
            return options, buf[i:end]
        if i + length > end:
            report(
                OptionError(
                    "tcp", "option_len", i + 1, f"{name} length {length} runs past the options"
                )
            )
            return options, buf[i:end]
        body = buf[i + 2 : i + length]
        options.append(TcpOption(kind, length, option_value(kind, body)))
        _check(kind, length, body, i, report)
        i += length
    return options, b""


def _check(
    kind: int, length: int, body: bytes, offset: int, report: Callable[[DecodeError], None]
) -> None:
    """Report an option whose length or value its kind forbids."""
    name = t.OPTION_NAMES.get(kind, f"kind {kind}")
    want = t.FIXED_OPTION_LENGTH.get(kind)
    if want is not None and length != want:
        report(OptionError("tcp", "option_len", offset + 1, f"{name} length {length} != {want}"))
    elif kind == t.SACK and (length - 2) % 8:
        report(OptionError("tcp", "option_len", offset + 1, f"SACK length {length} is not 2 + 8n"))
    elif kind == t.WINDOW_SCALE and body[0] > t.MAX_WINDOW_SHIFT:
        report(
            OptionError(
                "tcp", "wscale.shift", offset + 2, f"shift {body[0]} > {t.MAX_WINDOW_SHIFT}"
            )
        )


def tshark_option_walk(options: list[TcpOption], padding: bytes) -> list[TcpOption]:
    """The options as tshark lists them: it walks on past EOL (zeros read as more EOLs), and
    lists an unreadable option by its kind and length byte before it stops."""
    listed = list(options)
    rest = padding
    while rest:
        more, left = parse_options(rest, 0, len(rest), ignore_problem)
        listed += more
        if left and (not more or more[-1].kind != t.EOL):
            # the walk stopped at an option it could not read
            listed.append(TcpOption(left[0], left[1] if len(left) > 1 else None))
            break
        rest = left
    return listed


def ignore_problem(err: DecodeError) -> None:
    """Drop a problem already reported, or covered by a coarser one."""
