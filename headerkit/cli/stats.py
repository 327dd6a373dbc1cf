"""``headerkit stats FILE``: per-connection statistics, as ``tcptrace -l`` reports them."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from headerkit.cli import args as types
from headerkit.errors import HeaderkitError
from headerkit.flows.stats import ConnectionStats, DirectionStats, connection_stats


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "stats",
        help="per-connection statistics, as tcptrace -l reports them",
        description="For each TCP connection (or --stream N): packets and bytes each way, "
        "unique and retransmitted bytes, pure ACKs, SYN/FIN/RST, duplicate ACKs, zero "
        "windows, the largest window, RTT min/mean/max from the ACKs (tshark's ack_rtt) and "
        "the handshake RTT, throughput and duration.",
    )
    p.add_argument("file", help="a pcap or pcapng file")
    p.add_argument("--stream", type=types.count, help="only this tcp.stream")
    p.add_argument("--format", choices=("text", "json"), default="text")
    types.add_filter(p)
    types.add_reassemble(p, default=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        found = connection_stats(types.packets(args), args.stream)
    except HeaderkitError as err:
        print(f"headerkit: {err}", file=sys.stderr)
        return 1
    if args.stream is not None and not found:
        print(f"headerkit: no TCP stream {args.stream} in {args.file}", file=sys.stderr)
        return 1
    if args.format == "json":
        json.dump([c.as_dict() for c in found], sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    print(f"{len(found)} TCP connection{'s' if len(found) != 1 else ''} in {args.file}")
    for conn in found:
        sys.stdout.writelines(f"{line}\n" for line in describe(conn))
    return 0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.3f} ms"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} B/s"


ROWS: list[tuple[str, Callable[[ConnectionStats, DirectionStats], object]]] = [
    ("total packets", lambda c, d: d.packets),
    ("payload bytes", lambda c, d: d.payload_bytes),
    ("unique bytes sent", lambda c, d: d.unique_bytes),
    ("retransmitted packets", lambda c, d: d.retransmitted_packets),
    ("retransmitted bytes", lambda c, d: d.retransmitted_bytes),
    ("pure ACKs", lambda c, d: d.pure_acks),
    ("SYN/FIN/RST", lambda c, d: f"{d.syns}/{d.fins}/{d.rsts}"),
    ("duplicate ACKs", lambda c, d: d.duplicate_acks),
    ("zero windows", lambda c, d: d.zero_windows),
    ("largest window", lambda c, d: d.max_window),
    ("RTT samples", lambda c, d: d.rtt_samples),
    ("RTT min", lambda c, d: _ms(d.rtt_min)),
    ("RTT mean", lambda c, d: _ms(d.rtt_mean)),
    ("RTT max", lambda c, d: _ms(d.rtt_max)),
    ("throughput", lambda c, d: _rate(c.throughput(d))),
]


def describe(conn: ConnectionStats) -> list[str]:
    """One connection's block: a row per statistic, a column per direction."""
    complete = "yes" if conn.complete else "no"
    lines = [
        "",
        f"TCP connection {conn.stream}: {conn.a} - {conn.b}",
        f"  complete conn: {complete}   duration: {conn.duration:.6f} s   "
        f"handshake RTT: {_ms(conn.handshake_rtt)}",
        f"  {'':24}{'a->b':>16}{'b->a':>16}",
    ]
    for label, value in ROWS:
        lines.append(
            f"  {label + ':':24}{value(conn, conn.a_to_b)!s:>16}{value(conn, conn.b_to_a)!s:>16}"
        )
    return lines
