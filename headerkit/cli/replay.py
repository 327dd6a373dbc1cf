"""``headerkit replay FILE --stream N``: infer a scenario from a captured TCP stream, run it,
and put the model beside the capture; ``--set``/``--drop`` add a what-if run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from headerkit.cli import args as types
from headerkit.errors import HeaderkitError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "replay",
        help="infer a scenario from a captured TCP stream, replay it, ask what-if",
        description="Infer from a captured TCP stream the path (delay, bandwidth, losses), "
        "the endpoints (MSS, buffers, window scaling, Nagle, delayed ACK) and the "
        "applications' calls; run that scenario in the simulator and print the model beside "
        "the capture. --set and --drop run a what-if beside them.",
    )
    p.add_argument("file", help="a pcap or pcapng file")
    p.add_argument("--stream", type=types.count, default=0, help="TCP stream index (tcp.stream)")
    p.add_argument("--scenario-out", metavar="FILE", help="write the inferred scenario (TOML)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="what-if setting: rcvbuf=65536, b.delayed_ack=false, delay=0.05, loss=0.01 ...",
    )
    p.add_argument(
        "--drop",
        action="append",
        type=types.positive,
        default=[],
        metavar="N",
        help="what-if: drop the sender's Nth data segment (repeatable)",
    )
    p.add_argument("--plot", metavar="PNG", help="draw capture, replay and what-if together")
    p.set_defaults(run=run)


def _settings(pairs: list[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise argparse.ArgumentTypeError(f"--set {pair!r}: expected KEY=VALUE")
        settings[key.strip()] = value.strip()
    return settings


def run(args: argparse.Namespace) -> int:
    from headerkit.replay import replay, to_toml

    try:
        settings = _settings(args.set)
        result = replay(args.file, args.stream, settings=settings, drops=args.drop)
    except argparse.ArgumentTypeError as err:
        print(f"headerkit replay: {err}", file=sys.stderr)
        return 2
    except (HeaderkitError, OSError) as err:
        print(f"headerkit replay: {err}", file=sys.stderr)
        return 1
    inference = result.inference
    print(f"stream {args.stream} of {args.file}: {_described(inference.scenario)}")
    print(f"capture point: next to {'the opener (a)' if inference.capture == 'a' else 'b'}")
    for note in inference.notes:
        print(f"note: {note}")
    print()
    print("\n".join(result.table()))
    if args.scenario_out:
        Path(args.scenario_out).write_text(to_toml(inference.scenario))
        print(f"\nwrote the scenario to {args.scenario_out}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from headerkit.plots.replay import replay_time_sequence

        runs = {"capture": result.capture, "replay": result.model}
        if result.what_if is not None:
            runs["what-if"] = result.what_if
        ax = replay_time_sequence(runs)
        ax.figure.savefig(args.plot, dpi=100, bbox_inches="tight")
        print(f"wrote {args.plot}")
    return 0


def _described(table: dict[str, Any]) -> str:
    path = table.get("path", {})
    a, b = table.get("a", {}), table.get("b", {})
    bandwidth = path.get("bandwidth", 0)
    parts = [
        f"delay {path.get('delay', 0) * 1000:.1f} ms each way",
        f"bandwidth {bandwidth / 1e6:g} Mbit/s" if bandwidth else "bandwidth unlimited",
        f"MSS {a.get('mss')}/{b.get('mss')}",
        f"rcvbuf {a.get('rcvbuf')}/{b.get('rcvbuf')}",
    ]
    drops = [r for d in ("a_to_b", "b_to_a") for r in path.get(d, {}).get("rules", [])]
    if drops:
        parts.append(f"{sum(len(r['nth']) for r in drops)} drop(s)")
    return ", ".join(parts)
