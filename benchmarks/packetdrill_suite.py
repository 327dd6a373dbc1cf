"""How much of packetdrill's own TCP suite the model passes.

    python benchmarks/packetdrill_suite.py PATH [--folders blocking close ...]

PATH is a checkout of google/packetdrill (nothing is fetched). For each folder of
``gtests/net/tcp/`` it runs every script against the model and prints how many pass, fail
(the model did something else) and are unsupported (the script needs something the model does
not have), then the reasons for the unsupported ones, most common first. A benchmark, not a
test: the scripts are GPL and stay outside the repository.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

from headerkit.errors import ScriptError, ScriptMismatch, ScriptUnsupported
from headerkit.packetdrill import read_script, run_script

DEFAULT_FOLDERS = (
    "blocking",
    "close",
    "shutdown",
    "slow_start",
    "fast_retransmit",
    "fast_recovery",
    "nagle",
    "mss",
    "sack",
    "limited_transmit",
    "cwnd_moderation",
    "user_timeout",
)


def classify(path: Path) -> tuple[str, str]:
    """``("pass" | "fail" | "unsupported" | "unreadable", why)`` for one script."""
    try:
        run_script(read_script(path))
    except ScriptUnsupported as err:
        return "unsupported", err.feature
    except ScriptMismatch as err:
        return "fail", err.reason.splitlines()[0]
    except ScriptError as err:
        return "unreadable", err.reason
    return "pass", ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a packetdrill checkout")
    parser.add_argument("--folders", nargs="*", help="folders of gtests/net/tcp (default: all)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per script")
    args = parser.parse_args(argv)
    root = args.checkout / "gtests" / "net" / "tcp"
    if not root.is_dir():
        print(f"packetdrill_suite: no gtests/net/tcp under {args.checkout}", file=sys.stderr)
        return 2
    folders = args.folders or sorted(p.name for p in root.iterdir() if p.is_dir())
    reasons: collections.Counter[str] = collections.Counter()
    totals: collections.Counter[str] = collections.Counter()
    print("| folder | scripts | pass | fail | unsupported |")
    print("|---|---:|---:|---:|---:|")
    for folder in folders:
        counts: collections.Counter[str] = collections.Counter()
        for script in sorted((root / folder).rglob("*.pkt")):
            verdict, why = classify(script)
            counts[verdict] += 1
            if verdict in ("unsupported", "unreadable"):
                reasons[re.sub(r"\d+", "N", why)] += 1
            if args.verbose:
                print(f"  {verdict:11} {script.relative_to(root)} {why}", file=sys.stderr)
        n = sum(counts.values())
        unsupported = counts["unsupported"] + counts["unreadable"]
        print(f"| {folder} | {n} | {counts['pass']} | {counts['fail']} | {unsupported} |")
        totals.update(counts)
    n = sum(totals.values())
    unsupported = totals["unsupported"] + totals["unreadable"]
    print(f"| **all** | {n} | {totals['pass']} | {totals['fail']} | {unsupported} |")
    print("\nwhy unsupported:")
    for why, count in reasons.most_common():
        print(f"  {count:4d}  {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
