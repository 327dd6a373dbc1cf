"""``headerkit packetdrill SCRIPT.pkt``: run a packetdrill script against the model.

Exit status: 0 when the script passes, 1 at the first line the model does not follow, 3 when
the script needs something the model does not have (named), 2 for a script that cannot be
read or a bad argument.
"""

from __future__ import annotations

import argparse
import sys

from headerkit.errors import ScriptError, ScriptMismatch, ScriptUnsupported
from headerkit.sim.tcp.profiles import PROFILES

UNSUPPORTED = 3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "packetdrill",
        help="run a packetdrill script against the model",
        description="Play a packetdrill script (system calls, injected and expected segments) "
        "against the simulator's TCP endpoint. Exit 0: passed; 1: the model did "
        "something else; 3: the script needs something the model does not have.",
    )
    p.add_argument("script", nargs="+", help="packetdrill .pkt file(s)")
    p.add_argument("--trace", action="store_true", help="print the model's timeline")
    p.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="linux",
        help="the stack the model behaves as (default linux, as the kernel packetdrill drives)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from headerkit.packetdrill import read_script, run_script, trace_lines

    worst = 0
    for path in args.script:
        try:
            steps = run_script(read_script(path), profile=args.profile)
        except ScriptUnsupported as err:
            print(f"headerkit packetdrill: {err}", file=sys.stderr)
            worst = max(worst, UNSUPPORTED)
            continue
        except ScriptMismatch as err:
            print(f"headerkit packetdrill: {err}", file=sys.stderr)
            worst = max(worst, 1) if worst != UNSUPPORTED else worst
            continue
        except ScriptError as err:
            print(f"headerkit packetdrill: {err}", file=sys.stderr)
            worst = max(worst, 2)
            continue
        if args.trace:
            print("\n".join(trace_lines(steps)))
        print(f"{path}: passed ({len(steps)} lines)")
    return worst
