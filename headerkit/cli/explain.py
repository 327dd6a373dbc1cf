"""``headerkit explain FILE --frame N``: why tshark flags a segment, in words."""

from __future__ import annotations

import argparse
import sys

from headerkit.cli import args as types
from headerkit.errors import HeaderkitError
from headerkit.flows.explain import Explanation, explain


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "explain",
        help="why tshark flags a segment (retransmission, duplicate ACK, ...), in words",
        description="For each tcp.analysis flag of a frame: the rule as tshark applies it, "
        "the earlier frames it relied on (seq, next seq, ack, window, time), and what the "
        "capture cannot tell.  --stream N explains every flagged frame of that stream.",
    )
    p.add_argument("file", help="a pcap or pcapng file")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--frame", type=types.positive, action="append", help="a frame number")
    which.add_argument("--stream", type=types.count, help="every flagged frame of this stream")
    types.add_reassemble(p, default=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        found = list(explain(types.packets(args), args.frame or (), args.stream))
    except HeaderkitError as err:
        print(f"headerkit: {err}", file=sys.stderr)
        return 1
    missing = sorted(set(args.frame or ()) - {e.frame for e in found})
    if missing:
        print(f"headerkit: no TCP segment in frame {missing[0]} of {args.file}", file=sys.stderr)
        return 1
    if args.stream is not None and not found:
        print(f"no flagged frames in TCP stream {args.stream} of {args.file}")
    for item in found:
        sys.stdout.writelines(f"{line}\n" for line in describe(item))
    return 0


def describe(item: Explanation) -> list[str]:
    flags = ", ".join(item.flags) or "no analysis flags"
    lines = [f"frame {item.frame} (tcp.stream {item.stream}): {flags}"]
    lines += [f"  - {reason}" for reason in item.reasons]
    lines += [f"  ! {caveat}" for caveat in item.caveats]
    return lines
