"""``headerkit plot FILE``: a stream's time-sequence graph, or one packet's header anatomy."""

from __future__ import annotations

import argparse
import sys

from headerkit.captures.decoded import decode_capture
from headerkit.cli import args as types
from headerkit.errors import DecodeError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "plot",
        help="draw a time-sequence graph (or a header's anatomy) to PNG",
        description="Draw the time-sequence graph of a TCP stream, or with --frame the "
        "TCP/UDP header of one packet as the RFC's 32-bit rows.",
    )
    p.add_argument("file", help="a pcap or pcapng file")
    p.add_argument("--stream", type=types.count, default=0, help="TCP stream index (tcp.stream)")
    p.add_argument(
        "--direction",
        type=int,
        choices=(0, 1),
        help="0: from the stream's first sender, 1: towards it (default: the busier one)",
    )
    p.add_argument("--frame", type=types.positive, help="draw this packet's header instead")
    p.add_argument("-o", "--output", required=True, help="the PNG to write")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from headerkit.plots import header_anatomy, time_sequence

    try:
        packets = list(decode_capture(args.file))
        if args.frame is not None:
            pkt = next((p for p in packets if p.number == args.frame), None)
            if pkt is None:
                raise ValueError(f"there is no frame {args.frame}")
            ax = header_anatomy(pkt, "tcp" if pkt.tcp is not None else "udp")
        else:
            ax = time_sequence(packets, args.stream, args.direction)
    except (DecodeError, OSError, ValueError) as err:
        print(f"headerkit plot: {err}", file=sys.stderr)
        return 1
    ax.figure.savefig(args.output, dpi=100, bbox_inches="tight")
    print(f"wrote {args.output}")
    return 0
