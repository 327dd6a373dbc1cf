"""``headerkit simulate``: replay send()/recv() calls against modeled TCP (or UDP)."""

from __future__ import annotations

import argparse
import sys

from headerkit.cli import args as types
from headerkit.framing import framer_factory
from headerkit.sim import Result, ScenarioError, builtin_names, load_scenario, simulate, variants
from headerkit.sim.report import legend, summary, timeline
from headerkit.sim.tcp.profiles import PROFILES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "simulate",
        help="show what TCP does with an application's send()/recv() calls",
        description=(
            "Run a scenario (a built-in name, NAME:VARIANT, or a TOML file) and print its "
            "timeline, packetdrill style, then a summary of send() boundaries against "
            "recv() chunks."
        ),
    )
    parser.add_argument("scenario", nargs="?", help="built-in name[:variant] or TOML path")
    parser.add_argument("--list", action="store_true", help="list the built-in scenarios")
    parser.add_argument(
        "--profile",
        choices=list(PROFILES),
        help="the stack to behave as, in place of the scenario's: "
        + "; ".join(f"{p.name}: {p.description}" for p in PROFILES.values()),
    )
    parser.add_argument("--pcap", metavar="FILE", help="also write the capture to FILE")
    types.add_compress(parser)
    parser.add_argument(
        "--trace",
        action="store_true",
        help="verbose timeline: also each arrival with the receiver's buffer, and blocked calls",
    )
    parser.add_argument("--summary", action="store_true", help="print only the summary")
    parser.add_argument(
        "--absolute",
        action="store_true",
        help="raw sequence and acknowledgment numbers, not relative to each side's ISN",
    )
    parser.add_argument(
        "--legend", action="store_true", help="explain the timeline's notation (alone or first)"
    )
    parser.add_argument(
        "--frame",
        metavar="SPEC",
        help="recover messages from the a -> b recv() chunks with a framer: lines or length:N",
    )
    parser.add_argument(
        "--plot",
        metavar="PNG",
        help="draw to PNG, for TCP: flow control (buffer, rwnd, cwnd, in flight), the usable "
        "window min(cwnd, rwnd) with its binding limit, each side's socket buffers, and the "
        "send()/recv() boundaries of the a -> b direction (UDP: the boundaries)",
    )
    parser.add_argument(
        "--ladder",
        metavar="PNG",
        help="draw the ladder (sequence) diagram to PNG: a slanted arrow per segment, the "
        "states and socket calls beside each timeline; '-' prints it as text",
    )
    parser.set_defaults(run=run)


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".") + "."


def run(args: argparse.Namespace) -> int:
    if args.list:
        for name in builtin_names():
            print(f"{name}: {_first_sentence(load_scenario(name).description)}")
            for variant, text in variants(name).items():
                print(f"  {name}:{variant}: {_first_sentence(text)}")
        return 0
    if args.legend:
        print("\n".join(legend()), end="\n\n" if args.scenario else "\n")
    if not args.scenario:
        if args.legend:
            return 0
        print("headerkit simulate: give a SCENARIO, --list or --legend", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario, profile=args.profile)
    except ScenarioError as exc:
        print(f"headerkit simulate: {exc}", file=sys.stderr)
        return 2
    result = simulate(scenario)
    out = sys.stdout
    if scenario.description:
        out.write(f"# {scenario.name} ({scenario.profile} profile): {scenario.description}\n")
    if not args.summary:
        for line in timeline(result, verbose=args.trace, absolute=args.absolute):
            out.write(line + "\n")
        out.write("\n")
    for line in summary(result):
        out.write(line + "\n")
    if args.frame:
        out.write(_framed(result, args.frame) + "\n")
    if args.pcap:
        from headerkit.sim.pcap import write_pcap

        count = write_pcap(result, args.pcap, args.compress)
        print(f"wrote {count} packets to {args.pcap} (captured at {scenario.capture})")
    if args.plot:
        _plot(result, args.plot)
        print(f"wrote {args.plot}")
    if args.ladder:
        _ladder(result, args.ladder)
    return 0


def _ladder(result: Result, path: str) -> None:
    from headerkit.plots.ladder import draw_ladder, ladder_text, simulation_ladder

    ladder = simulation_ladder(result)
    if path == "-":
        print()
        for line in ladder_text(ladder):
            print(line.rstrip())
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = draw_ladder(ladder)
    ax.figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(ax.figure)
    print(f"wrote {path}")


def _framed(result: Result, spec: str) -> str:
    """The messages a framer recovers from what the receiver's recv() calls returned."""
    framer = framer_factory(spec)()
    messages = [m for chunk in result.streams[1].recvs for m in framer.feed(chunk)]
    shown = " | ".join(repr(m.decode("latin-1")) for m in messages) or "(none)"
    return f"  framed ({spec}):      {shown}"


def _plot(result: Result, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from headerkit.plots import flow_control, simulation_boundaries
    from headerkit.plots.simulation import socket_buffers, usable_window

    if result.scenario.protocol != "tcp":
        fig, ax = plt.subplots(figsize=(10, 3))
        simulation_boundaries(result, ax=ax)
    else:
        fig, axes = plt.subplots(5, 1, figsize=(10, 19), height_ratios=(3, 3, 3, 3, 2))
        flow_control(result, ax=axes[0])
        usable_window(result, ax=axes[1])
        socket_buffers(result, 0, ax=axes[2])
        socket_buffers(result, 1, ax=axes[3])
        simulation_boundaries(result, ax=axes[4])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
