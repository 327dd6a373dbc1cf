"""``headerkit flows FILE``: the conversations of a capture, with their connection states."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from headerkit.cli import args as types
from headerkit.errors import HeaderkitError
from headerkit.flows import Flow, FlowTable
from headerkit.flows.table import MAX_FLOWS

_RULE = "=" * 80
_TSHARK_HEADER = (
    f"{'':59}|       <-      | |       ->      | |     Total     |    Relative    |   Duration   |",
    f"{'':59}| Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "flows",
        help="list the TCP (or UDP) conversations of a capture",
        description=(
            "One line per conversation, numbered as tshark's tcp.stream / udp.stream: frames "
            "and bytes each way, times, and for TCP the Zeek connection state, its history "
            "and the RFC 9293 state each side was last seen in.  --format tshark prints "
            "tshark -q -z conv,tcp (or conv,udp) instead."
        ),
    )
    p.add_argument("file", help="a pcap or pcapng file")
    p.add_argument("--udp", action="store_true", help="UDP conversations instead of TCP")
    p.add_argument(
        "--max-flows",
        type=types.positive,
        default=MAX_FLOWS,
        help=f"flows that keep their state at once (default {MAX_FLOWS:,})",
    )
    p.add_argument(
        "--format",
        choices=("table", "tshark"),
        default="table",
        help="headerkit's table (default) or tshark's conversation table",
    )
    types.add_filter(p)
    types.add_reassemble(p, default=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    capture = types.packets(args)
    table = FlowTable(max_flows=args.max_flows)
    try:
        for pkt in capture:
            table.add(pkt)
    except HeaderkitError as err:
        print(f"headerkit: {err}", file=sys.stderr)
        return 1
    protocol = "udp" if args.udp else "tcp"
    if args.format == "tshark":
        write_tshark(table, protocol, sys.stdout)
    else:
        write_table(table, protocol, sys.stdout)
    return 0


def write_table(table: FlowTable, protocol: str, out: TextIO) -> None:
    """headerkit's conversation table: exact byte counts, and states for TCP."""
    flows = table.conversations("udp" if protocol == "udp" else "tcp")
    t0 = table.first_ns or 0
    head = ["stream", "A", "B", "A>B pkts", "A>B bytes", "B>A pkts", "B>A bytes", "start", "dur"]
    if protocol == "tcp":
        head += ["zeek", "history", "A state", "B state"]
    rows = [head]
    for f in flows:
        row = [
            str(f.index),
            str(f.a),
            str(f.b),
            str(f.a_to_b.packets),
            str(f.a_to_b.bytes),
            str(f.b_to_a.packets),
            str(f.b_to_a.bytes),
            f"{(f.first_ns - t0) / 1e9:.6f}",
            f"{f.duration_ns / 1e9:.6f}",
        ]
        if f.connection is not None:
            conn = f.connection
            row += [conn.conn_state, conn.history or "-", conn.state(0), conn.state(1)]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    left = {1, 2, 9, 10, 11, 12}  # addresses and words align left, numbers right
    out.write(f"{protocol.upper()} conversations: {len(flows)}\n")
    for r in rows:
        cells = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        out.write("  ".join(cells).rstrip() + "\n")


def write_tshark(table: FlowTable, protocol: str, out: TextIO) -> None:
    """``tshark -q -z conv,tcp`` (or ``conv,udp``), line for line."""
    t0 = table.first_ns or 0
    out.write(f"{_RULE}\n{protocol.upper()} Conversations\nFilter:<No Filter>\n")
    out.write("\n".join(_TSHARK_HEADER) + "\n")
    for f in table.conversations("udp" if protocol == "udp" else "tcp"):
        out.write(_tshark_line(f, t0) + "\n")
    out.write(_RULE + "\n")


def _seconds(ns: int) -> float:
    """A time as tshark turns its (seconds, nanoseconds) into a double: seconds plus the
    nanoseconds' fraction, so its last printed digits come out the same."""
    seconds, nanoseconds = divmod(ns, 1_000_000_000)
    return seconds + nanoseconds / 1e9


def _tshark_line(f: Flow, t0: int) -> str:
    # tshark's address A is the source of the first packet its conversation table counted.
    a, b, tx, rx = f.a, f.b, f.a_to_b, f.b_to_a
    if not f.counted_from_a:
        a, b, tx, rx = b, a, rx, tx
    start = _seconds(f.first_ns - t0)
    duration = _seconds(f.last_ns - t0) - start  # as tshark computes it, in floating point
    return (
        f"{a!s:<26} <-> {b!s:<26}  {rx.packets:6d} {format_size(rx.bytes):<9}"
        f"  {tx.packets:6d} {format_size(tx.bytes):<9}"
        f"  {rx.packets + tx.packets:6d} {format_size(rx.bytes + tx.bytes):<9}"
        f"  {start:14.9f}   {duration:12.4f}"
    )


def format_size(size: int) -> str:
    """Wireshark's ``format_size`` in SI units: ``1980 bytes``, ``22 kB``, ``13 MB``."""
    for power, prefix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if size // power >= 10:
            return f"{size // power} {prefix}B"
    return f"{size} bytes"
