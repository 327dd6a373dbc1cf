"""``headerkit plot FILE``: a stream's time-sequence graph, or one packet's header anatomy;
``headerkit plot states``: the RFC 9293 state diagram, a connection's paths marked on it."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import Any

from headerkit.captures.decoded import decode_capture
from headerkit.cli import args as types
from headerkit.errors import DecodeError, ReplayError, ScenarioError
from headerkit.flows import FlowTable
from headerkit.packet.decode import Packet
from headerkit.tables.filter import Filter, select


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "plot",
        help="draw a time-sequence graph, a header's anatomy or the state diagram to PNG",
        description="Draw the time-sequence graph of a TCP stream, or with --frame the "
        "TCP/UDP header of one packet as the RFC's 32-bit rows. 'headerkit plot states' "
        "draws the RFC 9293 state diagram from headerkit's transition table; --highlight "
        "marks the path each side of a connection took (a capture with --stream N, or a "
        "built-in scenario or TOML file).",
    )
    p.add_argument("file", help="a pcap or pcapng file, or 'states'")
    p.add_argument(
        "--highlight",
        metavar="FILE_OR_SCENARIO",
        help="with 'states': mark the path each side took in this capture's --stream, or "
        "in this scenario",
    )
    p.add_argument("--stream", type=types.count, default=0, help="TCP stream index (tcp.stream)")
    p.add_argument(
        "--direction",
        type=int,
        choices=(0, 1),
        help="0: from the stream's first sender, 1: towards it (default: the busier one)",
    )
    p.add_argument("--frame", type=types.positive, help="draw this packet's header instead")
    p.add_argument(
        "--ladder",
        action="store_true",
        help="draw the stream's ladder (sequence) diagram instead; with -o - print it as text",
    )
    p.add_argument("-o", "--output", required=True, help="the PNG to write")
    types.add_filter(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from headerkit.plots import header_anatomy, time_sequence

    try:
        if args.file == "states" and not os.path.exists(args.file):
            ax = _state_diagram(args.highlight, args.stream)
            ax.figure.savefig(args.output, dpi=100, bbox_inches="tight")
            print(f"wrote {args.output}")
            return 0
        if args.ladder:
            return _ladder(args.file, args.stream, args.output, args.filter)
        packets = list(_selected(args.file, args.filter))
        if args.frame is not None:
            pkt = next((p for p in packets if p.number == args.frame), None)
            if pkt is None:
                raise ValueError(f"there is no frame {args.frame}")
            ax = header_anatomy(pkt, "tcp" if pkt.tcp is not None else "udp")
        else:
            ax = time_sequence(packets, args.stream, args.direction)
    except (DecodeError, ReplayError, ScenarioError, OSError, ValueError) as err:
        print(f"headerkit plot: {err}", file=sys.stderr)
        return 1
    ax.figure.savefig(args.output, dpi=100, bbox_inches="tight")
    print(f"wrote {args.output}")
    return 0


def _selected(path: str, chosen: Filter | None) -> Iterable[Packet]:
    packets = decode_capture(path)
    return packets if chosen is None else select(packets, chosen)


def _ladder(path: str, stream: int, output: str, chosen: Filter | None) -> int:
    from headerkit.plots.ladder import capture_ladder, draw_ladder, ladder_text

    ladder = capture_ladder(_selected(path, chosen), stream)
    if output == "-":
        for line in ladder_text(ladder):
            print(line.rstrip())
        return 0
    ax = draw_ladder(ladder)
    ax.figure.savefig(output, dpi=100, bbox_inches="tight")
    print(f"wrote {output}")
    return 0


def _state_diagram(highlight: str | None, stream: int) -> Any:
    """The state diagram, with the paths of a capture's stream or a scenario's sides."""
    from headerkit.plots.states import state_diagram

    if highlight is None:
        return state_diagram()
    if highlight.endswith(".toml") or not os.path.exists(highlight):
        from headerkit.sim import load_scenario, simulate

        result = simulate(load_scenario(highlight))
        paths = {"a (connects)": result.paths[0], "b (listens)": result.paths[1]}
        return state_diagram(paths, title=f"TCP states in the scenario {highlight}")
    table = FlowTable()
    for pkt in decode_capture(highlight):
        table.add(pkt)
    flow = next((f for f in table.tcp if f.index == stream), None)
    if flow is None or flow.connection is None:
        raise ValueError(f"{highlight} has no TCP stream {stream}")
    conn = flow.connection
    paths = {f"A {flow.a}": conn.path(0), f"B {flow.b}": conn.path(1)}
    return state_diagram(paths, title=f"TCP states in stream {stream} of {highlight}")
