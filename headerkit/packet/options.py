"""The TCP option walk: option bytes to :class:`~headerkit.packet.layers.TcpOption` values.

This is the fast path for :data:`headerkit.schemas.tcp_options.TCP_OPTIONS`; tests prove the two
agree on every well-formed option list.  The walk advances at least one byte per step and
stops at the end of the option space, so no input can make it loop.
"""

from __future__ import annotations

from collections.abc import Callable

from headerkit.errors import DecodeError, OptionError
from headerkit.packet.layers import TcpOption
from headerkit.schemas import tcp as t
from headerkit.schemas.tcp_options import OPTION_KINDS, option_name


def parse_options(
    buf: bytes, start: int, end: int, report: Callable[[DecodeError], None]
) -> tuple[list[TcpOption], bytes]:
    """Walk ``buf[start:end]``; return the options and the padding after EOL.

    A bad option length is reported through ``report`` and ends the walk; the options before
    it are kept, and the bytes from the bad option on are returned as padding, so that
    nothing of the option space is lost.
    """
    options: list[TcpOption] = []
    add, option, kinds, eol, nop = options.append, TcpOption, OPTION_KINDS, t.EOL, t.NOP
    i = start
    while i < end:
        kind = buf[i]
        if kind == nop:
            add(option(kind))
            i += 1
            continue
        if kind == eol:
            add(option(kind))
            return options, buf[i + 1 : end]
        length = buf[i + 1] if i + 1 < end else -1
        if length < 2 or i + length > end:
            report(OptionError("tcp", "option_len", i + 1, _unreadable(kind, length)))
            return options, buf[i:end]
        body = buf[i + 2 : i + length]
        row = kinds.get(kind)
        if row is None:
            add(option(kind, length, body))
        elif length == row.length or (row.length is None and row.fits(length)):
            add(option(kind, length, row.read(body)))
            if row.limit is not None and body[0] > row.limit[1]:
                field, most = row.limit
                report(OptionError("tcp", field, i + 2, f"shift {body[0]} > {most}"))
        else:
            add(option(kind, length, body))
            _misfit(kind, length, i, report)
        i += length
    return options, b""


def _unreadable(kind: int, length: int) -> str:
    """Why an option's length byte cannot be followed (-1: there is none)."""
    name = option_name(kind)
    if length < 0:
        return f"{name} option has no length byte"
    if length < 2:
        return f"{name} length {length} < 2"
    return f"{name} length {length} runs past the options"


def _misfit(kind: int, length: int, offset: int, report: Callable[[DecodeError], None]) -> None:
    """Report an option whose length its kind forbids."""
    row = OPTION_KINDS[kind]
    if row.length is not None:
        reason = f"{row.name} length {length} != {row.length}"
    elif row.multiple > 1 and (length - 2) % row.multiple:
        reason = f"{row.name} length {length} is not 2 + {row.multiple}n"
    else:
        return  # too short for a value: kept as bytes, as tshark shows it
    report(OptionError("tcp", "option_len", offset + 1, reason))


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
