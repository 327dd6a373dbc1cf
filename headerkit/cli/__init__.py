"""``headerkit`` command line: one module per subcommand, each with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from headerkit.cli import (
    capture,
    craft,
    decode,
    experiment,
    explain,
    flows,
    follow,
    packetdrill,
    plot,
    replay,
    simulate,
    stats,
)
from headerkit.errors import (
    BuildError,
    HeaderkitError,
    HeaderkitWarning,
    ScenarioError,
    ScriptError,
    SpecError,
)

SUBCOMMANDS = (
    decode,
    flows,
    follow,
    stats,
    explain,
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


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """headerkit's warnings as one line each, without a source path."""
    if issubclass(category, HeaderkitWarning):
        print(f"headerkit: warning: {message}", file=sys.stderr)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


def main(argv: Sequence[str] | None = None) -> int:
    warnings.simplefilter("once", HeaderkitWarning)  # each distinct warning once
    warnings.showwarning = _show_warning
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except INPUT_ERRORS as err:  # what the user gave cannot be taken: a usage error
        print(f"headerkit {args.command}: {err}", file=sys.stderr)
        return 2
    except (HeaderkitError, OSError) as err:  # a failure at run time
        print(f"headerkit {args.command}: {_described(err)}", file=sys.stderr)
        return 1
    return status


# Errors in what the user asked for (a scenario, a spec, a value a field cannot hold, a
# script): status 2, as argparse gives for a bad option.
INPUT_ERRORS = (ScenarioError, SpecError, BuildError, ScriptError)


def _described(err: BaseException) -> str:
    """An error as one line: an OSError as its reason and the file it is about."""
    if isinstance(err, OSError) and err.strerror:
        where = f": {err.filename}" if err.filename else ""
        return f"{err.strerror}{where}"
    return str(err)


if __name__ == "__main__":
    sys.exit(main())
