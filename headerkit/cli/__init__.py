"""``headerkit`` command line: one module per subcommand, each with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from headerkit.cli import (
    capture,
    craft,
    decode,
    experiment,
    flows,
    follow,
    packetdrill,
    plot,
    replay,
    simulate,
)

SUBCOMMANDS = (
    decode,
    flows,
    follow,
    plot,
    simulate,
    replay,
    packetdrill,
    craft,
    capture,
    experiment,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headerkit",
        description="Decode, craft and simulate TCP and UDP at the level of their headers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
